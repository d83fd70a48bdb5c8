"""The desk's storage: agents' routing profiles, their presence, offers, transfers and notes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from router.adapters import claiming
from router.adapters.desk_tables import presence as presence_table
from router.adapters.sql_repository import SqlRepository
from router.domain.notes import InternalNote
from router.domain.offers import Offer, OfferState
from router.domain.presence import Presence, PresenceState
from router.domain.routing import AgentProfile
from router.domain.transfers import Transfer
from router.service.repositories import AtDesk


class SqlAgentRepository(SqlRepository):
    """Agents' routing profiles (skills, languages, teams, capacity)."""

    def get(self, user_id: int) -> AgentProfile | None:
        return self.session.get(AgentProfile, user_id)

    def all(self) -> list[AgentProfile]:
        return list(self.session.scalars(select(AgentProfile).order_by(AgentProfile.user_id)))


class SqlPresenceRepository(SqlRepository):
    def lock_at_desk(self, agent_id: int) -> AtDesk:
        """Lock the agent's presence and read their profile, what they hold by channel and
        their open offers' count in the same statement (a claim's first of two)."""
        found = claiming.at_desk(self.session, agent_id)
        if found is None:
            self._insert_offline(agent_id)  # their first time at the desk
            found = claiming.at_desk(self.session, agent_id)
        presence, profile, channels, open_offers = found
        return AtDesk(presence, profile, claiming.held_of(channels), open_offers)

    def lock(self, agent_id: int) -> Presence:
        """Return the agent's presence locked until the transaction ends (made offline if
        they had none): one agent's claims and offers queue behind it."""
        found = self.get(agent_id, for_update=True)
        if found is not None:
            return found
        self._insert_offline(agent_id)
        return self.get(agent_id, for_update=True)

    def _insert_offline(self, agent_id: int) -> None:
        dialect = self.session.get_bind().dialect.name
        insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
        self.session.execute(
            insert_(presence_table)
            .values(agent_id=agent_id, state=str(PresenceState.OFFLINE))
            .on_conflict_do_nothing(index_elements=["agent_id"])
        )

    def get(self, agent_id: int, *, for_update: bool = False) -> Presence | None:
        claimed = self._claimed(Presence, agent_id)
        if claimed is not None:
            return claimed
        if for_update:
            stmt = (
                select(Presence)
                .where(Presence.agent_id == agent_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            return self.session.scalars(stmt).first()
        return self.session.get(Presence, agent_id)

    def online(self) -> list[Presence]:
        stmt = (
            select(Presence)
            .where(Presence.state != PresenceState.OFFLINE)
            .order_by(Presence.agent_id)
        )
        return list(self.session.scalars(stmt))


class SqlOfferRepository(SqlRepository):
    def get(self, offer_id: int) -> Offer | None:
        return self.session.get(Offer, offer_id)

    def open_for_agent(self, agent_id: int) -> list[Offer]:
        stmt = (
            select(Offer)
            .where(Offer.agent_id == agent_id, Offer.state == OfferState.OFFERED)
            .order_by(Offer.id)
        )
        return list(self.session.scalars(stmt))

    def open_for_item(self, item_id: int) -> Offer | None:
        stmt = select(Offer).where(
            Offer.queue_item_id == item_id, Offer.state == OfferState.OFFERED
        )
        return self.session.scalars(stmt).first()

    def overdue(self, now: datetime, limit: int = 200) -> list[Offer]:
        stmt = (
            select(Offer)
            .where(Offer.state == OfferState.OFFERED, Offer.expires_at <= now)
            .order_by(Offer.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.scalars(stmt))

    def passed_over(self, item_id: int) -> set[int]:
        """Return the agents who let this item's offer expire or declined it."""
        stmt = select(Offer.agent_id).where(
            Offer.queue_item_id == item_id,
            Offer.state.in_((OfferState.EXPIRED, OfferState.DECLINED)),
        )
        return set(self.session.scalars(stmt))


class SqlTransferRepository(SqlRepository):
    def for_contact(self, contact_id: int) -> list[Transfer]:
        stmt = select(Transfer).where(Transfer.contact_id == contact_id).order_by(Transfer.id)
        return list(self.session.scalars(stmt))


class SqlNoteRepository(SqlRepository):
    def for_contact(self, contact_id: int) -> list[InternalNote]:
        """Return a contact's internal notes, oldest first."""
        stmt = (
            select(InternalNote)
            .where(InternalNote.contact_id == contact_id)
            .order_by(InternalNote.id)
        )
        return list(self.session.scalars(stmt))
