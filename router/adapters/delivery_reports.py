"""A provider's report that only moves an outbound message along, in one UPDATE.

Most of an SMS's status callbacks (`sending`, `sent`) change nothing but its delivery state:
no event for the log, no error, no consent. Each was a unit of work (read the message locked,
then write it, 1.2 ms of CPU in the web process and a write transaction); here it is one
conditional UPDATE that moves the message only forward, only if it is this provider's
message (or has no provider's id yet). When it moves nothing (another state, another
message, a report that came late) the caller takes the full path, which says why.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, bindparam, func, or_, select, update

from router.adapters.orm import citizens, contacts, messages
from router.service.ports import ReportedConversation

_statements: dict[tuple[str, ...], object] = {}


def _advance(behind: Sequence[str]):  # noqa: ANN202 - an UPDATE built once per state set
    key = tuple(behind)
    found = _statements.get(key)
    if found is None:
        found = _statements[key] = (
            update(messages)
            .where(
                messages.c.id == bindparam("message_id"),
                messages.c.direction == "out",
                or_(messages.c.provider_id.is_(None), messages.c.provider_id == bindparam("sid")),
                or_(messages.c.delivery_status.is_(None), messages.c.delivery_status.in_(key)),
            )
            .values(
                delivery_status=bindparam("status"),
                provider_id=func.coalesce(messages.c.provider_id, bindparam("sid")),
            )
        )
    return found


# What a report's event in the log says about its conversation, in one read.
_FACTS = (
    select(contacts.c.channel, contacts.c.need, citizens.c.pseudonym)
    .select_from(contacts.outerjoin(citizens, citizens.c.id == contacts.c.citizen_id))
    .where(contacts.c.id == bindparam("contact_id"))
)


class SqlDeliveryReports:
    """The DeliveryReports port on kanal's database (`read_engine`: reads that never take
    SQLite's write lock, so a caller inside a write transaction may read beside it)."""

    def __init__(self, engine: Engine, read_engine: Engine | None = None) -> None:
        self.engine = engine
        self.read_engine = read_engine or engine

    def contact_facts(self, contact_id: int) -> ReportedConversation | None:
        with self.read_engine.connect() as conn:
            row = conn.execute(_FACTS, {"contact_id": contact_id}).first()
        return ReportedConversation(row.channel, row.need, row.pseudonym) if row else None

    def advance(
        self, message_id: int, provider_id: str, status: str, behind: Sequence[str]
    ) -> bool:
        params = {"message_id": message_id, "sid": provider_id, "status": status}
        with self.engine.begin() as conn:
            return conn.execute(_advance(behind), params).rowcount == 1
