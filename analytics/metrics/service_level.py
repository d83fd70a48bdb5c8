"""The queue's figures: what became of a queued contact and its wait (service level, speed of
answer, abandonment with the short-abandon threshold) and an agent's handle time.

A wait is exact (a timedelta, to the microsecond the events carry). The tallies keep it in
whole seconds rounded the way its threshold reads it, so that a comparison with a whole
number of seconds stays exact: an answered contact's wait rounded up (wait ≤ Y exactly when
`seconds_up(wait)` ≤ Y: 20.9 s is not within 20 s, 20.0 s is; a percentile of them is never
understated), an abandon's rounded down (wait < T exactly when `seconds_down(wait)` < T: a
4.9 s abandon is short under 5 s, a 5.0 s one is not), and the answered waits' exact sum
beside them for the mean."""

from __future__ import annotations

from datetime import datetime, timedelta

from analytics.metrics.facts import PHONE, ContactFacts

SHORT_ABANDON_SECONDS = 5  # docs/domain.md §4.1: abandons shorter than this are excluded
SERVICE_LEVEL_SECONDS = 20  # Y of service level X/Y: the common 80/20 convention (WFM)


def is_queued_caller(c: ContactFacts) -> bool:
    """Return True for a phone contact that entered the queue with the caller on the line."""
    return c.channel == PHONE and c.queued_at is not None and c.reopens is None


def is_abandoned(c: ContactFacts) -> bool:
    return is_queued_caller(c) and c.abandoned


def is_short_abandon(c: ContactFacts, threshold: int = SHORT_ABANDON_SECONDS) -> bool:
    """Return True for an abandon within the short-abandon threshold of entering the queue."""
    if not is_abandoned(c) or c.call_ended_at is None:
        return False
    return c.call_ended_at - c.queued_at < timedelta(seconds=threshold)


SECOND = timedelta(seconds=1)
MICROSECOND = timedelta(microseconds=1)


def seconds_between(later: datetime, earlier: datetime) -> int:
    """Return the whole seconds between two moments (rounded down; none below zero)."""
    return max(0, int((later - earlier).total_seconds()))


def wait_between(later: datetime, earlier: datetime) -> timedelta:
    """Return the exact time between two moments (none below zero)."""
    return max(timedelta(0), later - earlier)


def seconds_up(wait: timedelta) -> int:
    """Return a wait in whole seconds rounded up: ≤ a whole number of seconds as the wait is."""
    return -(-wait // SECOND)


def seconds_down(wait: timedelta) -> int:
    """Return a wait in whole seconds rounded down: < a whole number of seconds as the wait is."""
    return wait // SECOND


def microseconds(wait: timedelta) -> int:
    return wait // MICROSECOND


def in_seconds(wait: timedelta) -> int | float:
    """Return a wait as written out: exact seconds, whole ones without a fraction (12, 20.9)."""
    seconds = wait.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds


def queue_outcome(c: ContactFacts) -> tuple[str, timedelta] | None:
    """Return what became of a contact that entered the queue, on any channel, with its exact
    wait: answered (an agent took it), abandoned (a caller hung up, or a written contact
    was left while waiting), in_progress (still waiting), other (it left the queue another
    way: a callback booked, closed by staff). None: never queued, or a callback's contact."""
    if c.queued_at is None or c.reopens is not None:
        return None
    if c.assigned_at is not None and not _left_before_answer(c):
        return "answered", wait_between(c.assigned_at, c.queued_at)
    if c.channel == PHONE and c.abandoned and c.call_ended_at is not None:
        return "abandoned", wait_between(c.call_ended_at, c.queued_at)
    if c.left_queue and c.ended_at is not None:
        return "abandoned", wait_between(c.ended_at, c.queued_at)
    if c.ended_at is None and not (c.channel == PHONE and c.call_ended_at is not None):
        return "in_progress", timedelta(0)
    return "other", timedelta(0)


def _left_before_answer(c: ContactFacts) -> bool:
    """Return True for a caller whose call ended before an agent took the contact: they left
    the queue (a callback booked), and the agent who took it later called them back."""
    return c.channel == PHONE and c.call_ended_at is not None and c.call_ended_at < c.assigned_at


def handle_time(c: ContactFacts) -> timedelta | None:
    """Return an agent's handling time, exact: from taking the contact to its end (no hold or
    after-contact work is recorded), less the time it waited in a queue again after a
    transfer (no agent held it then), or None when no agent finished it."""
    if c.assigned_at is None or c.ended_at is None:
        return None
    return max(c.ended_at - c.assigned_at - c.requeued, timedelta(0))


def handle_seconds(c: ContactFacts) -> int | None:
    """Return an agent's handling time in whole seconds (rounded down), or None."""
    handled = handle_time(c)
    return None if handled is None else seconds_down(handled)
