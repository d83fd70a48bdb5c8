"""Exemption reminders and the renewals seen after them, in the channel-shift report, on
SQLite and PostgreSQL (analytics/exemption_reminders.py, docs/domain.md §4.2)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import create_engine, delete, insert

from analytics import metrics
from analytics.reader import reader_engine
from analytics.report import Query, channel_shift_report
from router.adapters.orm import contact_events
from router.domain import events as ev

pytestmark = pytest.mark.integration

TZ = "Europe/Copenhagen"
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 9, 0, tzinfo=UTC)


def reminded(who: str, when: datetime, until: str, sent: bool = True, why=None) -> dict:  # noqa: ANN001
    data = {"exemption_id": 1, "ground": "impairment", "valid_until": until, "sent": sent,
            "why": why}  # fmt: skip
    return {"type": ev.EXEMPTION_REMINDED, "at": when, "channel": "sms", "contact_id": None,
            "citizen": who, "need": None, "data": data}  # fmt: skip


def identified(who: str, when: datetime, exempt: bool, cid: int) -> dict:
    return {"type": ev.CITIZEN_IDENTIFIED, "at": when, "channel": "voice", "contact_id": cid,
            "citizen": who, "need": None,
            "data": {"exempt": exempt, "grounds": [], "age_band": "80_plus"}}  # fmt: skip


EVENTS = [
    reminded("c_anna", at(3, 2), "2026-03-20"),
    identified("c_anna", at(3, 10), True, 1),  # before the end date: says nothing
    identified("c_anna", at(3, 25), True, 2),  # exempt after it: renewed
    reminded("c_bo", at(3, 2), "2026-03-10"),
    identified("c_bo", at(3, 12), False, 3),  # not exempt after it: lapsed
    reminded("c_cy", at(3, 2), "2026-03-15"),  # not seen since: unknown
    reminded("c_dag", at(3, 25), "2026-04-20"),  # not ended yet: awaiting
    reminded("c_eva", at(3, 2), "2026-03-12"),  # reminded again of a later end: renewed
    reminded("c_eva", at(3, 5), "2026-03-31"),  # ... and that one: not seen since
    reminded("c_fay", at(3, 3), "2026-03-30", sent=False, why="opted_out"),
    reminded("c_gus", at(3, 3), "2026-03-30", sent=False, why="renewed"),
    reminded("c_hal", at(2, 20), "2026-03-10"),  # decided before the window
]


@pytest.fixture
def reader(database_url):
    writer = create_engine(database_url)
    with writer.begin() as conn:
        conn.execute(delete(contact_events))
        conn.execute(insert(contact_events), EVENTS)
    reader = reader_engine(writer)
    yield reader
    if reader is not writer:
        reader.dispose()
    writer.dispose()


def test_the_report_counts_reminders_and_the_renewals_seen_after_them(reader):
    window = metrics.Window(date(2026, 3, 1), date(2026, 3, 31), TZ)

    body = channel_shift_report(reader, Query(window, "none"), now=NOW, rollup=False)

    assert body["exemption_reminders"] == {
        "decided": 8,
        "sent": 6,
        "citizens_reminded": 5,
        "not_sent": {"opted_out": 1, "renewed": 1},
        "renewed_after_reminder": 2,  # Anna, Eva's first
        "lapsed_after_reminder": 1,  # Bo
        "awaiting_end_date": 1,  # Dag
        "not_seen_since": 2,  # Cy, Eva's second
        "renewal_rate": 0.4,  # 2 of the 5 whose end date has passed
    }
    narrowed = Query(window, "none", filters={"exempt": "exempt"})
    nothing = channel_shift_report(reader, narrowed, now=NOW, rollup=False)
    assert set(nothing["exemption_reminders"].values()) == {None}
