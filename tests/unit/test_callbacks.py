"""Callbacks on fakes: booked in the queue's order, placed when an agent is free, retried a
bounded number of times, then listed as failed for staff to act on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from router.domain import events as ev
from router.domain.model import Contact, ContactState, QueueItem
from router.service.dialling import CallbackSettings
from router.service.errors import Conflict
from router.service.ports import CallResult
from tests.fakes import RecordingCaller, fake_kanal

pytestmark = pytest.mark.unit

SETTINGS = CallbackSettings(
    attempts=3, retry_after=timedelta(minutes=10),
    recheck=timedelta(seconds=20),
)  # fmt: skip


def waiting_call(k, phone="+4520000001", *, language="en", channel="voice"):
    """A caller waiting in kanal's queue for a person; return the contact id."""
    citizen = k.add_citizen(phone, language=language)
    now = k.clock()
    with k.uow() as uow:
        contact = uow.contacts.add(
            Contact(channel=channel, address=phone, opened_at=now, state=ContactState.BOT,
                    citizen_id=citizen.id, need="payment_date", last_activity_at=now)
        )  # fmt: skip
        item = uow.queue.add(
            QueueItem(contact_id=contact.id, skill="payment_date", priority=0, enqueued_at=now)
        )
        contact.enqueue(item)
        uow.commit()
        return contact.id


def make(*outcomes, default="accepted"):
    caller = RecordingCaller(*outcomes, default=default)
    return fake_kanal(caller=caller, callback_settings=SETTINGS)


def callback(k, callback_id):
    with k.uow() as uow:
        return uow.callbacks.get(callback_id)


def test_booking_keeps_the_place_in_the_queue_and_records_the_booking():
    k = make()
    contact_id = waiting_call(k)
    callback_id = k.callbacks.book(contact_id, reason="waited_too_long")
    assert k.contact(contact_id).state == "queued"
    assert k.queue_item(contact_id).state == "waiting"
    booked = [e for e in k.events(contact_id) if e.type == ev.CALLBACK_BOOKED]
    assert booked[0].data == {
        "callback_id": callback_id, "reason": "waited_too_long", "not_before": None
    }  # fmt: skip
    assert k.jobs.due(k.clock()) == [f"callback-{callback_id}"]
    assert k.callbacks.book(contact_id, reason="asked") == callback_id, "one at a time"


def test_an_unknown_reason_is_refused():
    k = make()
    with pytest.raises(ValueError, match="reason must be one of"):
        k.callbacks.book(waiting_call(k), reason="because")


def test_nothing_is_placed_until_an_agent_says_they_take_calls():
    k = make()
    callback_id = k.callbacks.book(waiting_call(k), reason="asked")
    k.add_agent("resting")  # at the desk, not taking calls
    assert k.jobs.run_due(k.clock()) == ["waiting"]
    assert k.caller.placed == []
    assert k.jobs.due(k.clock() + timedelta(seconds=20)) == [f"callback-{callback_id}"]
    agent = k.add_agent("ready", takes_calls=True)
    k.clock.advance(seconds=20)
    assert k.jobs.run_due(k.clock()) == ["placed"]
    to, url, status = k.caller.placed[0]
    assert to == "+4520000001"
    assert url == f"https://kanal.test/twilio/voice/callback/{callback_id}"
    assert status == f"https://kanal.test/twilio/voice/call-status?callback={callback_id}"
    held = callback(k, callback_id)
    assert (held.state, held.agent_id, held.attempts) == ("calling", agent, 1)


def test_a_callback_waits_for_its_time():
    k = make()
    k.add_agent(takes_calls=True)
    later = k.clock() + timedelta(hours=24)  # tomorrow, in opening hours
    callback_id = k.callbacks.book(waiting_call(k), reason="out_of_hours", at=later)
    assert k.jobs.run_due(k.clock()) == []
    assert k.jobs.due(later) == [f"callback-{callback_id}"]
    k.clock.now = later
    assert k.jobs.run_due(k.clock()) == ["placed"]


def test_those_ahead_in_the_queue_are_served_first():
    k = make()
    k.add_agent(takes_calls=True)
    first = waiting_call(k, "+4520000001")
    k.clock.advance(seconds=5)
    second = waiting_call(k, "+4520000002")
    second_cb = k.callbacks.book(second, reason="waited_too_long")
    assert k.jobs.run_due(k.clock()) == ["waiting"], "one agent, one caller ahead"
    k.callbacks.book(first, reason="waited_too_long")
    k.clock.advance(seconds=20)
    outcomes = k.jobs.run_due(k.clock())
    assert sorted(outcomes) == ["placed", "waiting"]
    assert [to for to, _u, _s in k.caller.placed] == ["+4520000001"]
    assert callback(k, second_cb).state == "booked"


def test_an_agent_on_a_call_or_held_for_one_is_busy():
    k = make()
    agent = k.add_agent(takes_calls=True)
    on_call = waiting_call(k, "+4520000003")
    k.callbacks.book(on_call, reason="asked")
    k.jobs.run_due(k.clock())  # rings: the agent is held
    other = k.callbacks.book(waiting_call(k, "+4520000004"), reason="asked")
    assert k.jobs.run_due(k.clock()) == ["waiting"]
    with k.uow() as uow:  # the first citizen answered: the agent holds an open call
        first = uow.callbacks.for_contact(on_call)[0]
    k.dialling.answered(first.id, "CA1")
    assert k.contact(on_call).agent_id == agent
    k.clock.advance(seconds=20)
    assert k.jobs.run_due(k.clock()) == ["waiting"]
    assert callback(k, other).state == "booked"


def test_answering_assigns_the_contact_to_the_held_agent_and_names_the_endpoint():
    k = make()
    agent = k.add_agent(takes_calls=True)
    contact_id = waiting_call(k, language="da")
    callback_id = k.callbacks.book(contact_id, reason="asked")
    k.jobs.run_due(k.clock())
    answered = k.dialling.answered(callback_id, "CA1")
    assert (answered.language, answered.agent_endpoint) == ("da", f"client:agent-{agent}")
    contact = k.contact(contact_id)
    assert (contact.state, contact.agent_id) == ("assigned", agent)
    assert callback(k, callback_id).state == "answered"
    types = k.event_types(contact_id)
    assert types.index(ev.AGENT_ASSIGNED) < types.index(ev.CALLBACK_ANSWERED)
    again = k.dialling.answered(callback_id, "CA1")  # Twilio fetched the URL twice
    assert again.agent_endpoint == f"client:agent-{agent}"
    assert k.dialling.answered(999, "CA9") is None


def test_a_call_not_answered_is_retried_then_listed_as_failed():
    k = make()
    k.add_agent(takes_calls=True)
    contact_id = waiting_call(k)
    callback_id = k.callbacks.book(contact_id, reason="waited_too_long")
    for attempt, status in enumerate(("busy", "no-answer", "failed"), start=1):
        assert k.jobs.run_due(k.clock()) == ["placed"]
        sid = f"CA{attempt:032x}"  # the recording caller numbers its calls
        state = k.dialling.call_status(callback_id, sid, status)
        assert state == ("booked" if attempt < 3 else "failed")
        if attempt < 3:
            assert k.jobs.run_due(k.clock() + timedelta(minutes=9)) == [], "not before 10 min"
            k.clock.advance(minutes=10)
    assert len(k.caller.placed) == 3
    failed = k.callback_desk.failed()
    assert [(c.id, c.attempts, c.last_status) for c in failed] == [(callback_id, 3, "failed")]
    assert k.event_types(contact_id).count(ev.CALLBACK_NOT_ANSWERED) == 3
    assert k.event_types(contact_id).count(ev.CALLBACK_FAILED) == 1
    assert k.contact(contact_id).state == "queued", "still in the queue: nobody is lost"


def test_late_statuses_and_progress_do_not_move_a_callback():
    k = make()
    k.add_agent(takes_calls=True)
    callback_id = k.callbacks.book(waiting_call(k), reason="asked")
    k.jobs.run_due(k.clock())
    sid = f"CA{1:032x}"
    assert k.dialling.call_status(callback_id, sid, "ringing") == "calling"
    assert k.dialling.call_status(callback_id, "CAother", "busy") == "calling", "another call"
    k.dialling.answered(callback_id, sid)
    assert k.dialling.call_status(callback_id, sid, "completed") == "answered"
    assert k.dialling.call_status(4242, sid, "busy") is None


def test_a_number_the_provider_refuses_fails_at_once():
    k = make(CallResult("rejected", error_code="21217", error="invalid"))
    k.add_agent(takes_calls=True)
    callback_id = k.callbacks.book(waiting_call(k), reason="asked")
    assert k.jobs.run_due(k.clock()) == ["failed"]
    assert callback(k, callback_id).last_status == "rejected"


def test_a_provider_outage_is_retried_without_losing_the_callback():
    k = make("retry", ConnectionError("boom"))
    k.add_agent(takes_calls=True)
    callback_id = k.callbacks.book(waiting_call(k), reason="asked")
    assert k.jobs.run_due(k.clock()) == ["waiting"]
    assert callback(k, callback_id).state == "booked"
    k.clock.advance(minutes=10)
    assert k.jobs.run_due(k.clock()) == ["placed"], "an adapter error: maybe ringing"
    assert callback(k, callback_id).state == "calling"


def test_staff_call_a_failed_callback_again_or_close_it_with_a_note():
    k = make(default="rejected")
    agent = k.add_agent(takes_calls=True)
    first, second = waiting_call(k, "+4520000005"), waiting_call(k, "+4520000006")
    one = k.callbacks.book(first, reason="asked")
    two = k.callbacks.book(second, reason="asked")
    k.jobs.run_due(k.clock())
    k.jobs.run_due(k.clock() + timedelta(seconds=30))
    assert {c.id for c in k.callback_desk.failed()} == {one, two}
    with pytest.raises(Conflict, match="Write a note"):
        k.callback_desk.close(one, agent, "  ")
    k.caller.default = "accepted"
    k.callback_desk.call_again(one, agent)
    assert callback(k, one).state == "booked" and callback(k, one).attempts == 0
    assert k.jobs.run_due(k.clock()) == ["placed"]
    k.callback_desk.close(two, agent, "Number no longer in use; wrote a letter.")
    closed = callback(k, two)
    assert (closed.state, closed.note, closed.closed_by) == (
        "closed", "Number no longer in use; wrote a letter.", agent
    )  # fmt: skip
    assert k.contact(second).state == "closed"
    assert k.contact(second).wrap_up == "callback_failed"
    assert [c.id for c in k.callback_desk.failed()] == []
    with pytest.raises(Conflict, match="not on the failed list"):
        k.callback_desk.call_again(two, agent)


def test_a_callback_on_a_closed_contact_opens_a_new_call_that_waits():
    k = make()
    contact_id = waiting_call(k)
    with k.uow() as uow:
        contact = uow.contacts.get(contact_id)
        contact.close(k.clock(), "resolved", wrap_up="answered")
        uow.commit()
    callback_id = k.callbacks.book(contact_id, reason="digital_not_completed")
    new = callback(k, callback_id).contact_id
    assert new != contact_id
    reopened = k.contact(new)
    assert (reopened.channel, reopened.state, reopened.need) == ("voice", "queued", "payment_date")
    assert k.queue_item(new).state == "waiting"


def test_an_agent_who_took_a_contact_waiting_for_its_callback_calls_back_now():
    k = make()
    agent = k.add_agent()  # not taking calls: the job would never pick them
    contact_id = waiting_call(k)
    callback_id = k.callbacks.book(contact_id, reason="out_of_hours")
    from router.domain.commands import ClaimNext

    with pytest.raises(Conflict, match="not assigned to you"):
        k.callback_desk.call_back_now(contact_id, agent)
    k.desk.claim_next(ClaimNext(agent_id=agent, skills=()))
    assert k.jobs.run_due(k.clock()) == ["waiting"], "the job leaves it to the agent"
    assert callback(k, callback_id).state == "booked"
    assert k.callback_desk.call_back_now(contact_id, agent) == "calling"
    assert k.caller.placed[-1][0] == "+4520000001"
    answered = k.dialling.answered(callback_id, "CA1")
    assert answered.agent_endpoint == f"client:agent-{agent}"
    assert k.contact(contact_id).agent_id == agent
    with pytest.raises(Conflict, match="No callback is waiting"):
        k.callback_desk.call_back_now(contact_id, agent)


def test_a_booked_callback_is_closed_when_its_conversation_ended_first():
    k = make()
    agent = k.add_agent()
    contact_id = waiting_call(k)
    callback_id = k.callbacks.book(contact_id, reason="asked")
    from router.domain.commands import ClaimNext, Resolve

    k.desk.claim_next(ClaimNext(agent_id=agent, skills=()))
    k.desk.resolve(Resolve(agent_id=agent, contact_id=contact_id, wrap_up="answered",
                           completed=True))  # fmt: skip
    assert k.jobs.run_due(k.clock()) == ["settled"]
    assert callback(k, callback_id).state == "closed"
    assert k.caller.placed == []


def test_connect_agent_rings_the_agent_and_dials_the_callers_queue():
    k = make()
    agent = k.add_agent(takes_calls=True)
    contact_id = waiting_call(k)
    from router.domain.commands import ClaimNext

    with pytest.raises(Conflict, match="Take this call first"):
        k.callback_desk.connect_agent(contact_id, agent)
    k.desk.claim_next(ClaimNext(agent_id=agent, skills=()))
    result = k.callback_desk.connect_agent(contact_id, agent)
    assert result.outcome == "accepted"
    assert k.caller.placed[-1] == (
        f"client:agent-{agent}",
        f"https://kanal.test/twilio/voice/agent/{contact_id}",
        f"https://kanal.test/twilio/voice/call-status?contact={contact_id}",
    )
    assert ev.AGENT_CALL_PLACED in k.event_types(contact_id)


def test_connect_agent_refuses_a_written_conversation():
    k = make()
    agent = k.add_agent()
    contact_id = waiting_call(k, channel="sms")
    from router.domain.commands import ClaimNext

    k.desk.claim_next(ClaimNext(agent_id=agent, skills=()))
    with pytest.raises(Conflict, match="Only phone calls"):
        k.callback_desk.connect_agent(contact_id, agent)


def test_a_call_never_reported_on_frees_the_agent_after_the_ring_timeout():
    k = make()
    k.add_agent(takes_calls=True)
    callback_id = k.callbacks.book(waiting_call(k), reason="asked")
    assert k.jobs.run_due(k.clock()) == ["placed"]
    assert k.jobs.run_due(k.clock() + timedelta(minutes=4)) == []
    k.clock.advance(minutes=5)  # the status callback was lost: kanal was down
    assert k.jobs.run_due(k.clock()) == ["waiting"]
    lost = callback(k, callback_id)
    assert (lost.state, lost.agent_id, lost.last_status) == ("booked", None, "no status")
    k.clock.advance(minutes=10)
    assert k.jobs.run_due(k.clock()) == ["placed"], "the next attempt"


def test_an_answered_call_is_left_alone_by_the_watchdog():
    k = make()
    k.add_agent(takes_calls=True)
    callback_id = k.callbacks.book(waiting_call(k), reason="asked")
    k.jobs.run_due(k.clock())
    k.dialling.answered(callback_id, "CA1")
    k.clock.advance(minutes=5)
    assert k.jobs.run_due(k.clock()) == ["settled"]
    assert callback(k, callback_id).state == "answered"


def test_a_call_that_completes_without_reaching_the_answer_url_is_not_answered():
    k = make()
    k.add_agent(takes_calls=True)
    callback_id = k.callbacks.book(waiting_call(k), reason="asked")
    k.jobs.run_due(k.clock())
    assert k.dialling.call_status(callback_id, f"CA{1:032x}", "completed") == "booked"
    assert callback(k, callback_id).last_status == "ended unconnected"


def test_outside_opening_hours_the_job_sleeps_until_opening():
    from datetime import UTC, datetime

    k = fake_kanal(caller=RecordingCaller())  # open 08:00-16:00 Monday to Friday, Copenhagen
    k.add_agent(takes_calls=True)
    k.clock.now = datetime(2025, 3, 7, 15, 30, tzinfo=UTC)  # Friday 16:30 in Copenhagen
    callback_id = k.callbacks.book(waiting_call(k), reason="waited_too_long")
    assert k.jobs.run_due(k.clock()) == ["waiting"]
    monday_eight = datetime(2025, 3, 10, 7, 0, tzinfo=UTC)  # 08:00 in Copenhagen (CET)
    assert k.jobs.jobs[f"callback-{callback_id}"][1] == monday_eight
    k.clock.now = monday_eight
    assert k.jobs.run_due(k.clock()) == ["placed"]


@pytest.mark.parametrize(
    ("moment", "opening"),
    [
        ("2025-03-04T10:00", "2025-03-04T10:00"),  # Tuesday 11:00 local: open now
        ("2025-03-04T05:00", "2025-03-04T07:00"),  # Tuesday 06:00 local: at 08:00
        ("2025-03-04T15:00", "2025-03-05T07:00"),  # Tuesday 16:00 local: Wednesday
        ("2025-03-08T12:00", "2025-03-10T07:00"),  # Saturday: Monday
        ("2025-03-28T16:00", "2025-03-31T06:00"),  # Friday evening: Monday, summer time
    ],
)
def test_the_next_opening(moment, opening):
    from datetime import UTC, datetime

    from router.service.settings import BusinessHours

    at = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    assert BusinessHours().next_opening(at) == datetime.fromisoformat(opening).replace(tzinfo=UTC)
    assert BusinessHours(always_open=True).next_opening(at) == at


def test_a_caller_who_hangs_up_after_booking_is_still_called_back_in_their_place():
    from router.domain.model import CLOSED_INACTIVE
    from router.service import contacts

    k = make()
    k.add_agent(takes_calls=True)
    earlier = waiting_call(k, "+4520000008")
    k.clock.advance(seconds=30)
    hung_up = waiting_call(k, "+4520000009")
    k.clock.advance(seconds=30)
    callback_id = k.callbacks.book(hung_up, reason="waited_too_long")
    booked_at = k.clock()
    k.clock.advance(seconds=30)
    later = waiting_call(k, "+4520000010")
    with k.uow() as uow:  # the caller hangs up: the voice channel ends the call
        contact = uow.contacts.get(hung_up)
        contacts.close(uow, contact, k.clock(), CLOSED_INACTIVE, None)
        uow.commit()
    assert k.jobs.run_due(k.clock()) == ["waiting"], "one agent, one caller ahead"
    moved = callback(k, callback_id)
    assert moved.state == "booked" and moved.contact_id not in (hung_up, earlier, later)
    with k.uow() as uow:
        order = [item.contact_id for item in uow.queue.waiting()]
    assert order == [earlier, moved.contact_id, later], "their place is kept"
    assert k.queue_item(moved.contact_id).enqueued_at == booked_at
