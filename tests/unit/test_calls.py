"""The phone's front door on fakes: the caller's place, the wait estimate, callbacks, the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from router.domain.model import QueueItem
from router.service.calls import Calls
from router.service.settings import BusinessHours
from tests.fakes import fake_kanal

pytestmark = pytest.mark.unit


class Booker:
    def __init__(self) -> None:
        self.booked: list[tuple[int, str, datetime | None]] = []

    def book(self, contact_id: int, *, reason: str, at: datetime | None = None) -> int:
        self.booked.append((contact_id, reason, at))
        return len(self.booked)


def phone_calls(**kw):  # noqa: ANN003, ANN201
    k = fake_kanal(**kw)
    calls = Calls(
        k.uow, k.turns, k.delivery, k.channels, k.settings, k.clock, phone="voice", sms="sms"
    )
    return k, calls


def queue(k, contact_id: int, minutes_ago: int, priority: int = 0) -> None:  # noqa: ANN001
    with k.uow() as uow:
        since = k.clock() - timedelta(minutes=minutes_ago)
        uow.queue.add(
            QueueItem(contact_id=contact_id, skill="general", priority=priority, enqueued_at=since)
        )
        uow.commit()


def test_the_caller_is_identified_by_number_and_a_retried_webhook_opens_nothing_new():
    k, calls = phone_calls()
    k.add_citizen("+4511111111", language="da")
    first = calls.answer("CA1", "+4511111111")
    again = calls.answer("CA1", "+4511111111")
    assert first == again and first.known and first.language == "da"
    assert calls.answer("CA2", "+4599999999").known is False


def test_the_place_counts_priority_then_age_and_the_wait_follows_recent_answers():
    k, calls = phone_calls()
    queue(k, 101, minutes_ago=10)
    queue(k, 102, minutes_ago=1, priority=2)  # an exempt caller goes first
    queue(k, 103, minutes_ago=5)
    place = calls.place(103)
    assert (place.position, place.waiting) == (3, True)
    assert place.wait_seconds == 3 * k.settings.average_handle_seconds  # nothing answered yet
    with k.uow() as uow:  # agents took two contacts, 60 s apart, in the last hour
        for n, ago in ((201, 120), (202, 60)):
            item = uow.queue.add(QueueItem(contact_id=n, skill="general", priority=0,
                                           enqueued_at=k.clock() - timedelta(hours=1)))  # fmt: skip
            item.state, item.claimed_at = "assigned", k.clock() - timedelta(seconds=ago)
        uow.commit()
    assert calls.place(103).wait_seconds == 3 * 60
    assert calls.place(999).waiting is False  # not in the queue (taken, or gone)


def test_a_callback_goes_to_the_callbacks_service_for_opening_time_when_closed():
    closed = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # a Saturday
    k, calls = phone_calls(clock=lambda: closed)
    calls.callbacks = Booker()
    answered = calls.answer("CA1", "+4511111111")
    booking = calls.book(answered.contact_id, "CA1", "out_of_hours")
    opening = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # Monday 08:00 in Copenhagen
    assert booking.ok and not booking.open and booking.at == opening
    assert calls.callbacks.booked == [(answered.contact_id, "out_of_hours", opening)]


def test_next_opening_is_now_when_open_and_the_next_working_morning_otherwise():
    hours = BusinessHours()
    friday_evening = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    assert hours.next_opening(friday_evening) == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    tuesday_noon = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    assert hours.next_opening(tuesday_noon) == tuesday_noon


def test_a_caller_who_hangs_up_with_the_bot_ends_the_conversation_once():
    k, calls = phone_calls()
    answered = calls.answer("CA1", "+4511111111")
    assert calls.ended("CA1", "completed", 30) and calls.ended("CA1", "completed", 30)
    assert k.contact(answered.contact_id).state == "closed"
    assert k.event_types(answered.contact_id).count("call_ended") == 1
    assert calls.ended("CA-unknown", "completed") is False


def test_a_caller_who_calls_again_before_the_callback_knows_of_it_and_books_no_second():
    k, calls = phone_calls(callback_settings=None)
    calls.callbacks = k.callbacks
    k.add_citizen("+4511111111")
    first = calls.answer("CA1", "+4511111111")
    assert first.callback_pending is False
    booked = calls.book(first.contact_id, "CA1", "asked")
    assert booked.ok
    calls.ended("CA1", "completed")  # hung up after booking: the callback stands
    again = calls.answer("CA2", "+4511111111")
    assert again.contact_id != first.contact_id
    assert (again.callback_pending, again.callback_at) == (True, None)  # open: when free
    second = calls.book(again.contact_id, "CA2", "asked")
    assert second.ok
    with k.uow() as uow:
        pending = uow.callbacks.in_states(("booked", "calling"))
    assert [c.contact_id for c in pending] == [first.contact_id], "no second callback"
    calls.ended("CA2", "completed")
    assert k.contact(again.contact_id).state == "closed", "the new call's contact ends"


def test_a_caller_cancels_the_pending_callback_from_a_new_call():
    k, calls = phone_calls()
    calls.callbacks = k.callbacks
    k.add_citizen("+4511111111")
    first = calls.answer("CA1", "+4511111111")
    calls.book(first.contact_id, "CA1", "asked")
    calls.ended("CA1", "completed")
    again = calls.answer("CA2", "+4511111111")
    assert calls.cancel_callback(again.contact_id) is True
    [callback] = k.callbacks.for_contact(first.contact_id)
    assert (callback.state, callback.note) == ("closed", "cancelled by the citizen")
    assert k.contact(first.contact_id).state == "closed"
    assert k.queue_item(first.contact_id).state != "waiting"
    assert "callback_closed" in k.event_types(first.contact_id)
    assert calls.answer("CA3", "+4511111111").callback_pending is False
    assert calls.cancel_callback(again.contact_id) is False, "nothing left to cancel"
