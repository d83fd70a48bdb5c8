"""The daily rollup's mark: the last event it has read, the settings its figures were computed
with, and its generation (PENDING while an incremental run writes its rows in several
transactions: analytics/rollup_kept.py keeps no read of half a run)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, insert, select

from analytics.rollup_tables import marks

MARK = "daily"
# The mark's generation while an incremental run writes rows (a generation is otherwise 16 hex
# digits): the rows are then part old, part new.
PENDING = "pending"


def current_mark(conn: Connection) -> dict | None:
    """Return the rollup's mark as this connection's transaction sees it (None: no rollup)."""
    if not conn.dialect.has_table(conn, marks.name):
        return None
    row = conn.execute(select(marks).where(marks.c.name == MARK)).mappings().first()
    return dict(row) if row else None


def read_mark(writer: Engine) -> Mapping | None:
    """Return the rollup's mark as a new connection sees it (None: no rollup)."""
    with writer.connect() as conn:
        return current_mark(conn)


def put_mark(
    conn: Connection, event_id: int, at: datetime, settings: Mapping, generation: str
) -> None:
    """Write the mark in `conn`'s transaction (with the rows it stands for)."""
    conn.execute(delete(marks).where(marks.c.name == MARK))
    row = {"name": MARK, "event_id": event_id, "refreshed_at": at, **settings}
    conn.execute(insert(marks).values(**row, generation=generation))


def write_mark(
    writer: Engine, event_id: int, at: datetime, settings: Mapping, generation: str
) -> None:
    """Write the mark in a transaction of its own."""
    with writer.begin() as conn:
        put_mark(conn, event_id, at, settings, generation)
