"""Surge mode: when the queues' wait passes the policy profile's threshold, the profile's surge
rules apply (router/policy/surge.py) until the wait has fallen again.

Pure rules, no storage. The wait watched is the longer of two figures (`queue_wait`): the
longest wait of a contact still waiting, and the wait a newcomer can expect (everyone waiting
× the time between answers over the last hour). A surge starts when that wait reaches the
profile's `enter_wait_seconds`; it ends when the wait is at most `exit_wait_seconds` (lower)
and the surge has lasted `min_seconds`: the two thresholds and the minimum duration keep it
from flapping on and off around one value (hysteresis).

The surge's start and end are events of the log (`surge_started`, `surge_ended`), which is
also where the surge under way is read back from (`Surge.from_log`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from router.domain.model import Aggregate

SURGE_STARTED = "surge_started"  # {"wait_seconds", "enter_wait_seconds", "profile"}
# {"wait_seconds", "exit_wait_seconds", "started_at", "lasted_seconds", "profile"}
SURGE_ENDED = "surge_ended"
SURGE_EVENTS = (SURGE_STARTED, SURGE_ENDED)
# The events are about the whole service, not one contact or channel.
ALL_CHANNELS = "all"


@dataclass(frozen=True)
class SurgeThresholds:
    """When a surge starts and ends: the profile's `[surge]` section."""

    enter_wait_seconds: int = 900
    exit_wait_seconds: int = 300
    min_seconds: int = 600

    def __post_init__(self) -> None:
        if self.exit_wait_seconds >= self.enter_wait_seconds:
            raise ValueError("a surge must end below the wait that starts it")


def estimated_wait(position: int, answered: Sequence[datetime], each_seconds: int) -> int:
    """Return the wait of the one at `position` (1 = next): position × the time between the
    answers given (`answered`, oldest first), or × `each_seconds` with fewer than two."""
    if len(answered) >= 2:
        every = (answered[-1] - answered[0]).total_seconds() / (len(answered) - 1)
    else:
        every = each_seconds
    return int(max(0, position) * every)


def queue_wait(
    waiting_since: Sequence[datetime],
    answered: Sequence[datetime],
    now: datetime,
    each_seconds: int,
) -> int:
    """Return the wait surge mode watches: the longer of the longest wait now and the wait
    expected behind everyone waiting (`waiting_since`: when each waiting contact joined)."""
    oldest = min(waiting_since, default=None)
    return queue_wait_of(len(waiting_since), oldest, answered, now, each_seconds)


def queue_wait_of(
    waiting: int,
    oldest: datetime | None,
    answered: Sequence[datetime],
    now: datetime,
    each_seconds: int,
) -> int:
    """`queue_wait` from the queue's counts: how many wait, and since when the oldest."""
    if waiting <= 0 or oldest is None:
        return 0
    longest = max(0, int((now - oldest).total_seconds()))
    return max(longest, estimated_wait(waiting, answered, each_seconds))


class Surge(Aggregate):
    """The service's surge mode: on since `started_at`, or off (`started_at` None)."""

    def __init__(
        self,
        started_at: datetime | None = None,
        started_wait_seconds: int = 0,
        enter_wait_seconds: int = 0,
    ) -> None:
        self.started_at = started_at
        self.started_wait_seconds = started_wait_seconds
        self.enter_wait_seconds = enter_wait_seconds

    @property
    def active(self) -> bool:
        return self.started_at is not None

    @classmethod
    def from_log(cls, type_: str | None, at: datetime | None, data: dict | None) -> Surge:
        """Return the surge as the latest surge event of the log leaves it (none: off)."""
        if type_ != SURGE_STARTED or at is None:
            return cls()
        data = data or {}
        return cls(at, int(data.get("wait_seconds", 0)), int(data.get("enter_wait_seconds", 0)))

    def watch(
        self, wait_seconds: int, now: datetime, thresholds: SurgeThresholds, profile: str
    ) -> bool:
        """Start or end the surge for the wait seen now; return True when it changed."""
        if not self.active:
            if wait_seconds < thresholds.enter_wait_seconds:
                return False
            self.started_at = now
            self.started_wait_seconds = wait_seconds
            self.enter_wait_seconds = thresholds.enter_wait_seconds
            self._happened(
                SURGE_STARTED, now, wait_seconds=wait_seconds,
                enter_wait_seconds=thresholds.enter_wait_seconds, profile=profile,
            )  # fmt: skip
            return True
        assert self.started_at is not None
        lasted = int((now - self.started_at).total_seconds())
        if wait_seconds > thresholds.exit_wait_seconds or lasted < thresholds.min_seconds:
            return False
        started, self.started_at = self.started_at, None
        self._happened(
            SURGE_ENDED, now, wait_seconds=wait_seconds,
            exit_wait_seconds=thresholds.exit_wait_seconds, started_at=started.isoformat(),
            lasted_seconds=lasted, profile=profile,
        )  # fmt: skip
        return True
