"""The queue's figures: what became of a queued contact and its wait (service level, speed of
answer, abandonment with the short-abandon threshold) and an agent's handle time."""

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


def seconds_between(later: datetime, earlier: datetime) -> int:
    return max(0, int((later - earlier).total_seconds()))


def queue_outcome(c: ContactFacts) -> tuple[str, int] | None:
    """Return what became of a contact that entered the queue, on any channel, with its wait
    in seconds: answered (an agent took it), abandoned (a caller hung up, or a written contact
    was left while waiting), in_progress (still waiting), other (it left the queue another
    way: a callback booked, closed by staff). None: never queued, or a callback's contact."""
    if c.queued_at is None or c.reopens is not None:
        return None
    if c.assigned_at is not None:
        return "answered", seconds_between(c.assigned_at, c.queued_at)
    if c.channel == PHONE and c.abandoned and c.call_ended_at is not None:
        return "abandoned", seconds_between(c.call_ended_at, c.queued_at)
    if c.left_queue and c.ended_at is not None:
        return "abandoned", seconds_between(c.ended_at, c.queued_at)
    if c.ended_at is None and not (c.channel == PHONE and c.call_ended_at is not None):
        return "in_progress", 0
    return "other", 0


def handle_seconds(c: ContactFacts) -> int | None:
    """Return an agent's handling time: from taking the contact to its end (no hold or
    after-contact work is recorded), or None when no agent finished it."""
    if c.assigned_at is None or c.ended_at is None:
        return None
    return seconds_between(c.ended_at, c.assigned_at)
