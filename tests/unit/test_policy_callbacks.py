"""The policy's callback on written channels: booked to the phone the register knows.

A citizen writing in (web chat, SMS) for whom the policy chooses a callback is called back
by the callbacks' scheduler, on the phone number the register has for them, and told when
in their language; without a phone number the callback cannot be made and the citizen is
told so and waits for a person in writing. Runs on fakes (tests/fakes.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from router.domain import events as ev
from router.domain.callbacks import Callback
from router.domain.calls import Call
from router.domain.commands import ReceiveMessage, StartChat
from tests.fakes import fake_kanal

pytestmark = pytest.mark.unit

PHONE = "+4520000001"
ASK = "I want to talk to a person"
# The fake clock's Tuesday 11:00 in Copenhagen, moved to 23:00: closed until Wednesday 08:00.
WEDNESDAY_OPENING = datetime(2025, 3, 5, 7, 0, tzinfo=UTC)


def closed():
    k = fake_kanal()
    k.clock.advance(hours=12)
    return k


def chat(k, citizen=None, session="session-1"):
    """Open a web chat (identified when `citizen` is given); return its id and a writer."""
    pseudonym = citizen.pseudonym if citizen is not None else None
    contact_id = k.turns.start_chat(
        StartChat(secret_hash="h", citizen_pseudonym=pseudonym), session
    )

    def write(text):
        return k.turns.receive(ReceiveMessage("webchat", session, text, contact_id=contact_id))

    return contact_id, write


def callbacks(k) -> list[Callback]:
    with k.uow() as uow:
        return uow.callbacks.in_states(("booked", "calling", "answered", "failed", "closed"))


def calls(k, contact_id) -> list[Call]:
    with k.uow() as uow:
        return uow.calls.for_contact(contact_id)


def test_a_chat_citizen_the_policy_calls_back_is_booked_and_told_when():
    k = closed()
    citizen = k.add_citizen(PHONE)
    contact_id, write = chat(k, citizen)
    result = write(ASK)
    assert result.decision.rule_id == "person-requested-out-of-hours"
    [booked] = callbacks(k)
    assert (booked.contact_id, booked.reason, booked.state) == (contact_id, "policy", "booked")
    assert booked.not_before == WEDNESDAY_OPENING
    assert k.jobs.jobs == {f"callback-{booked.id}": ("run_callback", WEDNESDAY_OPENING,
                                                     booked.id)}  # fmt: skip
    [told] = [m.text for m in result.replies]
    assert told.startswith("You asked for a person and we are closed now")
    assert told.endswith(
        "A person will call you on the phone number we have registered for you on Wednesday "
        "from 08:00. You won't need to repeat anything."
    )
    handed = [e for e in k.events(contact_id) if e.type == ev.HANDED_OFF]
    assert handed[0].data["callback"] is True
    assert ev.CALLBACK_BOOKED in k.event_types(contact_id)


def test_the_scheduler_calls_the_citizens_registered_phone_at_opening():
    k = closed()
    k.add_agent(takes_calls=True)
    citizen = k.add_citizen(PHONE)
    contact_id, write = chat(k, citizen)
    write(ASK)
    assert k.jobs.run_due(k.clock()) == [], "nothing is placed while closed"
    k.clock.now = WEDNESDAY_OPENING
    assert k.jobs.run_due(k.clock()) == ["placed"]
    [(to, url, _status)] = k.caller.placed
    assert to == PHONE
    [booked] = callbacks(k)
    assert url == f"https://kanal.test/twilio/voice/callback/{booked.id}"
    answered = k.dialling.answered(booked.id, booked.call_sid)
    assert answered.agent_endpoint is not None
    assert k.contact(contact_id).state == "assigned"


def test_a_danish_citizen_is_told_in_danish():
    k = closed()
    citizen = k.add_citizen(PHONE, language="da")
    _, write = chat(k, citizen)
    [told] = [m.text for m in write("Jeg vil gerne tale med en person").replies]
    assert (
        "ringer til dig på det telefonnummer, vi har registreret for dig, onsdag fra kl. 08:00"
        in told
    )


def test_an_anonymous_chat_cannot_be_called_back_and_waits_for_a_person_here():
    k = closed()
    contact_id, write = chat(k)
    result = write(ASK)
    assert result.decision.rule_id == "person-requested-out-of-hours"
    assert callbacks(k) == [] and k.jobs.jobs == {}
    assert k.contact(contact_id).state == "queued"
    [told] = [m.text for m in result.replies]
    assert "We can't call you back: we have no phone number for you." in told
    assert told.endswith("a person will answer you here as soon as we open. "
                         "You won't need to repeat anything.")  # fmt: skip
    handed = [e for e in k.events(contact_id) if e.type == ev.HANDED_OFF]
    assert (handed[0].data["callback"], handed[0].data["callback_refused"]) == (False, "no_phone")


def test_an_sms_from_a_number_the_register_does_not_know_is_called_back_on_that_number():
    k = closed()
    result = k.turns.receive(ReceiveMessage("sms", PHONE, ASK, provider_id="SM1"))
    [booked] = callbacks(k)
    assert booked.contact_id == result.contact_id
    k.add_agent(takes_calls=True)
    k.clock.now = WEDNESDAY_OPENING
    assert k.jobs.run_due(k.clock()) == ["placed"]
    assert [to for to, _, _ in k.caller.placed] == [PHONE]


def test_a_citizen_with_a_callback_pending_is_not_booked_twice():
    k = closed()
    citizen = k.add_citizen(PHONE)
    _, write = chat(k, citizen, "session-1")
    write(ASK)
    [first] = callbacks(k)
    k.clock.advance(minutes=5)
    _, write_again = chat(k, citizen, "session-2")
    told = write_again(ASK).replies[0].text
    assert callbacks(k) == [first], "the pending callback stands; no second one"
    assert list(k.jobs.jobs) == [f"callback-{first.id}"]
    assert "on Wednesday from 08:00" in told, "told when the pending callback calls"


def test_a_callbacks_outbound_calls_are_the_contacts_calls_too():
    k = closed()
    k.add_agent(takes_calls=True)
    citizen = k.add_citizen(PHONE)
    contact_id, write = chat(k, citizen)
    write(ASK)
    [booked] = callbacks(k)
    k.clock.now = WEDNESDAY_OPENING
    k.jobs.run_due(k.clock())
    first_sid = f"CA{1:032x}"  # the recording caller numbers its calls
    [call] = calls(k, contact_id)
    assert (call.call_sid, call.direction, call.status, call.ended_at) == (
        first_sid, "outbound", "ringing", None)  # fmt: skip
    k.dialling.call_status(booked.id, first_sid, "busy")
    [call] = calls(k, contact_id)
    assert (call.status, call.ended_at) == ("busy", k.clock())
    k.clock.advance(minutes=10)
    k.jobs.run_due(k.clock())
    second_sid = f"CA{2:032x}"
    k.dialling.call_status(booked.id, second_sid, "ringing")
    k.dialling.answered(booked.id, second_sid)
    k.clock.advance(minutes=4)
    k.dialling.call_status(booked.id, second_sid, "completed")
    k.dialling.call_status(booked.id, second_sid, "completed")  # the provider retried
    found = [(c.call_sid, c.status, c.ended_at) for c in calls(k, contact_id)]
    assert found == [
        (first_sid, "busy", WEDNESDAY_OPENING),
        (second_sid, "completed", WEDNESDAY_OPENING + timedelta(minutes=14)),
    ]
