"""The phone's front door on fakes: the caller's place, the wait estimate, callbacks, the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from router.domain.model import QueueItem
from router.service.calls import Calls
from router.service.channels import Channel
from router.service.settings import BusinessHours
from tests.fakes import fake_kanal

pytestmark = pytest.mark.unit

VOICE = Channel("voice", verb="say", sends_links=False, address_is_phone=True, digital=False)


class Booker:
    def __init__(self) -> None:
        self.booked: list[tuple[int, str, datetime | None]] = []

    def book(self, contact_id: int, *, reason: str, at: datetime | None = None) -> int:
        self.booked.append((contact_id, reason, at))
        return len(self.booked)


def phone_calls(**kw):  # noqa: ANN003, ANN201
    k = fake_kanal(extra_channels=[VOICE], **kw)
    calls = Calls(k.uow, k.turns, k.delivery, k.channels, k.settings, k.clock)
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
