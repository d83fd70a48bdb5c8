"""Repositories: the queries the service layer needs, in its own words.

Here are those of the turn and the queue (citizens, contacts, messages, decisions, calls,
consents, the event log); the desk's are in `desk`, what follows a contact's in `followups`,
the staff's in `staff`.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, text, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from router.adapters import claiming, conversations
from router.adapters.orm import contact_events, queue_items, routing_decisions
from router.adapters.orm import contacts as contacts_table
from router.adapters.sql_repository import SqlRepository, raise_duplicate_delivery
from router.domain.calls import Call
from router.domain.model import (
    CLAIMABLE,
    Citizen,
    Consent,
    Contact,
    ContactEvent,
    ContactState,
    Exemption,
    Message,
    QueueItem,
    QueueState,
    RoutingDecision,
)
from router.domain.offers import Offer, OfferState
from router.domain.presence import DESK
from router.domain.routing import Match
from router.service.repositories import NextItem, SessionKey

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


# The turn's statements, built once with bound parameters: building a select costs more
# than SQLite takes to run it (coercion and the cache key on every call).
@functools.cache
def _turn_statements() -> dict[str, object]:
    channel, address = bindparam("channel"), bindparam("address")
    c = contacts_table.c  # statements on the table run without the ORM's work per statement
    open_at = select(Contact).where(
        Contact.channel == channel, Contact.address == address, Contact.state != ContactState.CLOSED
    )
    return {
        "citizen_by_phone": select(Citizen).where(Citizen.phone == bindparam("phone")),
        "contact_open_on": open_at.where(
            (Contact.state != ContactState.BOT)
            | (Contact.last_activity_at >= bindparam("active_since"))
        ).order_by(Contact.id.desc()),
        "contact_stale_open_on": open_at,
        "message_by_provider_id": select(Message).where(
            Message.channel == channel, Message.provider_id == bindparam("provider_id")
        ),
        "queue_waiting_count": select(func.count())
        .select_from(queue_items)
        .where(queue_items.c.state == QueueState.WAITING),
        "consent": select(Consent).where(Consent.channel == channel, Consent.address == address),
        "message_unfinished_of": select(Message.id)
        .where(
            Message.contact_id == bindparam("contact_id"),
            Message.direction == "in",
            Message.processed.is_(False),
        )
        .order_by(Message.id),
        # Every chat request checks its session's token: four columns, no contact loaded.
        "key_on": select(c.id, c.state, c.secret_hash, c.language)
        .where(c.channel == channel, c.address == address)
        .order_by(c.id.desc())
        .limit(1),
        # Built once: a statement's cache key is computed once per object (13 µs each time).
        "insert_events": insert(contact_events),
        "insert_decisions": insert(routing_decisions),
    }


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


class SqlCitizenRepository(SqlRepository):
    def get(self, citizen_id: int) -> Citizen | None:
        return self._claimed(Citizen, citizen_id) or self.session.get(Citizen, citizen_id)

    def by_phone(self, phone: str) -> Citizen | None:
        stmt = _turn_statements()["citizen_by_phone"]
        return self.session.scalars(stmt, {"phone": phone}).first()

    def by_pseudonym(self, pseudonym: str) -> Citizen | None:
        return self.session.scalars(select(Citizen).where(Citizen.pseudonym == pseudonym)).first()

    def exemptions(self, citizen_id: int) -> list[Exemption]:
        stmt = select(Exemption).where(Exemption.citizen_id == citizen_id).order_by(Exemption.id)
        return list(self.session.scalars(stmt))

    def add_exemption(self, exemption: Exemption) -> Exemption:
        return self.add(exemption)

    def exemption(self, exemption_id: int, *, for_update: bool = False) -> Exemption | None:
        if for_update:
            stmt = select(Exemption).where(Exemption.id == exemption_id).with_for_update()
            return self.session.scalars(stmt).first()
        return self.session.get(Exemption, exemption_id)

    def exemptions_to_remind(self, today: date, days: int, limit: int = 200) -> list[Exemption]:
        stmt = (
            select(Exemption)
            .where(
                Exemption.valid_from <= today,
                Exemption.valid_until >= today,
                Exemption.valid_until <= today + timedelta(days=days),
                Exemption.reminded_for.is_(None)
                | (Exemption.reminded_for != Exemption.valid_until),
            )
            .order_by(Exemption.valid_until, Exemption.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Citizen)) or 0


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
        stmt = _turn_statements()["contact_open_on"]
        params = {"channel": channel, "address": address, "active_since": active_since}
        return self.session.scalars(stmt, params).first()

    def stale_open_on(self, channel: str, address: str) -> list[Contact]:
        stmt = _turn_statements()["contact_stale_open_on"]
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
        stmt = _turn_statements()["key_on"]
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
        stmt = _turn_statements()["message_by_provider_id"]
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
        stmt = _turn_statements()["message_unfinished_of"]
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
        self.session.connection().execute(_turn_statements()["insert_decisions"], rows)

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
        stmt = _turn_statements()["queue_waiting_count"]
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


class SqlCallRepository(SqlRepository):
    """Calls are read with Core and tracked (router/adapters/conversations.py): each phone
    turn reads its call."""

    def by_sid(self, call_sid: str) -> Call | None:
        return conversations.call_by_sid(self.session, call_sid)

    def for_contact(self, contact_id: int) -> list[Call]:
        return conversations.calls_of(self.session, contact_id)


class SqlConsentRepository(SqlRepository):
    def get(self, channel: str, address: str) -> Consent | None:
        stmt = _turn_statements()["consent"]
        return self.session.scalars(stmt, {"channel": channel, "address": address}).first()


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
            self.session.connection().execute(_turn_statements()["insert_events"], rows)

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
