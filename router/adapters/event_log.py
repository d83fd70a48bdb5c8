"""The event log: append-only, a transaction's events written in one statement at its commit."""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session

from router.adapters import claiming, conversations
from router.adapters.orm import contact_events
from router.adapters.sql_repository import SqlRepository
from router.adapters.turn_statements import turn_statements
from router.domain.model import ContactEvent
from router.domain.presence import DESK


@functools.cache
def _latest_statement(types: tuple[str, ...]):  # noqa: ANN202
    """The latest event of each of these types (EventLog.latest), a union of index seeks."""
    e = contact_events.c
    latest = [
        select(e.id, e.type, e.at, e.channel, e.contact_id, e.citizen, e.need, e.data)
        .where(e.type == type_)
        .order_by(e.at.desc(), e.id.desc())
        .limit(1)
        .subquery()
        for type_ in types
    ]
    return union_all(*(select(q) for q in latest))


class SqlEventLog(SqlRepository):
    """The append-only log: a transaction's events are written in one statement at commit."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.pending: list[ContactEvent] = []

    def append(self, event: ContactEvent) -> ContactEvent:
        """Append one event; the log is never updated or deleted from."""
        self.pending.append(event)
        return event

    def write(self) -> None:
        """Insert the transaction's events (one executemany), before its commit."""
        if not self.pending:
            claiming.write(self.session, [])
            return
        rows = [
            {
                "type": e.type,
                "at": e.at,
                "channel": e.channel,
                "contact_id": e.contact_id,
                "citizen": e.citizen,
                "need": e.need,
                "data": e.data,
            }
            for e in self.pending
        ]
        self.pending = []
        # A claim's rows are written here too: on PostgreSQL with the events, in one statement.
        rows = claiming.write(self.session, rows)
        if rows:
            self.session.connection().execute(turn_statements()["insert_events"], rows)

    def for_contact(self, contact_id: int) -> list[ContactEvent]:
        stmt = (
            select(ContactEvent)
            .where(ContactEvent.contact_id == contact_id)
            .order_by(ContactEvent.id)
        )
        return list(self.session.scalars(stmt))

    def on_desk(self, since: datetime, until: datetime) -> list[ContactEvent]:
        """Return the agents' own events (about no contact) in that time, oldest first."""
        stmt = (
            select(ContactEvent)
            .where(
                ContactEvent.channel == DESK,
                ContactEvent.contact_id.is_(None),
                ContactEvent.at >= since,
                ContactEvent.at < until,
            )
            .order_by(ContactEvent.id)
        )
        return list(self.session.scalars(stmt))

    def latest(self, types: tuple[str, ...]) -> ContactEvent | None:
        """Return the latest event of these types: one statement, one seek of (type, at)
        per type (each turn asks it, for surge mode), built once per set of types."""
        if not types:
            return None
        found = conversations.events(self.session, _latest_statement(tuple(types)))
        return max(found, key=lambda ev: (ev.at, ev.id), default=None)

    def recent(self, type_: str, since: datetime, limit: int = 500) -> list[ContactEvent]:
        stmt = (
            select(ContactEvent)
            .where(ContactEvent.type == type_, ContactEvent.at >= since)
            .order_by(ContactEvent.at.desc(), ContactEvent.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(stmt))
