"""Repositories: the queries the service layer needs, in its own words.

Here are those of the conversation (contacts, messages, calls, consents). The others are
beside them, one module each: `citizens`, `queue`, `decisions`, `event_log`, the desk's in
`desk`, what follows a contact in `followups`, the staff's in `staff`; the turn's statements,
built once, in `turn_statements`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from router.adapters import conversations
from router.adapters.sql_repository import SqlRepository, raise_duplicate_delivery
from router.adapters.turn_statements import turn_statements
from router.domain.calls import Call
from router.domain.model import CLAIMABLE, Consent, Contact, ContactState, Message
from router.service.repositories import SessionKey


class SqlContactRepository(SqlRepository):
    def lock_address(self, channel: str, address: str) -> None:
        """Hold the citizen's address on a channel until the transaction ends.

        Two messages from one number must not both open a contact. PostgreSQL takes an
        advisory lock on the address; SQLite's single writer (BEGIN IMMEDIATE) already holds.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            key = f"{channel}:{address}"
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
            )

    def get(self, contact_id: int, *, for_update: bool = False) -> Contact | None:
        if for_update:  # read with Core, tracked (router/adapters/conversations.py)
            return conversations.locked_contact(self.session, contact_id)
        return self._claimed(Contact, contact_id) or self.session.get(Contact, contact_id)

    def open_on(self, channel: str, address: str, active_since: datetime) -> Contact | None:
        """Return the citizen's open contact on a channel address, if active since then."""
        stmt = turn_statements()["contact_open_on"]
        params = {"channel": channel, "address": address, "active_since": active_since}
        return self.session.scalars(stmt, params).first()

    def stale_open_on(self, channel: str, address: str) -> list[Contact]:
        stmt = turn_statements()["contact_stale_open_on"]
        return list(self.session.scalars(stmt, {"channel": channel, "address": address}))

    def count_open_by_state(self) -> dict[tuple[str, str], int]:
        """Count open contacts by (channel, state)."""
        stmt = (
            select(Contact.channel, Contact.state, func.count())
            .where(Contact.state != ContactState.CLOSED)
            .group_by(Contact.channel, Contact.state)
        )
        return {(c, st): n for c, st, n in self.session.execute(stmt)}

    def latest_on(self, channel: str, address: str, *, for_update: bool = False) -> Contact | None:
        if for_update:  # read with Core, tracked (router/adapters/conversations.py)
            return conversations.latest_locked_contact(self.session, channel, address)
        stmt = (
            select(Contact)
            .where(Contact.channel == channel, Contact.address == address)
            .order_by(Contact.id.desc())
        )
        return self.session.scalars(stmt).first()

    def key_on(self, channel: str, address: str) -> SessionKey | None:
        params = {"channel": channel, "address": address}
        stmt = turn_statements()["key_on"]
        row = conversations.connection(self.session).execute(stmt, params).first()
        return SessionKey(*row) if row is not None else None

    def resolved_on_need_since(
        self, citizen_id: int, need: str, since: datetime, exclude_id: int | None
    ) -> int:
        """Count the citizen's contacts on a need resolved since a time."""
        stmt = select(func.count()).where(
            Contact.citizen_id == citizen_id,
            Contact.need == need,
            Contact.state == ContactState.CLOSED,
            Contact.closed_at >= since,
        )
        if exclude_id is not None:
            stmt = stmt.where(Contact.id != exclude_id)
        return self.session.scalar(stmt) or 0

    def history(
        self, citizen_id: int | None, channel: str, address: str, since: datetime, limit: int = 20
    ) -> list[Contact]:
        """Return a citizen's contacts on any channel opened since a time, newest first (an
        unidentified citizen's: those on the same channel address)."""
        if citizen_id is not None:
            mine = Contact.citizen_id == citizen_id
        else:
            mine = (Contact.channel == channel) & (Contact.address == address)
        stmt = (
            select(Contact)
            .where(mine, Contact.opened_at >= since)
            .order_by(Contact.opened_at.desc(), Contact.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def list_by_state(self, states: tuple[str, ...], limit: int = 200) -> list[Contact]:
        stmt = (
            select(Contact)
            .where(Contact.state.in_(states))
            .order_by(Contact.last_activity_at.desc())
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def assigned_to(self, agent_id: int) -> list[Contact]:
        stmt = (
            select(Contact)
            .where(Contact.agent_id == agent_id, Contact.state == ContactState.ASSIGNED)
            .order_by(Contact.last_activity_at)
        )
        return list(self.session.scalars(stmt))

    def held_by(self, agent_id: int) -> dict[str, int]:
        """Count the open contacts assigned to an agent, by channel."""
        stmt = (
            select(Contact.channel, func.count())
            .where(Contact.agent_id == agent_id, Contact.state == ContactState.ASSIGNED)
            .group_by(Contact.channel)
        )
        return {channel: n for channel, n in self.session.execute(stmt)}

    def agents_holding(self, channel: str) -> set[int]:
        stmt = select(Contact.agent_id).where(
            Contact.channel == channel,
            Contact.state == ContactState.ASSIGNED,
            Contact.agent_id.is_not(None),
        )
        return set(self.session.scalars(stmt))


class SqlMessageRepository(SqlRepository):
    """Messages are read and inserted with Core and tracked (router/adapters/conversations.py):
    a turn files one and answers it, the ORM cost more than SQLite."""

    def add(self, obj: Message) -> Message:
        try:
            return conversations.add_message(self.session, obj)
        except IntegrityError as exc:
            raise_duplicate_delivery(self.session, exc)
            raise

    def get(self, message_id: int, *, for_update: bool = False) -> Message | None:
        return conversations.message(self.session, message_id, for_update=for_update)

    def with_contact(self, message_id: int) -> tuple[Message | None, Contact | None]:
        return conversations.message_with_contact(self.session, message_id)

    def count_outbound_by_status(self) -> dict[tuple[str, str], int]:
        """Count outbound messages by (channel, delivery status)."""
        stmt = (
            select(Message.channel, Message.delivery_status, func.count())
            .where(Message.direction == "out", Message.delivery_status.is_not(None))
            .group_by(Message.channel, Message.delivery_status)
        )
        return {(c, st): n for c, st, n in self.session.execute(stmt)}

    def in_delivery_status(
        self, channel: str, statuses: tuple[str, ...], due_before: datetime, limit: int = 100
    ) -> list[Message]:
        """Return outbound messages in one of `statuses` whose next_attempt_at has passed."""
        stmt = (
            select(Message)
            .where(
                Message.channel == channel,
                Message.direction == "out",
                Message.delivery_status.in_(statuses),
                Message.next_attempt_at <= due_before,
            )
            .order_by(Message.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def by_provider_id(self, channel: str, provider_id: str) -> Message | None:
        stmt = turn_statements()["message_by_provider_id"]
        params = {"channel": channel, "provider_id": provider_id}
        return self.session.scalars(stmt, params).first()

    def for_contact(self, contact_id: int, after_id: int = 0) -> list[Message]:
        stmt = (
            select(Message)
            .where(Message.contact_id == contact_id, Message.id > after_id)
            .order_by(Message.id)
        )
        return list(self.session.scalars(stmt))

    def unfinished_of(self, contact_id: int) -> list[int]:
        stmt = turn_statements()["message_unfinished_of"]
        return list(self.session.scalars(stmt, {"contact_id": contact_id}))

    def unprocessed_inbound(self, before: datetime, limit: int = 100) -> list[Message]:
        stmt = (
            select(Message)
            .where(
                Message.direction == "in",
                Message.processed.is_(False),
                Message.created_at <= before,
            )
            .order_by(Message.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def due_outbound(self, channel: str, now: datetime, limit: int = 50) -> list[Message]:
        """Return outbound messages waiting to be handed to the provider, oldest first."""
        stmt = (
            select(Message)
            .where(
                Message.channel == channel,
                Message.direction == "out",
                Message.delivery_status.in_(CLAIMABLE),
                (Message.next_attempt_at.is_(None)) | (Message.next_attempt_at <= now),
            )
            .order_by(Message.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))


class SqlCallRepository(SqlRepository):
    """Calls are read with Core and tracked (router/adapters/conversations.py): each phone
    turn reads its call."""

    def by_sid(self, call_sid: str) -> Call | None:
        return conversations.call_by_sid(self.session, call_sid)

    def for_contact(self, contact_id: int) -> list[Call]:
        return conversations.calls_of(self.session, contact_id)


class SqlConsentRepository(SqlRepository):
    def get(self, channel: str, address: str) -> Consent | None:
        stmt = turn_statements()["consent"]
        return self.session.scalars(stmt, {"channel": channel, "address": address}).first()
