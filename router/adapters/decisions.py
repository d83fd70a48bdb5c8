"""The decision trail: each routing decision with its rule and reason, written at commit."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from router.adapters.sql_repository import SqlRepository
from router.adapters.turn_statements import turn_statements
from router.domain.model import RoutingDecision


class SqlDecisionRepository(SqlRepository):
    """Decisions are written at commit, a transaction's in one executemany (like events):
    nothing needs a decision's id, and the ORM inserts rows of this table one at a time."""

    _COLUMNS = ("contact_id", "message_id", "profile", "rule_id", "action", "reason", "inputs",
                "skill", "priority", "decided_at")  # fmt: skip

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.pending: list[RoutingDecision] = []

    def add(self, obj: RoutingDecision) -> RoutingDecision:
        self.pending.append(obj)
        return obj

    def write(self) -> None:
        """Insert the transaction's decisions (one executemany), before its commit."""
        if not self.pending:
            return
        rows = [{c: getattr(d, c) for c in self._COLUMNS} for d in self.pending]
        for row in rows:  # the column's default, as the ORM would give it
            row["priority"] = row["priority"] or 0
        self.pending = []
        self.session.connection().execute(turn_statements()["insert_decisions"], rows)

    def for_contact(self, contact_id: int) -> list[RoutingDecision]:
        self.write()  # this transaction's own, as the session's autoflush would
        stmt = (
            select(RoutingDecision)
            .where(RoutingDecision.contact_id == contact_id)
            .order_by(RoutingDecision.id)
        )
        return list(self.session.scalars(stmt))

    # -- read side for the desk (added by the desk's engineer) --------------------------------

    def latest_for_contacts(self, contact_ids: list[int]) -> dict[int, RoutingDecision]:
        """Return each contact's most recent decision, in one query."""
        self.write()
        if not contact_ids:
            return {}
        newest = (
            select(func.max(RoutingDecision.id))
            .where(RoutingDecision.contact_id.in_(contact_ids))
            .group_by(RoutingDecision.contact_id)
        )
        stmt = select(RoutingDecision).where(RoutingDecision.id.in_(newest))
        return {d.contact_id: d for d in self.session.scalars(stmt)}
