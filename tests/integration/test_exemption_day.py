"""An exemption applies from the first minute of its day in the agency's time zone, on both
databases: the register's dates are Danish calendar days, not UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from router.domain import events as ev
from router.domain.model import Exemption
from tests.integration.metrics_support import Citizen, Clock, clocked_app

pytestmark = pytest.mark.integration

# 00:30 on Monday 2 March 2026 in Copenhagen (UTC+1): still Sunday 1 March in UTC.
HALF_PAST_MIDNIGHT = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)


@pytest.fixture
def clock():
    return Clock(HALF_PAST_MIDNIGHT)


@pytest.fixture
def app(app_config, bot, clock):
    yield from clocked_app(app_config, bot, clock)  # Denmark's policy, always open


def exempt_from(kanal, pseudonym: str, first_day: date, last_day: date | None = None) -> None:
    with kanal.uow() as uow:
        citizen = uow.citizens.by_pseudonym(pseudonym)
        uow.citizens.add_exemption(
            Exemption(citizen_id=citizen.id, ground="impairment", valid_from=first_day,
                      valid_until=last_day, registered_by="municipality")
        )  # fmt: skip
        uow.commit()


def test_an_exemption_from_today_reaches_a_person_just_after_local_midnight(
    kanal, add_citizen, bot
):
    inge = add_citizen(phone="+4522000001")
    exempt_from(kanal, inge, date(2026, 3, 2))
    contact_id = Citizen(kanal.turns, inge, "+4522000001").text("sms", "When is my pension paid?")
    decision = kanal.views.conversation(contact_id).decisions[0]
    # Before, the UTC date (1 March) was used: not exempt yet, and the bot answered her.
    assert decision.rule_id == "exempt-to-person"
    assert bot.turns == []


def test_an_exemption_from_tomorrow_does_not_apply_yet(kanal, add_citizen, bot):
    bo = add_citizen(phone="+4522000002")
    exempt_from(kanal, bo, date(2026, 3, 3))
    contact_id = Citizen(kanal.turns, bo, "+4522000002").text("sms", "When is my pension paid?")
    decisions = kanal.views.conversation(contact_id).decisions
    assert [d.rule_id for d in decisions if d.rule_id == "exempt-to-person"] == []
    assert bot.turns  # the bot answered him


def identified(kanal, contact_id: int) -> dict:
    """What the contact's `citizen_identified` event recorded when it opened."""
    with kanal.uow() as uow:
        found = [
            e.data for e in uow.events.for_contact(contact_id) if e.type == ev.CITIZEN_IDENTIFIED
        ]
    (data,) = found
    return data


def test_a_call_just_after_local_midnight_is_recorded_exempt(kanal, add_citizen):
    # The `citizen_identified` event the managers' figures count exemptions by: before, the
    # UTC date (1 March) was used, and the call was recorded as not exempt.
    ida = add_citizen(phone="+4522000003")
    exempt_from(kanal, ida, date(2026, 3, 2))
    contact_id = kanal.calls.answer("CA" + "3" * 32, "+4522000003").contact_id
    data = identified(kanal, contact_id)
    assert (data["exempt"], data["grounds"]) == (True, ["impairment"])


def test_the_desk_shows_an_exemption_from_today_as_valid_just_after_local_midnight(
    kanal, add_citizen
):
    # Registered for 2 March only: valid at 00:30 that day in Copenhagen, on the desk's clock.
    jens = add_citizen(phone="+4522000004")
    exempt_from(kanal, jens, date(2026, 3, 2), date(2026, 3, 2))
    contact_id = kanal.calls.answer("CA" + "4" * 32, "+4522000004").contact_id
    (exemption,) = kanal.views.conversation(contact_id).citizen.exemptions
    assert exemption.valid_now  # before: "Not valid today" (the UTC date, 1 March)
    assert kanal.views.conversation(contact_id).citizen.exempt
