"""What a contact records as the conversation goes: each method keeps its event (collected
by the unit of work for the log) and the little state that goes with it."""

from datetime import UTC, datetime

import pytest

from router.domain import events as ev
from router.domain.model import Contact, ContactState, IllegalTransition

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


def contact(state: ContactState = ContactState.BOT) -> Contact:
    return Contact(channel="sms", address="+4520000001", opened_at=NOW, state=state, id=4)


def recorded(c: Contact) -> list[tuple[str, dict]]:
    return [(e.type, e.data) for e in c.collect_events()]


def test_an_identified_citizens_contact_records_the_opening_then_who_it_is():
    c = contact()
    c.opened(NOW, grounds=("impairment",), age_band="75+")
    assert recorded(c) == [
        (ev.CONTACT_OPENED, {}),
        (ev.CITIZEN_IDENTIFIED, {"exempt": True, "grounds": ["impairment"], "age_band": "75+"}),
    ]
    c.opened(NOW)
    assert recorded(c) == [(ev.CONTACT_OPENED, {})]


def test_a_message_received_is_activity():
    c = contact()
    c.received(9, NOW, input="speech", confidence=0.8)
    assert c.last_activity_at == NOW
    assert recorded(c) == [
        (ev.MESSAGE_RECEIVED, {"message_id": 9, "input": "speech", "confidence": 0.8})
    ]


def test_the_bot_answering_resets_the_failures_and_keeps_the_need():
    c = contact()
    c.heard_from_bot(NOW, need=None, intent="nlu_fallback", confidence=0.2, error=None, failures=1)
    assert (c.bot_failures, c.need) == (1, None)
    c.heard_from_bot(NOW, need="pension", intent="payment_date", confidence=0.9, error=None,
                     failures=0)  # fmt: skip
    c.heard_from_bot(NOW, need=None, intent="greet", confidence=0.9, error=None, failures=0)
    assert (c.bot_failures, c.need) == (0, "pension")
    assert [t for t, _ in recorded(c)] == [ev.BOT_FAILED, ev.BOT_ANSWERED, ev.BOT_ANSWERED]


def test_offering_the_digital_route_is_remembered():
    c = contact()
    c.offer_digital(NOW, "offer_digital_first")
    assert c.digital_offered
    assert recorded(c) == [(ev.DIGITAL_OFFERED, {"rule_id": "offer_digital_first"})]


def test_consent_changes_are_recorded_by_keyword():
    c = contact()
    c.consent_changed(NOW, opted_in=False, keyword="STOP")
    c.consent_changed(NOW, opted_in=True, keyword="START")
    assert recorded(c) == [
        (ev.SMS_OPT_OUT, {"keyword": "STOP"}),
        (ev.SMS_OPT_IN, {"keyword": "START"}),
    ]


def test_only_the_agent_of_an_assigned_contact_replies():
    c = contact(ContactState.ASSIGNED)
    c.agent_replied(NOW, message_id=12, agent_id=5, first=True)
    assert c.last_activity_at == NOW
    assert recorded(c) == [(ev.AGENT_REPLIED, {"message_id": 12, "agent_id": 5, "first": True})]
    for state in (ContactState.BOT, ContactState.QUEUED, ContactState.CLOSED):
        with pytest.raises(IllegalTransition):
            contact(state).agent_replied(NOW, message_id=12, agent_id=5, first=True)


def test_a_closed_contact_is_not_handed_off():
    with pytest.raises(IllegalTransition):
        contact(ContactState.CLOSED).hand_off(NOW, rule_id="r", reason="x")
    c = contact()
    c.hand_off(NOW, rule_id="r", reason="asked", from_bot=True, callback=False)
    assert [t for t, _ in recorded(c)] == [ev.HANDED_OFF]
