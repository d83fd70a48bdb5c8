"""Reminders before an exemption ends, and renewals seen after them (docs/domain.md §2.5, §4.2),
from the event log only.

The scheduler records each reminder it decides (`exemption_reminded`: the end date, sent or
not and why, the citizen's pseudonym). The register's renewals are not in the log, so a
renewal is *seen* when the log later shows the citizen still exempt after the reminded end
date: a contact identified as exempt (`citizen_identified` `exempt: true`) on a later day, or a
reminder of a later end date (a renewal is reminded again). It is a lower bound: a renewed
citizen who does not contact kanal again is seen only at the next reminder.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from analytics.log import contact_events as E
from router.domain import events as ev


@dataclass(frozen=True)
class Reminder:
    citizen: str | None
    at: datetime
    valid_until: date
    sent: bool
    why: str | None = None


@dataclass(frozen=True)
class Seen:
    """The citizen's exemption as a contact on `day` found it."""

    citizen: str
    day: date
    exempt: bool


def outcome(r: Reminder, later: Iterable[Reminder], seen: Iterable[Seen], today: date) -> str:
    """Return what became of a sent reminder: renewed (seen exempt after the end date, or
    reminded of a later one), lapsed (seen not exempt after it), awaiting (the end date has not
    passed) or unknown (passed, the citizen not seen since)."""
    if any(o.citizen == r.citizen and o.valid_until > r.valid_until for o in later) or any(
        s.citizen == r.citizen and s.day > r.valid_until and s.exempt for s in seen
    ):
        return "renewed"
    if any(s.citizen == r.citizen and s.day > r.valid_until and not s.exempt for s in seen):
        return "lapsed"
    return "awaiting" if r.valid_until >= today else "unknown"


def summary(
    reminders: list[Reminder], later: list[Reminder], seen: list[Seen], today: date
) -> dict:
    """Return the report's `exemption_reminders` section for the window's reminders."""
    sent = [r for r in reminders if r.sent and r.citizen]
    outcomes = Counter(outcome(r, later, seen, today) for r in sent)
    ended = len(sent) - outcomes["awaiting"]
    renewed = outcomes["renewed"]
    return {
        "decided": len(reminders),
        "sent": len(sent),
        "citizens_reminded": len({r.citizen for r in sent}),
        "not_sent": dict(
            sorted(Counter(r.why or "unknown" for r in reminders if not r.sent).items())
        ),
        "renewed_after_reminder": renewed,
        "lapsed_after_reminder": outcomes["lapsed"],
        "awaiting_end_date": outcomes["awaiting"],
        "not_seen_since": outcomes["unknown"],
        "renewal_rate": round(renewed / ended, 4) if ended else None,
    }


def _reminders(conn: Connection, *where) -> list[Reminder]:  # noqa: ANN002
    stmt = select(
        E.c.citizen,
        E.c.at,
        E.c.data["valid_until"].as_string().label("valid_until"),
        E.c.data["sent"].as_boolean().label("sent"),
        E.c.data["why"].as_string().label("why"),
    ).where(E.c.type == ev.EXEMPTION_REMINDED, *where)
    return [
        Reminder(r.citizen, r.at, date.fromisoformat(r.valid_until), bool(r.sent), r.why)
        for r in conn.execute(stmt)
        if r.valid_until
    ]


def read(conn: Connection, start: datetime, end: datetime, timezone: str, now: datetime) -> dict:
    """Return the section for the reminders decided in [start, end), with what the log has
    shown of their citizens since, up to `now`."""
    zone = ZoneInfo(timezone)
    reminders = _reminders(conn, E.c.at >= start, E.c.at < end)
    citizens = sorted({r.citizen for r in reminders if r.sent and r.citizen})
    later: list[Reminder] = []
    seen: list[Seen] = []
    if citizens:
        later = _reminders(conn, E.c.at >= start, E.c.citizen.in_(citizens))
        first_end = min(r.valid_until for r in reminders if r.sent and r.citizen)
        after = datetime.combine(first_end, datetime.min.time(), zone)
        stmt = select(E.c.citizen, E.c.at, E.c.data["exempt"].as_boolean().label("exempt")).where(
            E.c.type == ev.CITIZEN_IDENTIFIED,
            E.c.at >= after,
            E.c.at <= now,
            E.c.citizen.in_(citizens),
        )
        seen = [
            Seen(r.citizen, r.at.astimezone(zone).date(), bool(r.exempt))
            for r in conn.execute(stmt)
        ]
    return summary(reminders, later, seen, now.astimezone(zone).date())


def empty() -> dict:
    """The section of a report narrowed to a group: reminders belong to no contact's group."""
    return dict.fromkeys(
        ("decided", "sent", "citizens_reminded", "not_sent", "renewed_after_reminder",
         "lapsed_after_reminder", "awaiting_end_date", "not_seen_since", "renewal_rate"),
    )  # fmt: skip
