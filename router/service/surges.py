"""Surge mode in the service: watching the queues' wait (a scheduler job), reading whether a
surge is under way (each turn), and where a citizen stands in the queue (what they are told).

The rules are pure (router/domain/surge.py: when it starts and ends; router/policy/surge.py:
what it decides). The surge's start and end are appended to the event log with no contact
(`surge_started`, `surge_ended`, channel "all"), and the log is where the surge under way is
read back from: the latest of those two events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from router.domain.surge import (
    ALL_CHANNELS,
    SURGE_EVENTS,
    SURGE_STARTED,
    Surge,
    estimated_wait,
    queue_wait_of,
)
from router.policy import Profile
from router.service.journal import record_for_service
from router.service.unit_of_work import UnitOfWork

# How far back the answers are read to estimate the pace of the queue.
RECENT = timedelta(hours=1)


@dataclass(frozen=True)
class SurgeView:
    """Surge mode as the supervisor board shows it."""

    active: bool
    started_at: datetime | None = None
    started_wait_seconds: int = 0
    enter_wait_seconds: int = 0
    exit_wait_seconds: int = 0
    min_seconds: int = 0
    wait_seconds: int = 0  # the wait watched now


def current(uow: UnitOfWork) -> Surge:
    """Return the surge as the event log leaves it (off when it never started)."""
    event = uow.events.latest(SURGE_EVENTS)
    if event is None:
        return Surge()
    return Surge.from_log(event.type, event.at, event.data)


def under_way(uow: UnitOfWork, profile: Profile) -> bool:
    """Return True when the profile has surge rules and a surge is under way."""
    return profile.surge is not None and current(uow).active


def watched_wait(uow: UnitOfWork, now: datetime, each_seconds: int) -> int:
    """Return the wait surge mode watches (router/domain/surge.py `queue_wait`): how many
    wait and since when the oldest waits, counted per skill rather than read row by row."""
    by_skill = uow.queue.waiting_by_skill().values()
    count = sum(n for n, _oldest in by_skill)
    oldest = min((o for _n, o in by_skill if o is not None), default=None)
    answered = uow.queue.answered_since(now - RECENT)
    return queue_wait_of(count, oldest, answered, now, each_seconds)


def place(uow: UnitOfWork, contact_id: int, now: datetime, each_seconds: int) -> tuple[int, int]:
    """Return the contact's position in the queue (1 = next; 0 when not waiting) and the wait
    expected at that position from the pace of the last hour's answers: the position is
    counted on the queue's rank index, however many wait."""
    position = uow.queue.position(contact_id)
    if position <= 0:
        return 0, 0
    answered = uow.queue.answered_since(now - RECENT)
    return position, estimated_wait(position, answered, each_seconds)


class SurgeWatch:
    """Starts and ends surge mode as the queues' wait moves (a scheduler job)."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        profile: Profile,
        clock: Callable[[], datetime],
        each_seconds: int = 240,
    ) -> None:
        self.uow = uow
        self.profile = profile
        self.clock = clock
        self.each_seconds = each_seconds

    def check(self) -> SurgeView:
        """Look at the wait once; start or end the surge; return what the board shows."""
        rules = self.profile.surge
        if rules is None:
            return SurgeView(False)
        now = self.clock()
        with self.uow() as uow:
            wait = watched_wait(uow, now, self.each_seconds)
            surge = current(uow)
            if surge.watch(wait, now, rules.thresholds, self.profile.name):
                record_for_service(uow, surge, channel=ALL_CHANNELS, at=now)
                uow.commit()
        return self.view(surge, wait)

    def show(self) -> SurgeView:
        """Return surge mode and the wait watched now, without changing anything."""
        if self.profile.surge is None:
            return SurgeView(False)
        with self.uow() as uow:
            return self.view(current(uow), watched_wait(uow, self.clock(), self.each_seconds))

    def view(self, surge: Surge, wait: int) -> SurgeView:
        limits = self.profile.surge.thresholds if self.profile.surge else None
        return SurgeView(
            surge.active,
            surge.started_at,
            surge.started_wait_seconds,
            limits.enter_wait_seconds if limits else 0,
            limits.exit_wait_seconds if limits else 0,
            limits.min_seconds if limits else 0,
            wait,
        )


__all__ = ["SURGE_STARTED", "SurgeView", "SurgeWatch", "current", "place", "under_way"]
