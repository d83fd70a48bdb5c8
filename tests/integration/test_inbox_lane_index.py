"""A turn asks for its citizen's entries waiting before its own: the database finds them by
the lane's partial index (migration 0027), not by reading every waiting entry of every
citizen, so a backlog in a surge does not make each turn slower. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, insert, text, update

from router.adapters.inbox import _WAITING_IN, SqlInbox
from router.adapters.orm import inbox

pytestmark = pytest.mark.integration

INDEX = "ix_inbox_lane_waiting"
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def backlog(database_url):
    """3,000 other citizens' messages waiting, 3 of +4520000001's (one taken)."""
    engine = create_engine(database_url)
    rows = [
        {
            "channel": "sms",
            "provider_id": f"SM{n:05d}",
            "address": f"+4530{n % 1000:06d}",
            "text": "hi",
            "received_at": NOW,
        }  # fmt: skip
        for n in range(3000)
    ]
    mine = [
        {
            "channel": "sms",
            "provider_id": f"SMmine{n}",
            "address": "+4520000001",
            "text": f"mine {n}",
            "received_at": NOW,
        }  # fmt: skip
        for n in range(3)
    ]
    with engine.begin() as conn:
        conn.execute(insert(inbox), rows[:1500] + mine + rows[1500:])
        first = conn.execute(text("SELECT min(id) FROM inbox WHERE address = '+4520000001'"))
        taken = first.scalar_one()
        conn.execute(update(inbox).where(inbox.c.id == taken).values(message_id=1))
        conn.execute(text("ANALYZE"))
    yield engine
    engine.dispose()


def _plan(engine, up_to: int) -> str:
    params = {"channel": "sms", "address": "+4520000001", "up_to": up_to}
    compiled = _WAITING_IN.compile(engine, compile_kwargs={"literal_binds": False})
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(explain + str(compiled), _positional(engine, params))
        return "\n".join(" ".join(str(c) for c in row) for row in rows)


def _positional(engine, params: dict):  # noqa: ANN202
    if engine.dialect.name == "sqlite":
        return (params["channel"], params["address"], params["up_to"])
    return params


def test_a_lanes_waiting_entries_are_found_by_the_lanes_index(backlog):
    waiting = SqlInbox(backlog).waiting_in("sms:+4520000001", up_to=10**9)

    assert len(waiting) == 2  # the taken one is not waiting
    assert waiting == sorted(waiting)
    plan = _plan(backlog, up_to=10**9)
    assert INDEX in plan, plan
