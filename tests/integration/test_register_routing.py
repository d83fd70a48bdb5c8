"""Once-only: a citizen imported as exempt is served by a person from the first message."""

from datetime import date

import pytest

from router.adapters.register import import_csv
from router.domain.citizens import pseudonym_for
from router.domain.commands import ReceiveMessage, StartChat
from tests.conftest import SECRET

pytestmark = pytest.mark.integration

REGISTER = (
    "national_id,name,phone,birth_year,exemption_ground,exemption_from,exemption_until\n"
    "0101401234,Inge Hansen,20 11 22 33,1940,impairment,,\n"
    "0202851234,Jonas Berg,20 44 55 66,1985,,,\n"
)


@pytest.fixture
def imported(kanal, tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(REGISTER, encoding="utf-8")
    report = import_csv(kanal.uow, path, SECRET, "clerk", today=date.today())
    assert report.ok, report.errors


def decisions(kanal, contact_id):
    with kanal.uow() as uow:
        return [(d.rule_id, d.action, d.reason) for d in uow.decisions.for_contact(contact_id)]


def test_an_imported_exempt_citizen_texting_in_is_queued_with_the_rule_and_reason(kanal, imported):
    # The number as Twilio sends it: E.164, which the import stored from "20 11 22 33".
    turn = kanal.turns.receive(
        ReceiveMessage(channel="sms", address="+4520112233", text="hej", provider_id="SM1")
    )

    assert turn.state == "queued"
    rule_id, action, reason = decisions(kanal, turn.contact_id)[0]
    assert (rule_id, action) == ("exempt-to-person", "assisted")
    assert reason.startswith("Registered exemption from digital self-service")
    assert "impairment" in reason and "served by a person" in reason


def test_an_imported_citizen_without_exemption_gets_the_digital_assistant(kanal, imported):
    turn = kanal.turns.receive(
        ReceiveMessage(channel="sms", address="+4520445566", text="hello", provider_id="SM2")
    )

    assert turn.state == "bot"
    assert all(action != "assisted" for _, action, _ in decisions(kanal, turn.contact_id))


def test_an_imported_exempt_citizen_signed_in_on_web_chat_is_queued(kanal, imported):
    contact_id = kanal.turns.start_chat(
        StartChat(secret_hash="x" * 64, citizen_pseudonym=pseudonym_for(SECRET, "0101401234")),
        address="session-1",
    )

    turn = kanal.turns.receive(
        ReceiveMessage(channel="webchat", address="session-1", text="hi", contact_id=contact_id)
    )

    assert turn.state == "queued"
    assert decisions(kanal, contact_id)[0][0] == "exempt-to-person"
