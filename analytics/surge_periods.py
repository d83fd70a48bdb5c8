"""Surge mode on the managers' dashboard (router/domain/surge.py): when it was on, for how
long, the waits at its peak and the callbacks its rules offered, booked and made.

Pure: the standard library only. `analytics.surge_log` reads the facts from the event log;
this module pairs each `surge_started` with the `surge_ended` after it (a surge still on
lasts until the query's `now`), cuts the periods at the agency's midnights (a surge over
midnight counts on both days) and adds up, per piece:

- *wait when it started*: the wait surge mode watched when it started (`surge_started`'s
  `wait_seconds`: the longer of the longest wait then and the wait behind everyone waiting);
- *answered*, *longest wait*, *mean wait*: the contacts agents took from the queue while it
  was on (`agent_assigned`) and the waits they had had (`wait_exact_seconds`; the whole
  `wait_seconds` of older events): the longest in whole seconds rounded up (never
  understated, as the report's p90), the mean of the exact waits rounded to whole seconds;
- *callbacks offered*: the policy's surge rules chose a callback (`decision_made` with
  `surge` and the action `callback`), whether it could be booked or not (no phone number);
- *callbacks booked*: callbacks booked for the surge (`callback_booked` with the reason
  `surge`; a staff "call again" books none), by callback;
- *callbacks made*: of those, the ones the citizen answered (`callback_answered`), at any
  time up to the query: a callback booked in a surge is mostly made after it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

STARTED, ENDED = "surge_started", "surge_ended"  # router/domain/surge.py


@dataclass(frozen=True)
class SurgeEvent:
    """A `surge_started` or `surge_ended` event: when, and the wait watched then."""

    type: str
    at: datetime
    wait_seconds: int | None


@dataclass(frozen=True)
class Piece:
    """A surge period, or its part within one day: from `start` to `end`."""

    start: datetime
    end: datetime
    started_wait_seconds: int | None  # the period's (every piece of it carries it)


@dataclass
class WhileOn:
    """What happened while surge mode was on, for a piece (or a sum of pieces)."""

    seconds: int = 0
    answered: int = 0
    wait_seconds_sum: float = 0.0  # exact
    longest_wait_seconds: float | None = None
    offered: int = 0
    booked: set[int] = field(default_factory=set)  # callback ids
    made: set[int] = field(default_factory=set)  # of the booked, answered by the citizen

    def add(self, other: WhileOn) -> None:
        self.seconds += other.seconds
        self.answered += other.answered
        self.wait_seconds_sum += other.wait_seconds_sum
        self.longest_wait_seconds = _max(self.longest_wait_seconds, other.longest_wait_seconds)
        self.offered += other.offered
        self.booked |= other.booked
        self.made |= other.made

    def as_dict(self) -> dict:
        mean = round(self.wait_seconds_sum / self.answered) if self.answered else None
        return {
            "seconds": self.seconds,
            "answered": self.answered,
            "longest_wait_seconds": (
                None if self.longest_wait_seconds is None else math.ceil(self.longest_wait_seconds)
            ),
            "mean_wait_seconds": mean,
            "callbacks_offered": self.offered,
            "callbacks_booked": len(self.booked),
            "callbacks_made": len(self.made),
        }


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def periods(events: Iterable[SurgeEvent], now: datetime) -> list[Piece]:
    """Pair each start with the end after it, in order; a surge still on ends at `now`.

    An end with no start before it (the log begins mid-surge) and a second start while one
    is on (cannot happen: the watch records a change only) are passed over.
    """
    out: list[Piece] = []
    on: SurgeEvent | None = None
    for e in sorted(events, key=lambda e: e.at):
        if e.type == STARTED and on is None:
            on = e
        elif e.type == ENDED and on is not None:
            out.append(Piece(on.at, e.at, on.wait_seconds))
            on = None
    if on is not None and now > on.at:
        out.append(Piece(on.at, now, on.wait_seconds))
    return out


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), zone)


def by_day(pieces: Sequence[Piece], days: Sequence[date], zone: ZoneInfo) -> list[tuple]:
    """Cut the periods at the days' midnights: (day, period index, piece), in order; the
    parts outside the days are left out."""
    out = []
    for day in days:
        start, end = day_bounds(day, zone)
        for i, p in enumerate(pieces):
            a, b = max(p.start, start), min(p.end, end)
            if a < b:
                out.append((day, i, Piece(a, b, p.started_wait_seconds)))
    return out


def summary(
    pieces: Sequence[Piece],
    cut: Sequence[tuple],
    figures: Sequence[WhileOn],
    zone: ZoneInfo,
    now: datetime,
) -> dict:
    """The dashboard's surge section: each period (its pieces within the days summed), each
    day, and the whole.

    `cut` is `by_day`'s answer and `figures` each cut piece's figures, in the same order.
    """
    per_period: dict[int, WhileOn] = {}
    per_day: dict[date, WhileOn] = {}
    whole = WhileOn()
    for (day, i, _piece), f in zip(cut, figures, strict=True):
        per_period.setdefault(i, WhileOn()).add(f)
        per_day.setdefault(day, WhileOn()).add(f)
        whole.add(f)
    rows = []
    for i, f in sorted(per_period.items()):
        p = pieces[i]
        still_on = p.end >= now
        rows.append(
            {
                "started_at": p.start.astimezone(zone).isoformat(timespec="seconds"),
                "ended_at": None if still_on else p.end.astimezone(zone).isoformat("T", "seconds"),
                "lasted_seconds": int((p.end - p.start).total_seconds()),
                "started_wait_seconds": p.started_wait_seconds,
                **f.as_dict(),
            }
        )
    days = sorted({day for day, _i, _p in cut})
    started_on = {day: 0 for day in days}
    for p in pieces:
        local = p.start.astimezone(zone).date()
        if local in started_on:
            started_on[local] += 1
    return {
        "periods": rows,
        "days": [
            {"day": d.isoformat(), "surges_started": started_on[d], **per_day[d].as_dict()}
            for d in days
        ],
        "total": {
            "surges": len(rows),
            "started_wait_seconds": max(
                (r["started_wait_seconds"] or 0 for r in rows), default=None
            ),
            **whole.as_dict(),
        },
    }
