"""The agency's self-service reports a need completed; a caller who did not complete it is
offered a callback by SMS and books it by replying CALL (through the real webhook)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from router.domain.callbacks import Callback
from router.domain.model import Contact, ContactState
from router.entrypoints.auth import create_token, create_user
from tests.integration import sms_support
from tests.integration.sms_support import new_number, wait_for

pytestmark = pytest.mark.integration
live = sms_support.live
URL = "/api/v1/events/digital-completion"


def deflected_call(kanal, pseudonym: str, need: str = "payment_date") -> int:
    """A finished call whose caller took the digital route; return the contact id."""
    now = datetime.now(UTC)
    with kanal.uow() as uow:
        citizen = uow.citizens.by_pseudonym(pseudonym)
        contact = uow.contacts.add(
            Contact(channel="voice", address=citizen.phone or "anonymous", opened_at=now,
                    state=ContactState.CLOSED, closed_at=now, citizen_id=citizen.id,
                    need=need, last_activity_at=now)
        )  # fmt: skip
        uow.commit()
        return contact.id


@pytest.fixture
def token(kanal):
    create_user(kanal.uow, "portal", "correct horse", "integration")
    return {"Authorization": "Bearer " + create_token(kanal.uow, "portal", "portal")}


def test_a_completion_closes_the_follow_up_so_no_offer_is_sent(client, kanal, add_citizen, token):
    pseudonym = add_citizen("+4520004001")
    contact_id = deflected_call(kanal, pseudonym)
    followup_id = kanal.followups.schedule(contact_id, "payment_date")
    answer = client.post(URL, json={"citizen": pseudonym, "need": "payment_date"}, headers=token)
    assert answer.status_code == 200
    assert answer.get_json() == {
        "recorded": True, "citizen": pseudonym, "need": "payment_date", "followups_closed": 1
    }  # fmt: skip
    with kanal.uow() as uow:
        uow.followups.get(followup_id).due_at = datetime.now(UTC) - timedelta(seconds=1)
        uow.commit()
    assert kanal.followups.run(followup_id) == "settled"
    by_contact = client.post(URL, json={"contact_id": contact_id, "need": "x"}, headers=token)
    assert by_contact.get_json()["followups_closed"] == 0


def test_only_an_integration_token_reports_completions(client, kanal, staff):
    assert client.post(URL, json={"citizen": "c", "need": "x"}).status_code == 401
    staff("agent1", "agent")
    agent = {"Authorization": "Bearer " + create_token(kanal.uow, "mine", "agent1")}
    refused = client.post(URL, json={"citizen": "c", "need": "x"}, headers=agent)
    assert refused.status_code == 403 and "integration" in refused.get_json()["error"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ("not json", None, "JSON object"),
        ([1, 2], None, "JSON object"),
        ({"need": "payment_date"}, "citizen", "Name the citizen"),
        ({"citizen": "c1", "need": "Payment Date"}, "need", "lower-case"),
        ({"citizen": "c1"}, "need", "`need`"),
        ({"citizen": 7, "need": "x"}, "citizen", "pseudonymous id"),
        ({"contact_id": "7", "need": "x"}, "contact_id", "integer"),
        ({"contact_id": 2**63, "need": "x"}, "contact_id", "64 bits"),
        ({"contact_id": True, "need": "x"}, "contact_id", "integer"),
        ({"citizen": "c1", "need": "x", "when": "now"}, None, "Unknown field 'when'"),
    ],
)
def test_bad_bodies_are_refused_saying_what_is_wrong(client, token, body, field, words):
    if isinstance(body, str):
        answer = client.post(URL, data=body, headers={**token, "Content-Type": "text/plain"})
    else:
        answer = client.post(URL, json=body, headers=token)
    assert answer.status_code == 400
    assert words in answer.get_json()["error"]
    assert answer.get_json().get("field") == field


def test_naming_someone_kanal_does_not_know_is_404(client, token):
    unknown = client.post(URL, json={"citizen": "c_nobody", "need": "x"}, headers=token)
    assert unknown.status_code == 404 and "pseudonymous" in unknown.get_json()["error"]
    assert client.post(URL, json={"contact_id": 999, "need": "x"}, headers=token).status_code == 404


def test_the_offer_goes_by_sms_and_a_reply_of_call_books_the_callback(live):
    kanal = live.kanal
    number = new_number()
    from router.domain.citizens import pseudonym_for
    from router.domain.model import Citizen
    from tests.conftest import SECRET

    with kanal.uow() as uow:
        uow.citizens.add(
            Citizen(pseudonym=pseudonym_for(SECRET, number), phone=number, language="en",
                    created_at=datetime.now(UTC))
        )  # fmt: skip
        uow.commit()
    contact_id = deflected_call(kanal, pseudonym_for(SECRET, number))
    followup_id = kanal.followups.schedule(contact_id, "payment_date")
    with kanal.uow() as uow:
        uow.followups.get(followup_id).due_at = datetime.now(UTC)
        uow.commit()
    assert kanal.followups.run(followup_id) == "offered"
    offer = wait_for(lambda: live.outbox(number), what="the offer in the sandbox outbox")[0]
    assert "reply CALL" in offer["body"]
    assert live.text(number, "CALL").status_code == 200
    confirmation = wait_for(
        lambda: [m for m in live.outbox(number) if m["body"].startswith("Thank you")],
        what="the confirmation",
    )
    assert len(confirmation) == 1
    with kanal.uow() as uow:
        followup = uow.followups.get(followup_id)
        callback = uow.callbacks.get(followup.callback_id)
        assert followup.state == "accepted"
        assert isinstance(callback, Callback) and callback.reason == "digital_not_completed"
        assert uow.contacts.get(callback.contact_id).state == "queued"
