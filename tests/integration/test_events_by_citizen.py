"""One citizen's events are found by the (citizen, type, at) index (migration 0022), not by
reading every event of the type in the period: the statements analytics runs by citizen,
as each database plans them, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, event, insert, text

from analytics import contact_queries, exemption_reminders, queries, rollup_contacts
from analytics.metrics import Window
from router.adapters.orm import contact_events
from router.domain import events as ev

pytestmark = pytest.mark.integration

INDEX = "ix_contact_events_citizen_type_at"
DAY0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
CITIZENS = 400
CONTACTS_EACH = 8  # 5 days apart, over 65 days: 3,200 contacts, about 10,000 events
BY_CITIZEN = re.compile(r"\bcitizen IN \(", re.IGNORECASE)


def _event(type_, at, contact_id, citizen, need=None, **data) -> dict:
    channel = "webchat" if contact_id else "system"
    return {"type": type_, "at": at, "channel": channel, "contact_id": contact_id,
            "citizen": citizen, "need": need, "data": data}  # fmt: skip


def _history() -> list[dict]:
    """Citizens' contacts every 5 days on one need (repeat contacts), and a few reminders."""
    rows = []
    contact_id = 0
    for n in range(CITIZENS):
        citizen = f"c_{n:04d}"
        for k in range(CONTACTS_EACH):
            contact_id += 1
            at = DAY0 + timedelta(days=(n * 7) % 30 + k * 5, minutes=n % 600)
            rows += [
                _event(ev.CONTACT_OPENED, at, contact_id, citizen),
                _event(ev.CITIZEN_IDENTIFIED, at, contact_id, citizen, exempt=n % 9 == 0),
                _event(ev.CLOSED, at + timedelta(minutes=9), contact_id, citizen, "payment_date"),
            ]
        if n % 50 == 0:
            reminded = DAY0 + timedelta(days=1)
            rows.append(_event(ev.EXEMPTION_REMINDED, reminded, None, citizen,
                               valid_until="2026-01-20", sent=True))  # fmt: skip
    return rows


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(insert(contact_events), _history())
        conn.execute(text("ANALYZE"))  # the planner sees the table as it is
    yield engine
    engine.dispose()


def _by_citizen(engine, read, reading: str) -> list[tuple[str, object]]:
    """Run `read(conn)` and return the statements it ran that select events of the type
    `reading` by citizen."""
    ran: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        values = parameters.values() if isinstance(parameters, dict) else parameters
        if BY_CITIZEN.search(statement) and reading in values:
            ran.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with engine.connect() as conn:
            read(conn)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return ran


def _plan(engine, statement: str, parameters) -> str:
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(explain + statement, parameters).all()
    return "\n".join(" ".join(str(v) for v in r) for r in rows)


def _assert_by_index(engine, read, reading: str = ev.CONTACT_OPENED) -> None:
    ran = _by_citizen(engine, read, reading)
    assert ran, f"the read ran no statement of {reading} events by citizen"
    for statement, parameters in ran:
        plan = _plan(engine, statement, parameters)
        assert INDEX in plan, f"{statement}\n-- is planned without {INDEX}:\n{plan}"


def _last_id(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT max(id) FROM contact_events")).scalar()


def test_the_rollups_contacts_to_recompute_are_found_by_citizen(engine):
    """The incremental rollup's run after a few new events: the same citizens' contacts within
    the repeat window either side of them."""
    last = _last_id(engine)
    found = {}
    _assert_by_index(
        engine, lambda c: found.update(rollup_contacts.touched(c, last - 6, last, timedelta(9)))
    )
    assert len(found) == 3  # the new events' 2 contacts and their citizen's one 5 days before


def test_recomputed_contacts_link_to_their_citizens_other_contacts_by_citizen(engine):
    """The rollup recomputes a few contacts of a day: their citizens' contacts before and after
    (repeat contacts, needs continued) are read by citizen."""
    window = Window(date(2026, 2, 2), date(2026, 2, 2), "UTC")
    with engine.connect() as conn:
        day = contact_queries.contact_facts(conn, window.start, window.end)
    ids = [c.contact_id for c in day[:3]]
    facts = []
    _assert_by_index(engine, lambda c: facts.extend(queries.window_facts(c, window, ids=ids)))
    assert [f.contact_id for f in facts] == ids
    assert any(f.continues or f.repeats_after for f in facts)


def test_reminded_citizens_are_seen_again_by_citizen(engine):
    """What the log shows of reminded citizens after their end date (renewed or lapsed): their
    identifications, read by citizen."""
    now = DAY0 + timedelta(days=60)
    section = {}
    _assert_by_index(
        engine,
        lambda c: section.update(
            exemption_reminders.read(c, DAY0, DAY0 + timedelta(days=2), "UTC", now)
        ),
        reading=ev.CITIZEN_IDENTIFIED,
    )
    assert section["sent"] == CITIZENS // 50
    assert section["renewed_after_reminder"] + section["lapsed_after_reminder"] > 0
