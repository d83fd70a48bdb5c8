"""Live updates between processes: PostgreSQL's LISTEN/NOTIFY, or the log itself on SQLite.

Every process that commits publishes through `PgNotify` (the `LiveUpdates` port), after the
commit: one `pg_notify` per committed unit of work, on the channel `kanal_live`, each notice
`<contact id>:<event type>` (ids and kinds only). The stream process LISTENs on that channel
(router/entrypoints/streams/feed.py). SQLite has no NOTIFY: `NoNotices` publishes nothing,
and the stream process reads the contact log's new rows instead (`events_after`), with one
shared poller.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from router.adapters.orm import contact_events

log = logging.getLogger(__name__)

CHANNEL = "kanal_live"
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', n) FROM unnest(:notices) AS n").bindparams(
    bindparam("notices", type_=ARRAY(Text))
)


def notice(contact_id: int, kind: str) -> str:
    """The text of one notice (PostgreSQL's payload limit is 8,000 bytes; this is tiny)."""
    return f"{int(contact_id)}:{kind[:40]}"


def parse_notice(payload: str) -> tuple[int, str] | None:
    """Return (contact id, kind) from a notice, or None for anything else."""
    head, _, kind = payload.partition(":")
    return (int(head), kind) if head.isdigit() else None


class PgNotify:
    """Publishes contact changes with `pg_notify`, after the commit that made them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def publish(self, changes: list) -> None:
        notices = sorted({notice(c.contact_id, c.kind) for c in changes})
        if not notices:
            return
        with self.engine.connect() as connection:
            connection.execute(_NOTIFY, {"notices": notices})
            connection.commit()


class NoNotices:
    """SQLite: nothing to publish; the stream process reads the contact log (`events_after`)."""

    def publish(self, changes: list) -> None:
        return None


def last_event_id(engine: Engine) -> int:
    """The contact log's newest row id (0 when empty)."""
    with engine.connect() as connection:
        return connection.execute(select(func.max(contact_events.c.id))).scalar() or 0


def events_after(engine: Engine, after: int, limit: int = 5000) -> list[tuple[int, int, str]]:
    """Return the log's rows after `after` as (id, contact id, type), oldest first."""
    query = (
        select(contact_events.c.id, contact_events.c.contact_id, contact_events.c.type)
        .where(contact_events.c.id > after)
        .order_by(contact_events.c.id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [(r.id, r.contact_id, r.type) for r in connection.execute(query)]
