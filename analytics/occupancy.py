"""Occupancy (docs/domain.md §4.1, §4.2): the share of agents' staffed time spent handling
contacts, per day, from the event log's presence changes and assignments.

Pure: the standard library only. `analytics.occupancy_log` reads the facts; this module
turns them into seconds:

- *staffed*: an agent's time signed in and available or busy (`presence_changed` events; away
  and offline are not staffed);
- *handling*: an agent's time holding at least one contact, from `agent_assigned` to the
  contact's next `queued` (a transfer), `agent_assigned` (another agent) or `contact_closed`
  (resolved with a wrap-up code, so the wrap-up is inside), counted only while staffed.
  Concurrent chats count once: occupancy is at most 1.

Occupancy = handling ÷ staffed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

STAFFED = frozenset({"available", "busy"})
# How far back the log is read for an agent's state when a window starts, and for the
# assignments still held then (the presence timeout makes agents offline long before).
LOOKBACK = timedelta(days=2)

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class PresenceChange:
    """An agent's presence changed (a `presence_changed` event)."""

    agent_id: int
    at: datetime
    to: str


@dataclass(frozen=True)
class Holding:
    """An agent held a contact from `start` to `end` (None: still held at query time)."""

    agent_id: int
    start: datetime
    end: datetime | None


@dataclass(frozen=True)
class Day:
    """One day's staffed and handling seconds, summed over agents."""

    day: date
    staffed_seconds: int
    handling_seconds: int

    @property
    def occupancy(self) -> float | None:
        return ratio(self.handling_seconds, self.staffed_seconds)

    def as_dict(self) -> dict:
        return {
            "day": self.day.isoformat(),
            "staffed_seconds": self.staffed_seconds,
            "handling_seconds": self.handling_seconds,
            "occupancy": self.occupancy,
        }


def ratio(handling: int, staffed: int) -> float | None:
    return round(handling / staffed, 4) if staffed else None


def staffed(changes: Iterable[PresenceChange], now: datetime) -> dict[int, list[Interval]]:
    """Return each agent's staffed intervals (available or busy), in order; an agent still
    staffed at the last change is staffed until `now`."""
    out: dict[int, list[Interval]] = {}
    since: dict[int, datetime] = {}
    for c in sorted(changes, key=lambda c: c.at):
        began = since.pop(c.agent_id, None)
        if began is not None and c.at > began:
            out.setdefault(c.agent_id, []).append((began, c.at))
        if c.to in STAFFED:
            since[c.agent_id] = c.at
    for agent, began in since.items():
        if now > began:
            out.setdefault(agent, []).append((began, now))
    return out


def merged(intervals: Iterable[Interval]) -> list[Interval]:
    """Return the union of intervals as disjoint intervals, in order."""
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def overlap(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """Return the intersection of two lists of disjoint, ordered intervals."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _seconds(intervals: Iterable[Interval], start: datetime, end: datetime) -> float:
    return sum(
        (min(e, end) - max(s, start)).total_seconds() for s, e in intervals if s < end and e > start
    )


def day_bounds(day: date, zone: ZoneInfo) -> Interval:
    """Return a day's start and end in the zone (23 or 25 hours on a clock change)."""
    start = datetime.combine(day, time(0), zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), zone)


def by_day(
    days: Iterable[date],
    zone: ZoneInfo,
    changes: Iterable[PresenceChange],
    holdings: Iterable[Holding],
    now: datetime,
) -> list[Day]:
    """Return each day's staffed and handling seconds over all agents."""
    staffed_by = {a: merged(i) for a, i in staffed(changes, now).items()}
    held: dict[int, list[Interval]] = {}
    for h in holdings:
        end = h.end or now
        if end > h.start:
            held.setdefault(h.agent_id, []).append((h.start, end))
    handling_by = {a: overlap(merged(held.get(a, [])), s) for a, s in staffed_by.items()}
    out = []
    for day in sorted(days):
        start, end = day_bounds(day, zone)
        s = sum(_seconds(i, start, end) for i in staffed_by.values())
        h = sum(_seconds(i, start, end) for i in handling_by.values())
        out.append(Day(day, round(s), round(h)))
    return out


def summary(days: Sequence[Day], applies: bool = True) -> dict:
    """Return the report's `occupancy` section: the window's totals and each day's figures.
    `applies` is False when the report is narrowed to a group: staffed time belongs to no
    channel, need or group, so occupancy is then not given."""
    if not applies:
        return {"occupancy": None, "staffed_seconds": None, "handling_seconds": None, "days": []}
    staffed_total = sum(d.staffed_seconds for d in days)
    handling_total = sum(d.handling_seconds for d in days)
    return {
        "occupancy": ratio(handling_total, staffed_total),
        "staffed_seconds": staffed_total,
        "handling_seconds": handling_total,
        "days": [d.as_dict() for d in days],
    }


def from_rows(days: Iterable[date], rows: Mapping[date, tuple[int, int]]) -> list[Day]:
    """Return each day's figures from stored (staffed, handling) seconds; a day not stored
    had no agent staffed."""
    return [Day(d, *rows.get(d, (0, 0))) for d in sorted(days)]
