"""What comes after a contact: the callbacks booked, the follow-ups scheduled, the surveys asked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from router.adapters.sql_repository import SqlRepository
from router.domain.callbacks import PENDING, Callback, CallbackState
from router.domain.followups import Followup, FollowupState
from router.domain.model import Contact, ContactState, Message
from router.domain.survey import Survey, SurveyState


class SqlCallbackRepository(SqlRepository):
    def get(self, callback_id: int, *, for_update: bool = False) -> Callback | None:
        if for_update:
            stmt = select(Callback).where(Callback.id == callback_id).with_for_update()
            return self.session.scalars(stmt).first()
        return self.session.get(Callback, callback_id)

    def for_contact(self, contact_id: int) -> list[Callback]:
        stmt = select(Callback).where(Callback.contact_id == contact_id).order_by(Callback.id)
        return list(self.session.scalars(stmt))

    def in_states(self, states: tuple[str, ...], limit: int = 200) -> list[Callback]:
        stmt = (
            select(Callback)
            .where(Callback.state.in_(states))
            .order_by(Callback.booked_at, Callback.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def agents_calling(self) -> set[int]:
        stmt = select(Callback.agent_id).where(
            Callback.state == CallbackState.CALLING, Callback.agent_id.is_not(None)
        )
        return set(self.session.scalars(stmt))

    def pending_for(self, citizen_id: int | None, channel: str, address: str) -> Callback | None:
        if citizen_id is not None:
            whose = Contact.citizen_id == citizen_id
        else:
            whose = (Contact.channel == channel) & (Contact.address == address)
        stmt = (
            select(Callback)
            .join(Contact, Contact.id == Callback.contact_id)
            .where(Callback.state.in_(PENDING), whose)
            .order_by(Callback.id)
            .limit(1)
        )
        return self.session.scalars(stmt).first()


class SqlFollowupRepository(SqlRepository):
    def get(self, followup_id: int, *, for_update: bool = False) -> Followup | None:
        if for_update:
            stmt = select(Followup).where(Followup.id == followup_id).with_for_update()
            return self.session.scalars(stmt).first()
        return self.session.get(Followup, followup_id)

    def scheduled_on_need(
        self, need: str, *, citizen_id: int | None = None, contact_id: int | None = None
    ) -> list[Followup]:
        stmt = select(Followup).where(
            Followup.need == need, Followup.state == FollowupState.SCHEDULED
        )
        if citizen_id is not None:
            stmt = stmt.where(Followup.citizen_id == citizen_id)
        if contact_id is not None:
            stmt = stmt.where(Followup.contact_id == contact_id)
        return list(self.session.scalars(stmt.order_by(Followup.id)))

    def offered_to(self, citizen_id: int) -> Followup | None:
        stmt = (
            select(Followup)
            .where(Followup.citizen_id == citizen_id, Followup.state == FollowupState.OFFERED)
            .order_by(Followup.id.desc())
        )
        return self.session.scalars(stmt).first()

    def waiting(self, limit: int = 1000) -> list[Followup]:
        stmt = (
            select(Followup)
            .where(Followup.state == FollowupState.SCHEDULED)
            .order_by(Followup.due_at, Followup.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))


class SqlSurveyRepository(SqlRepository):
    def for_contact(self, contact_id: int, *, for_update: bool = False) -> Survey | None:
        stmt = select(Survey).where(Survey.contact_id == contact_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).first()

    def asked_on(self, channel: str, address: str, since: datetime) -> Survey | None:
        stmt = (
            select(Survey)
            .join(Contact, Contact.id == Survey.contact_id)
            .where(
                Contact.channel == channel,
                Contact.address == address,
                Survey.state == SurveyState.ASKED,
                Survey.asked_at >= since,
            )
            .order_by(Survey.id.desc())
            .limit(1)
            .with_for_update()
        )
        return self.session.scalars(stmt).first()

    def closed_unasked(
        self, channels: tuple[str, ...], since: datetime, limit: int = 200
    ) -> list[Contact]:
        wrote = (
            select(Message.id)
            .where(
                Message.contact_id == Contact.id,
                Message.direction == "in",
                Message.kind == "message",
            )
            .exists()
        )
        asked = select(Survey.id).where(Survey.contact_id == Contact.id).exists()
        stmt = (
            select(Contact)
            .where(
                Contact.channel.in_(channels),
                Contact.state == ContactState.CLOSED,
                Contact.closed_at >= since,
                wrote,
                ~asked,
            )
            .order_by(Contact.closed_at, Contact.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))
