"""The rollup job's incremental run at a million contacts: the events of the last contacts
arrive again, and the job recomputes only the contacts they can change.

The events of the `contacts` contacts opened last are taken out of `contact_events` and
appended again with new ids (after the rollup's mark), as if they had just arrived; the
figures do not change (the same events), so the cached copy stays as it was. Then the job
(`analytics.rollups.refresh`) runs once, timed: it finds the contacts the events touch (theirs,
and the same citizens' contacts around them) and recomputes those and their days' groups.
"""

from __future__ import annotations

import time

from sqlalchemy import Engine, create_engine, func, insert, select, text

from analytics import rollups
from analytics.reader import reader_engine
from router.adapters.orm import contact_events as E

TZ = "Europe/Copenhagen"


def _arrive_again(engine: Engine, contacts: int) -> int:
    """Append the events of the last `contacts` contacts again, with new ids; return how many."""
    with engine.begin() as conn:
        last = (
            select(E.c.contact_id)
            .where(E.c.contact_id.is_not(None))
            .group_by(E.c.contact_id)
            .order_by(E.c.contact_id.desc())
            .limit(contacts)
            .subquery()
        )
        columns = [c for c in E.c if c.name != "id"]
        rows = [
            dict(r._mapping)
            for r in conn.execute(
                select(*columns)
                .where(E.c.contact_id.in_(select(last.c.contact_id)))
                .order_by(E.c.id)
            )
        ]
        top = conn.execute(select(func.max(E.c.id))).scalar() or 0
        conn.execute(E.delete().where(E.c.contact_id.in_(select(last.c.contact_id))))
        conn.execute(insert(E), [{**r, "id": top + i} for i, r in enumerate(rows, 1)])
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('contact_events', 'id'), :n)"),
                         {"n": top + len(rows)})  # fmt: skip
    return len(rows)


def incremental(url: str, contacts: int = 1_000) -> dict:
    """Time the rollup job after the events of the last `contacts` contacts arrive again."""
    writer = create_engine(url)
    reader = reader_engine(writer)
    try:
        rollups.refresh(reader, writer, TZ)  # up to date first
        events = _arrive_again(writer, contacts)
        started, cpu = time.perf_counter(), time.process_time()
        done = rollups.refresh(reader, writer, TZ)
        return {
            "contacts_arriving": contacts,
            "events": events,
            **done,
            "seconds": round(time.perf_counter() - started, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
        }
    finally:
        if reader is not writer:
            reader.dispose()
        writer.dispose()
