"""The queue: the items waiting for a person, by rank, and the claim of the next one."""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import aliased

from router.adapters import claiming, conversations
from router.adapters.sql_repository import SqlRepository
from router.adapters.turn_statements import turn_statements
from router.domain.model import QueueItem, QueueState
from router.domain.offers import Offer, OfferState
from router.domain.routing import Match
from router.service.repositories import NextItem

OPEN_ITEM = (QueueState.WAITING, QueueState.ASSIGNED)


def _rank() -> tuple:
    """The order the waiting are served in (router/domain/routing.py, rank_at)."""
    return (QueueItem.rank_at, QueueItem.id)


@functools.cache
def _position_statement():  # noqa: ANN202
    """Count the waiting items ranked at or before the contact's own waiting item: a range
    of the rank index (state, rank_at) up to the item's rank, found by its contact."""
    mine = aliased(QueueItem)

    def own(column):  # noqa: ANN001, ANN202
        return (
            select(column)
            .where(mine.contact_id == bindparam("contact_id"), mine.state == QueueState.WAITING)
            .order_by(mine.id.desc())
            .limit(1)
            .scalar_subquery()
        )

    rank_at, item_id = own(mine.rank_at), own(mine.id)
    return (
        select(func.count())
        .select_from(QueueItem)
        .where(
            QueueItem.state == QueueState.WAITING,
            QueueItem.rank_at <= rank_at,
            (QueueItem.rank_at < rank_at) | (QueueItem.id <= item_id),
        )
    )


class SqlQueueRepository(SqlRepository):
    def get(self, item_id: int) -> QueueItem | None:
        return self.session.get(QueueItem, item_id)

    def open_for_contact(self, contact_id: int) -> QueueItem | None:
        stmt = (
            select(QueueItem)
            .where(QueueItem.contact_id == contact_id, QueueItem.state.in_(OPEN_ITEM))
            .order_by(QueueItem.id.desc())
        )
        return self.session.scalars(stmt).first()

    def waiting(self, limit: int = 200) -> list[QueueItem]:
        stmt = (
            select(QueueItem)
            .where(QueueItem.state == QueueState.WAITING)
            .order_by(*_rank())
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def waiting_by_skill(self) -> dict[str, tuple[int, datetime | None]]:
        """Return, per skill, how many contacts wait and since when the oldest waits."""
        stmt = (
            select(QueueItem.skill, func.count(), func.min(QueueItem.enqueued_at))
            .where(QueueItem.state == QueueState.WAITING)
            .group_by(QueueItem.skill)
        )
        return {skill: (n, oldest) for skill, n, oldest in self.session.execute(stmt)}

    def enqueued_since(self, since: datetime) -> list[QueueItem]:
        """Return the items that joined a queue since then (service level today)."""
        stmt = select(QueueItem).where(QueueItem.enqueued_at >= since).order_by(QueueItem.id)
        return list(self.session.scalars(stmt))

    def waiting_count(self) -> int:
        stmt = turn_statements()["queue_waiting_count"]
        return conversations.connection(self.session).execute(stmt).scalar() or 0

    def position(self, contact_id: int) -> int:
        """Return the contact's place among the waiting by rank (1 = next; 0: not waiting):
        one counted statement, a range of the rank index (state, rank_at) up to its item."""
        return self.session.scalar(_position_statement(), {"contact_id": contact_id}) or 0

    def claim_next(self, match: Match) -> NextItem | None:
        """Lock and return the next waiting item the agent may take, by rank (priority plus
        aging, then the oldest), passing over items offered to another agent; its contact
        is locked with it, its citizen read (for the log's pseudonym) and what the agent
        holds read again, in one statement (router/adapters/claiming.py).

        The rows stay locked until the transaction ends, so only this caller may claim the
        item: on PostgreSQL `FOR UPDATE SKIP LOCKED` lets many web processes hand out work
        at once, each passing over the items (and contacts) others hold; SQLite has a single
        writer (BEGIN IMMEDIATE).
        """
        found = claiming.next_item(self.session, match)
        if found is None:
            return None
        item, channels, open_offers = found
        return NextItem(item, claiming.held_of(channels), open_offers)

    def offerable(self, limit: int = 200) -> list[QueueItem]:
        """Return waiting items with no open offer, by rank (for the offers job)."""
        open_offer = (
            select(Offer.id)
            .where(Offer.queue_item_id == QueueItem.id, Offer.state == OfferState.OFFERED)
            .exists()
        )
        stmt = (
            select(QueueItem)
            .where(QueueItem.state == QueueState.WAITING, ~open_offer)
            .order_by(*_rank())
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def lock(self, item_id: int) -> QueueItem | None:
        """Lock and return an item as committed now (another transaction may have claimed it);
        one this transaction locked already is as it holds it (no statement)."""
        claimed = self._claimed(QueueItem, item_id)
        if claimed is not None:
            return claimed
        stmt = (
            select(QueueItem)
            .where(QueueItem.id == item_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return self.session.scalars(stmt).first()

    def answered_since(self, since: datetime) -> list[datetime]:
        """Return when agents took waiting contacts since then, oldest first."""
        stmt = (
            select(QueueItem.claimed_at)
            .where(QueueItem.claimed_at.is_not(None), QueueItem.claimed_at >= since)
            .order_by(QueueItem.claimed_at)
            .limit(500)
        )
        return list(self.session.scalars(stmt))
