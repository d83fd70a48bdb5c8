"""Stand-ins for peers, used only in tests of the code around them.

A stand-in implements the same port as the real peer; the real Rasa server is tested in
tests/integration/test_bot_rasa.py and the journeys that use it.

Fakes by port: `FakeUnitOfWork` and its repositories keep the router's storage in memory,
`FakeInbox` is the inbox port on the same store, `RecordingSender` is a channel's way out,
and `fake_kanal()` is kanal's own wiring (`bootstrap(config, uow=FakeUnitOfWork...)`) on
them, so the service layer's handlers run in the unit tier without Flask or a database.
tests/unit/test_fakes_match_ports.py keeps the fakes' methods in step with the Protocols they
stand in for.
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from router.domain.access import AuditEntry
from router.domain.callbacks import Callback
from router.domain.calls import Call
from router.domain.commands import ReceiveMessage
from router.domain.followups import Followup
from router.domain.model import (
    Aggregate,
    ApiToken,
    Citizen,
    Consent,
    Contact,
    ContactEvent,
    ContactState,
    Exemption,
    InboxEntry,
    Message,
    QueueItem,
    RoutingDecision,
    User,
)
from router.domain.notes import InternalNote
from router.domain.offers import Offer
from router.domain.presence import Presence
from router.domain.routing import AgentProfile, Match
from router.domain.survey import Survey, SurveyState
from router.domain.transfers import Transfer
from router.entrypoints.bootstrap import Kanal, bootstrap
from router.service.dialling import CallbackSettings
from router.service.errors import DuplicateDelivery
from router.service.journal import write_new_events
from router.service.ports import BotTurn, CallResult, SendResult
from router.service.repositories import AtDesk, NextItem, SessionKey
from router.service.survey import SurveySettings

T = TypeVar("T")

# (keyword, intent) pairs: the first keyword found in the text decides the intent.
SCRIPT = (
    ("person", "request_person"),
    ("human", "request_person"),
    ("pension", "payment_date"),
    ("payment", "payment_date"),
    ("address", "change_address"),
    ("hello", "greet"),
    ("bye", "goodbye"),
)


class ScriptedBot:
    """A bot port that answers from a keyword script and can be switched off."""

    def __init__(self) -> None:
        self.down = False
        self.turns: list[tuple[str, str]] = []
        self.languages: list[str | None] = []  # the language kanal passed on each turn
        self.waits: list[float | None] = []  # how long each turn might wait for the bot

    def turn(
        self,
        conversation_id: str,
        text: str,
        *,
        language: str | None = None,
        wait: float | None = None,
    ) -> BotTurn:
        self.turns.append((conversation_id, text))
        self.languages.append(language)
        self.waits.append(wait)
        if self.down:
            return BotTurn(ok=False, error="connection refused")
        lowered = text.lower()
        for keyword, intent in SCRIPT:
            if keyword in lowered:
                if intent == "request_person":
                    return BotTurn(True, ("Let me find a person for you.",), intent, 0.97, True)
                return BotTurn(True, (f"[{intent}] See https://example.org/{intent}",), intent, 0.9)
        return BotTurn(True, ("Sorry, I did not understand.",), "nlu_fallback", 0.2)

    def status(self) -> dict[str, object]:
        return {"state": "down" if self.down else "up"}


class ScriptedLanguages:
    """A language-identification port that knows the languages of the texts it was given.

    Any other text is unsure (None), as a real identifier is on a word like "ok".
    """

    def __init__(self, script: dict[str, str] | None = None) -> None:
        self.script = dict(script or {})
        self.asked: list[str] = []

    def identify(self, text: str) -> str | None:
        self.asked.append(text)
        return self.script.get(text)


# -- storage in memory ----------------------------------------------------------------------


def _copy(obj: T) -> T:
    """Return an independent copy of a domain dataclass (a row as another session sees it).

    Built through the constructor, so an instance mapped by SQLAlchemy gets its own state.
    """
    return type(obj)(**{f.name: copy.deepcopy(getattr(obj, f.name)) for f in fields(obj)})


class FakeStore:
    """The committed rows of every table, by domain class and id, shared by units of work.

    Ids come from one counter per table and, like database sequences, are not given back
    when a transaction rolls back.
    """

    def __init__(self) -> None:
        self.rows: dict[type, dict[int, object]] = {}
        self._ids: dict[type, itertools.count] = {}
        self.commits = 0

    def table(self, kind: type) -> dict[int, object]:
        return self.rows.setdefault(kind, {})

    def next_id(self, kind: type) -> int:
        return next(self._ids.setdefault(kind, itertools.count(1)))

    def all(self, kind: type[T]) -> list[T]:
        """Return copies of the committed rows of a table, by id (for assertions)."""
        return [_copy(row) for _, row in sorted(self.table(kind).items())]


class _Rows:
    """A unit of work's view of the store: rows are copied in when first seen, written back
    (only those added, changed or deleted) on commit, and dropped on rollback."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.reset()

    def reset(self) -> None:
        self.work: dict[type, dict[int, object]] = {}
        self.base: dict[type, dict[int, object]] = {}
        self.deleted: dict[type, set[int]] = {}

    def table(self, kind: type) -> dict[int, object]:
        work = self.work.setdefault(kind, {})
        base = self.base.setdefault(kind, {})
        deleted = self.deleted.setdefault(kind, set())
        for row_id, row in self.store.table(kind).items():
            if row_id not in work and row_id not in deleted:
                work[row_id] = _copy(row)
                base[row_id] = _copy(row)
        return work

    def select(self, kind: type[T], where: Callable[[T], bool] = lambda _: True) -> list[T]:
        return [row for _, row in sorted(self.table(kind).items()) if where(row)]

    def add(self, obj: T) -> T:
        kind = type(obj)
        table = self.table(kind)
        if obj.id is None:
            obj.id = self.store.next_id(kind)
        table[obj.id] = obj
        return obj

    def delete(self, obj: object) -> None:
        kind = type(obj)
        self.table(kind).pop(obj.id, None)
        self.deleted.setdefault(kind, set()).add(obj.id)

    def committed(self, kind: type[T], row_id: int) -> T | None:
        return self.store.table(kind).get(row_id)

    def write(self) -> None:
        for kind, work in self.work.items():
            stored = self.store.table(kind)
            base = self.base[kind]
            for row_id, row in work.items():
                if row_id not in base or base[row_id] != row:
                    stored[row_id] = _copy(row)
                    base[row_id] = _copy(row)
            for row_id in self.deleted.get(kind, ()):
                stored.pop(row_id, None)


class _FakeRepository:
    def __init__(self, rows: _Rows) -> None:
        self._rows = rows

    def add(self, obj: T) -> T:
        """Add an object and give it its id."""
        return self._rows.add(obj)

    def _one(self, kind: type[T], where: Callable[[T], bool], newest: bool = False) -> T | None:
        found = self._rows.select(kind, where)
        if not found:
            return None
        return found[-1] if newest else found[0]


class FakeCitizenRepository(_FakeRepository):
    def get(self, citizen_id: int) -> Citizen | None:
        return self._rows.table(Citizen).get(citizen_id)

    def by_phone(self, phone: str) -> Citizen | None:
        return self._one(Citizen, lambda c: c.phone == phone)

    def by_pseudonym(self, pseudonym: str) -> Citizen | None:
        return self._one(Citizen, lambda c: c.pseudonym == pseudonym)

    def exemptions(self, citizen_id: int) -> list[Exemption]:
        return self._rows.select(Exemption, lambda e: e.citizen_id == citizen_id)

    def add_exemption(self, exemption: Exemption) -> Exemption:
        return self.add(exemption)

    def exemption(self, exemption_id: int, *, for_update: bool = False) -> Exemption | None:
        return self._rows.table(Exemption).get(exemption_id)

    def exemptions_to_remind(self, today: date, days: int, limit: int = 200) -> list[Exemption]:
        found = self._rows.select(Exemption, lambda e: e.needs_reminder(today, days))
        return sorted(found, key=lambda e: (e.valid_until, e.id))[:limit]

    def count(self) -> int:
        return len(self._rows.table(Citizen))


class FakeContactRepository(_FakeRepository):
    def __init__(self, rows: _Rows) -> None:
        super().__init__(rows)
        self.locked: list[tuple[str, str]] = []

    def lock_address(self, channel: str, address: str) -> None:
        """Hold a channel address until the transaction ends (one contact opens, not two)."""
        self.locked.append((channel, address))

    def get(self, contact_id: int, *, for_update: bool = False) -> Contact | None:
        return self._rows.table(Contact).get(contact_id)

    def open_on(self, channel: str, address: str, active_since: datetime) -> Contact | None:
        """Return the open contact on a channel address (a bot one only if active since)."""
        return self._one(
            Contact,
            lambda c: (
                c.channel == channel
                and c.address == address
                and c.state != "closed"
                and (
                    c.state != "bot"
                    or (c.last_activity_at is not None and c.last_activity_at >= active_since)
                )
            ),
            newest=True,
        )

    def history(
        self, citizen_id: int | None, channel: str, address: str, since: datetime, limit: int = 20
    ) -> list[Contact]:
        """Return a citizen's contacts on any channel opened since a time, newest first (an
        unidentified citizen's: those on the same channel address)."""
        found = self._rows.select(
            Contact,
            lambda c: (
                c.opened_at >= since
                and (
                    c.citizen_id == citizen_id
                    if citizen_id is not None
                    else (c.channel, c.address) == (channel, address)
                )
            ),
        )
        return sorted(found, key=lambda c: (c.opened_at, c.id), reverse=True)[:limit]

    def stale_open_on(self, channel: str, address: str) -> list[Contact]:
        return self._rows.select(
            Contact, lambda c: c.channel == channel and c.address == address and c.state != "closed"
        )

    def latest_on(self, channel: str, address: str, *, for_update: bool = False) -> Contact | None:
        return self._one(
            Contact, lambda c: c.channel == channel and c.address == address, newest=True
        )

    def key_on(self, channel: str, address: str) -> SessionKey | None:
        found = self.latest_on(channel, address)
        if found is None:
            return None
        return SessionKey(found.id, found.state, found.secret_hash, found.language)

    def resolved_on_need_since(
        self, citizen_id: int, need: str, since: datetime, exclude_id: int | None
    ) -> int:
        return len(
            self._rows.select(
                Contact,
                lambda c: (
                    c.citizen_id == citizen_id
                    and c.need == need
                    and c.state == ContactState.CLOSED
                    and c.closed_at is not None
                    and c.closed_at >= since
                    and (exclude_id is None or c.id != exclude_id)
                ),
            )
        )

    def list_by_state(self, states: tuple[str, ...], limit: int = 200) -> list[Contact]:
        found = self._rows.select(Contact, lambda c: c.state in states)
        # Most recent activity first; no activity at all last (as SQLite orders NULLs).
        found.sort(key=lambda c: c.last_activity_at or datetime.min.replace(tzinfo=UTC))
        return list(reversed(found))[:limit]

    def assigned_to(self, agent_id: int) -> list[Contact]:
        found = self._rows.select(
            Contact, lambda c: c.agent_id == agent_id and c.state == "assigned"
        )
        return sorted(found, key=lambda c: c.last_activity_at or datetime.min.replace(tzinfo=UTC))

    def count_open_by_state(self) -> dict[tuple[str, str], int]:
        open_ = self._rows.select(Contact, lambda c: c.state != "closed")
        return dict(Counter((c.channel, str(c.state)) for c in open_))

    def held_by(self, agent_id: int) -> dict[str, int]:
        """Count the open contacts assigned to an agent, by channel."""
        return dict(
            Counter(
                c.channel
                for c in self._rows.select(
                    Contact, lambda c: c.agent_id == agent_id and c.state == "assigned"
                )
            )
        )

    def agents_holding(self, channel: str) -> set[int]:
        return {
            c.agent_id
            for c in self._rows.select(
                Contact,
                lambda c: c.channel == channel and c.state == "assigned" and c.agent_id,
            )
        }


class FakeMessageRepository(_FakeRepository):
    def add(self, obj: T) -> T:
        """Add a message; a provider's id is unique per channel (a retried delivery)."""
        if (
            isinstance(obj, Message)
            and obj.provider_id is not None
            and self.by_provider_id(obj.channel, obj.provider_id) is not None
        ):
            raise DuplicateDelivery("This message was received already.")
        return super().add(obj)

    def get(self, message_id: int, *, for_update: bool = False) -> Message | None:
        return self._rows.table(Message).get(message_id)

    def with_contact(self, message_id: int) -> tuple[Message | None, Contact | None]:
        message = self.get(message_id)
        if message is None or message.contact_id is None:
            return message, None
        return message, self._rows.table(Contact).get(message.contact_id)

    def by_provider_id(self, channel: str, provider_id: str) -> Message | None:
        return self._one(Message, lambda m: m.channel == channel and m.provider_id == provider_id)

    def for_contact(self, contact_id: int, after_id: int = 0) -> list[Message]:
        return self._rows.select(Message, lambda m: m.contact_id == contact_id and m.id > after_id)

    def unfinished_of(self, contact_id: int) -> list[int]:
        return [
            m.id
            for m in self._rows.select(Message, lambda m: m.contact_id == contact_id)
            if m.direction == "in" and not m.processed
        ]

    def unprocessed_inbound(self, before: datetime, limit: int = 100) -> list[Message]:
        return self._rows.select(
            Message, lambda m: m.direction == "in" and not m.processed and m.created_at <= before
        )[:limit]

    def due_outbound(self, channel: str, now: datetime, limit: int = 50) -> list[Message]:
        return self._rows.select(
            Message,
            lambda m: (
                m.channel == channel
                and m.direction == "out"
                and m.delivery_status in ("pending", "retry")
                and (m.next_attempt_at is None or m.next_attempt_at <= now)
            ),
        )[:limit]

    def in_delivery_status(
        self, channel: str, statuses: tuple[str, ...], due_before: datetime, limit: int = 100
    ) -> list[Message]:
        return self._rows.select(
            Message,
            lambda m: (
                m.channel == channel
                and m.direction == "out"
                and m.delivery_status in statuses
                and m.next_attempt_at is not None
                and m.next_attempt_at <= due_before
            ),
        )[:limit]

    def count_outbound_by_status(self) -> dict[tuple[str, str], int]:
        out = self._rows.select(
            Message, lambda m: m.direction == "out" and m.delivery_status is not None
        )
        return dict(Counter((m.channel, m.delivery_status) for m in out))


class FakeDecisionRepository(_FakeRepository):
    def for_contact(self, contact_id: int) -> list[RoutingDecision]:
        return self._rows.select(RoutingDecision, lambda d: d.contact_id == contact_id)

    def latest_for_contacts(self, contact_ids: list[int]) -> dict[int, RoutingDecision]:
        latest: dict[int, RoutingDecision] = {}
        for d in self._rows.select(RoutingDecision, lambda d: d.contact_id in contact_ids):
            latest[d.contact_id] = d  # by id: the last one seen is the newest
        return latest


def _queue_order(item: QueueItem) -> tuple:
    return (item.rank_at, item.id)


class FakeQueueRepository(_FakeRepository):
    def get(self, item_id: int) -> QueueItem | None:
        return self._rows.table(QueueItem).get(item_id)

    def open_for_contact(self, contact_id: int) -> QueueItem | None:
        return self._one(
            QueueItem,
            lambda q: q.contact_id == contact_id and q.state in ("waiting", "assigned"),
            newest=True,
        )

    def waiting(self, limit: int = 200) -> list[QueueItem]:
        return sorted(
            self._rows.select(QueueItem, lambda q: q.state == "waiting"), key=_queue_order
        )[:limit]

    def waiting_count(self) -> int:
        return len(self._rows.select(QueueItem, lambda q: q.state == "waiting"))

    def position(self, contact_id: int) -> int:
        ranks = [_queue_order(q) for q in self.waiting(limit=10**9)]
        mine = [_queue_order(q) for q in self.waiting(limit=10**9) if q.contact_id == contact_id]
        return sum(r <= mine[-1] for r in ranks) if mine else 0

    def waiting_by_skill(self) -> dict[str, tuple[int, datetime | None]]:
        by_skill: dict[str, tuple[int, datetime | None]] = {}
        for q in self._rows.select(QueueItem, lambda q: q.state == "waiting"):
            n, oldest = by_skill.get(q.skill, (0, None))
            by_skill[q.skill] = (
                n + 1,
                q.enqueued_at if oldest is None else min(oldest, q.enqueued_at),
            )
        return by_skill

    def claim_next(self, match: Match) -> NextItem | None:
        """Return the next waiting item the match allows, by rank, not offered to another,
        with what the agent holds now."""
        offered = {
            o.queue_item_id
            for o in self._rows.select(Offer, lambda o: o.state == "offered")
            if o.agent_id != match.agent_id
        }
        found = self._rows.select(
            QueueItem,
            lambda q: (
                q.state == "waiting"
                and q.id not in offered
                and match.allows(q.queue, q.channel, q.language)
            ),
        )
        if not found:
            return None
        held = Counter(
            c.channel
            for c in self._rows.select(
                Contact, lambda c: c.agent_id == match.agent_id and c.state == "assigned"
            )
        )
        offers = self._rows.select(
            Offer, lambda o: o.agent_id == match.agent_id and o.state == "offered"
        )
        return NextItem(min(found, key=_queue_order), dict(held), len(offers))

    def offerable(self, limit: int = 200) -> list[QueueItem]:
        offered = {
            o.queue_item_id for o in self._rows.select(Offer, lambda o: o.state == "offered")
        }
        return sorted(
            self._rows.select(QueueItem, lambda q: q.state == "waiting" and q.id not in offered),
            key=_queue_order,
        )[:limit]

    def lock(self, item_id: int) -> QueueItem | None:
        """Return the item as committed now: like a row lock, this sees what other
        transactions committed meanwhile (a claim by another agent)."""
        item = self._rows.table(QueueItem).get(item_id)
        committed = self._rows.committed(QueueItem, item_id)
        if item is not None and committed is not None and committed.state != item.state:
            for f in fields(committed):
                setattr(item, f.name, copy.deepcopy(getattr(committed, f.name)))
        return item

    def answered_since(self, since: datetime) -> list[datetime]:
        """Return when agents took waiting contacts since then, oldest first."""
        return sorted(
            q.claimed_at
            for q in self._rows.select(QueueItem, lambda q: q.claimed_at is not None)
            if q.claimed_at >= since
        )


class FakeCallRepository(_FakeRepository):
    def by_sid(self, call_sid: str) -> Call | None:
        return self._one(Call, lambda c: c.call_sid == call_sid)

    def for_contact(self, contact_id: int) -> list[Call]:
        return self._rows.select(Call, lambda c: c.contact_id == contact_id)


class FakeUserRepository(_FakeRepository):
    def get(self, user_id: int) -> User | None:
        return self._rows.table(User).get(user_id)

    def by_username(self, username: str) -> User | None:
        return self._one(User, lambda u: u.username == username)

    def count(self) -> int:
        return len(self._rows.table(User))

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        return self._one(ApiToken, lambda t: t.token_hash == token_hash and not t.revoked)

    def everyone(self) -> list[User]:
        return sorted(self._rows.table(User).values(), key=lambda u: u.username)

    def tokens_of(self, user_id: int) -> list[ApiToken]:
        return self._rows.select(ApiToken, lambda t: t.user_id == user_id and not t.revoked)

    def available_for_calls(self) -> list[User]:
        return self._rows.select(User, lambda u: u.active and u.available_for_calls)


class FakeConsentRepository(_FakeRepository):
    def add(self, obj: T) -> T:
        """Add a consent; one per channel address (a unique constraint in SQL)."""
        if isinstance(obj, Consent) and self.get(obj.channel, obj.address) is not None:
            raise ValueError(f"a consent for {obj.channel}:{obj.address} exists already")
        return super().add(obj)

    def get(self, channel: str, address: str) -> Consent | None:
        return self._one(Consent, lambda c: c.channel == channel and c.address == address)


class FakeCallbackRepository(_FakeRepository):
    def get(self, callback_id: int, *, for_update: bool = False) -> Callback | None:
        return self._rows.table(Callback).get(callback_id)

    def for_contact(self, contact_id: int) -> list[Callback]:
        return self._rows.select(Callback, lambda c: c.contact_id == contact_id)

    def in_states(self, states: tuple[str, ...], limit: int = 200) -> list[Callback]:
        found = self._rows.select(Callback, lambda c: c.state in states)
        return sorted(found, key=lambda c: (c.booked_at, c.id))[:limit]

    def agents_calling(self) -> set[int]:
        return {
            c.agent_id
            for c in self._rows.select(Callback, lambda c: c.state == "calling" and c.agent_id)
        }

    def pending_for(self, citizen_id: int | None, channel: str, address: str) -> Callback | None:
        contacts = self._rows.table(Contact)

        def theirs(c: Callback) -> bool:
            contact = contacts.get(c.contact_id)
            if contact is None or c.state not in ("booked", "calling"):
                return False
            if citizen_id is not None:
                return contact.citizen_id == citizen_id
            return contact.channel == channel and contact.address == address

        found = self._rows.select(Callback, theirs)
        return min(found, key=lambda c: c.id) if found else None


class FakeFollowupRepository(_FakeRepository):
    def get(self, followup_id: int, *, for_update: bool = False) -> Followup | None:
        return self._rows.table(Followup).get(followup_id)

    def scheduled_on_need(
        self, need: str, *, citizen_id: int | None = None, contact_id: int | None = None
    ) -> list[Followup]:
        return self._rows.select(
            Followup,
            lambda f: (
                f.need == need
                and f.state == "scheduled"
                and (citizen_id is None or f.citizen_id == citizen_id)
                and (contact_id is None or f.contact_id == contact_id)
            ),
        )

    def offered_to(self, citizen_id: int) -> Followup | None:
        return self._one(
            Followup, lambda f: f.citizen_id == citizen_id and f.state == "offered", newest=True
        )

    def waiting(self, limit: int = 1000) -> list[Followup]:
        found = self._rows.select(Followup, lambda f: f.state == "scheduled")
        return sorted(found, key=lambda f: (f.due_at, f.id))[:limit]


class FakeSurveyRepository(_FakeRepository):
    def for_contact(self, contact_id: int, *, for_update: bool = False) -> Survey | None:
        return self._one(Survey, lambda s: s.contact_id == contact_id)

    def asked_on(self, channel: str, address: str, since: datetime) -> Survey | None:
        contacts = self._rows.table(Contact)

        def waiting(s: Survey) -> bool:
            contact = contacts.get(s.contact_id)
            return (
                contact is not None
                and (contact.channel, contact.address) == (channel, address)
                and s.state == SurveyState.ASKED
                and s.asked_at >= since
            )

        return self._one(Survey, waiting, newest=True)

    def closed_unasked(
        self, channels: tuple[str, ...], since: datetime, limit: int = 200
    ) -> list[Contact]:
        asked = {s.contact_id for s in self._rows.select(Survey)}
        wrote = {
            m.contact_id
            for m in self._rows.select(Message, lambda m: m.direction == "in")
            if m.kind == "message"
        }
        found = self._rows.select(
            Contact,
            lambda c: (
                c.channel in channels
                and c.state == ContactState.CLOSED
                and c.closed_at is not None
                and c.closed_at >= since
                and c.id in wrote
                and c.id not in asked
            ),
        )
        return sorted(found, key=lambda c: (c.closed_at, c.id))[:limit]


class FakeEventLog(_FakeRepository):
    """The append-only log; an event is kept only if its transaction commits."""

    def append(self, event: ContactEvent) -> ContactEvent:
        return self._rows.add(event)

    def for_contact(self, contact_id: int) -> list[ContactEvent]:
        return self._rows.select(ContactEvent, lambda e: e.contact_id == contact_id)

    def on_desk(self, since: datetime, until: datetime) -> list[ContactEvent]:
        return self._rows.select(
            ContactEvent,
            lambda e: e.channel == "desk" and e.contact_id is None and since <= e.at < until,
        )

    def latest(self, types: tuple[str, ...]) -> ContactEvent | None:
        found = self._rows.select(ContactEvent, lambda e: e.type in types)
        return max(found, key=lambda e: e.at, default=None)

    def recent(self, type_: str, since: datetime, limit: int = 500) -> list[ContactEvent]:
        found = self._rows.select(ContactEvent, lambda e: e.type == type_ and e.at >= since)
        return sorted(found, key=lambda e: (e.at, e.id or 0), reverse=True)[:limit]


class FakeAuditLog(_FakeRepository):
    def append(self, entry: AuditEntry) -> AuditEntry:
        return self._rows.add(entry)

    def between(
        self, since: datetime | None = None, until: datetime | None = None, limit: int = 100_000
    ) -> list[AuditEntry]:
        return self._rows.select(
            AuditEntry,
            lambda e: (since is None or e.at >= since) and (until is None or e.at < until),
        )[:limit]


class FakeAgentRepository(_FakeRepository):
    def add(self, obj: T) -> T:
        """Add an agent's profile, keyed by their user id."""
        self._rows.table(AgentProfile)[obj.user_id] = obj
        return obj

    def get(self, user_id: int) -> AgentProfile | None:
        return self._rows.table(AgentProfile).get(user_id)

    def all(self) -> list[AgentProfile]:
        return self._rows.select(AgentProfile)


class FakePresenceRepository(_FakeRepository):
    def add(self, obj: T) -> T:
        """Add an agent's presence, keyed by their user id."""
        self._rows.table(Presence)[obj.agent_id] = obj
        return obj

    def get(self, agent_id: int, *, for_update: bool = False) -> Presence | None:
        return self._rows.table(Presence).get(agent_id)

    def lock(self, agent_id: int) -> Presence:
        """Return the agent's presence (offline if new)."""
        found = self.get(agent_id)
        return found if found is not None else self.add(Presence(agent_id=agent_id))

    def lock_at_desk(self, agent_id: int) -> AtDesk:
        """Return the agent's presence with their profile, holdings and open offers."""
        held = Counter(
            c.channel
            for c in self._rows.select(
                Contact, lambda c: c.agent_id == agent_id and c.state == "assigned"
            )
        )
        offers = self._rows.select(Offer, lambda o: o.agent_id == agent_id and o.state == "offered")
        profile = self._rows.table(AgentProfile).get(agent_id)
        return AtDesk(self.lock(agent_id), profile, dict(held), len(offers))

    def online(self) -> list[Presence]:
        return self._rows.select(Presence, lambda p: p.state != "offline")


class FakeOfferRepository(_FakeRepository):
    def get(self, offer_id: int) -> Offer | None:
        return self._rows.table(Offer).get(offer_id)

    def open_for_agent(self, agent_id: int) -> list[Offer]:
        return self._rows.select(Offer, lambda o: o.agent_id == agent_id and o.state == "offered")

    def open_for_item(self, item_id: int) -> Offer | None:
        return self._one(Offer, lambda o: o.queue_item_id == item_id and o.state == "offered")

    def overdue(self, now: datetime, limit: int = 200) -> list[Offer]:
        return self._rows.select(Offer, lambda o: o.state == "offered" and o.expires_at <= now)[
            :limit
        ]

    def passed_over(self, item_id: int) -> set[int]:
        return {
            o.agent_id
            for o in self._rows.select(
                Offer,
                lambda o: o.queue_item_id == item_id and o.state in ("expired", "declined"),
            )
        }


class FakeTransferRepository(_FakeRepository):
    def for_contact(self, contact_id: int) -> list[Transfer]:
        return self._rows.select(Transfer, lambda t: t.contact_id == contact_id)


class FakeNoteRepository(_FakeRepository):
    def for_contact(self, contact_id: int) -> list[InternalNote]:
        """Return a contact's internal notes, oldest first."""
        return self._rows.select(InternalNote, lambda n: n.contact_id == contact_id)


class FakeUnitOfWork:
    """One transaction over the in-memory store; rolled back unless committed.

    Objects a repository hands out belong to this unit of work: changes to them, and what
    was added, reach the store (and later units of work) only on commit(). `committed`
    counts this unit's commits; `store.commits` all of them.
    """

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.committed = 0
        self._rows = _Rows(store)
        self.after_commit: list[object] = []
        self.published: list[object] = []
        self._repositories()

    def _repositories(self) -> None:
        rows = self._rows
        self.citizens = FakeCitizenRepository(rows)
        self.contacts = FakeContactRepository(rows)
        self.messages = FakeMessageRepository(rows)
        self.decisions = FakeDecisionRepository(rows)
        self.queue = FakeQueueRepository(rows)
        self.users = FakeUserRepository(rows)
        self.consents = FakeConsentRepository(rows)
        self.events = FakeEventLog(rows)
        self.callbacks = FakeCallbackRepository(rows)
        self.followups = FakeFollowupRepository(rows)
        self.calls = FakeCallRepository(rows)
        self.audit = FakeAuditLog(rows)
        self.surveys = FakeSurveyRepository(rows)
        self.agents = FakeAgentRepository(rows)
        self.presence = FakePresenceRepository(rows)
        self.offers = FakeOfferRepository(rows)
        self.transfers = FakeTransferRepository(rows)
        self.notes = FakeNoteRepository(rows)

    def __enter__(self) -> FakeUnitOfWork:
        self._rows.reset()
        self.after_commit = []
        self.published = []
        return self

    def collect_new_events(self) -> Iterator[tuple[object, object]]:
        """Yield (aggregate, event) for what the aggregates seen here recorded, once each."""
        raised = [
            (number, obj, event)
            for table in list(self._rows.work.values())
            for obj in list(table.values())
            if isinstance(obj, Aggregate)
            for number, event in obj.collect_numbered()
        ]
        for _, obj, event in sorted(raised, key=lambda r: r[0]):
            yield obj, event

    def __exit__(self, *exc: object) -> None:
        self.rollback()

    def commit(self) -> None:
        """Write the aggregates' new events to the journal, then commit."""
        write_new_events(self)
        self._rows.write()
        self.published.extend(self.after_commit)
        self.after_commit.clear()
        self.committed += 1
        self.store.commits += 1

    def rollback(self) -> None:
        self.after_commit.clear()
        self._rows.reset()


class FakeInbox:
    """The inbox port on the fake store: each entry is committed at once, as one INSERT."""

    def __init__(self, store: FakeStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock
        self.lanes_held: list[str] = []  # every lane a turn held, in order

    def add(self, cmd: ReceiveMessage) -> int | None:
        """Commit the message; return its entry id, or None if the provider sent it before."""
        entries = self.store.table(InboxEntry)
        if cmd.provider_id is not None and any(
            e.channel == cmd.channel and e.provider_id == cmd.provider_id for e in entries.values()
        ):
            return None
        entry = InboxEntry(
            channel=cmd.channel,
            address=cmd.address,
            text=cmd.text,
            received_at=cmd.received_at or self.clock(),
            provider_id=cmd.provider_id,
            kind=cmd.kind,
            contact_id=cmd.contact_id,
            id=self.store.next_id(InboxEntry),
        )
        entries[entry.id] = entry
        return entry.id

    def add_later(self, cmd: ReceiveMessage, done) -> None:
        """`add`, its outcome told to `done` before returning."""
        try:
            entry_id = self.add(cmd)
        except Exception as exc:
            done(None, exc)
        else:
            done(entry_id, None)

    def get(self, entry_id: int) -> InboxEntry | None:
        """Return a copy of the entry while its turn has not been taken, else None."""
        entry = self.store.table(InboxEntry).get(entry_id)
        if entry is None or entry.message_id is not None:
            return None
        return replace(entry)

    def taken(self, entry_id: int, message_id: int) -> None:
        """Mark the entry's turn taken: it became `message_id` (0: it never will)."""
        self.store.table(InboxEntry)[entry_id].message_id = message_id

    def waiting(self, before: datetime, limit: int = 100) -> list[tuple[int, str]]:
        """Return (id, lane) of entries received before then whose turn was not taken."""
        found = sorted(
            (e for e in self.store.table(InboxEntry).values()
             if e.message_id is None and e.received_at <= before),
            key=lambda e: e.id,
        )  # fmt: skip
        return [(e.id, f"{e.channel}:{e.address}") for e in found[:limit]]

    def waiting_in(self, lane: str, up_to: int) -> list[int]:
        """Return the ids of the lane's entries not taken, up to `up_to`, oldest first."""
        return sorted(
            e.id for e in self.store.table(InboxEntry).values()
            if e.message_id is None and f"{e.channel}:{e.address}" == lane and e.id <= up_to
        )  # fmt: skip

    @contextmanager
    def lane(self, lane: str) -> Iterator[None]:
        """Hold the lane (one process: the worker's own lanes already keep the order)."""
        self.lanes_held.append(lane)
        yield

    def purge_taken(self, before: datetime) -> int:
        """Delete taken entries received before then; return how many."""
        table = self.store.table(InboxEntry)
        old = [i for i, e in table.items() if e.message_id is not None and e.received_at < before]
        for entry_id in old:
            del table[entry_id]
        return len(old)


class RecordingSender:
    """A sender port that records what it was handed and answers with scripted outcomes.

    Each outcome is a SendResult, an outcome name ("accepted", "retry", "uncertain",
    "rejected") or an exception to raise; when the script runs out, `default` answers.
    As the provider's record (`find_sent`) it knows the messages it answered "accepted" for.
    """

    def __init__(self, *outcomes: SendResult | str | Exception, default: str = "accepted") -> None:
        self.outcomes: deque[SendResult | str | Exception] = deque(outcomes)
        self.default = default
        self.sent: list[tuple[str, str, str | None]] = []
        self.taken: list[tuple[str, str, SendResult]] = []

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        self.sent.append((to, body, status_callback))
        outcome = self.outcomes.popleft() if self.outcomes else self.default
        if isinstance(outcome, Exception):
            raise outcome
        if outcome == "accepted":
            outcome = SendResult("accepted", provider_id=f"SM{len(self.sent):032x}", segments=1)
        if not isinstance(outcome, SendResult):
            return SendResult(outcome, error=f"scripted {outcome}")
        if outcome.outcome == "accepted":
            self.taken.append((to, body, outcome))
        return outcome

    def find_sent(self, to: str, body: str, since: datetime) -> SendResult | None:
        """Answer a message taken for `to` with `body` (the fake keeps no times)."""
        return next((r for t, b, r in self.taken if (t, b) == (to, body)), None)

    def bodies(self, to: str | None = None) -> list[str]:
        """Return the bodies sent (to one address, if given), in order."""
        return [body for dest, body, _ in self.sent if to is None or dest == to]


class RecordingCaller:
    """A caller port that records the calls asked for and answers with scripted outcomes.

    Each outcome is a CallResult, an outcome name or an exception to raise; when the script
    runs out, `default` answers.
    """

    def __init__(self, *outcomes: CallResult | str | Exception, default: str = "accepted") -> None:
        self.outcomes: deque[CallResult | str | Exception] = deque(outcomes)
        self.default = default
        self.placed: list[tuple[str, str, str]] = []

    def place(self, to: str, *, url: str, status_callback: str) -> CallResult:
        self.placed.append((to, url, status_callback))
        outcome = self.outcomes.popleft() if self.outcomes else self.default
        if isinstance(outcome, Exception):
            raise outcome
        if isinstance(outcome, CallResult):
            return outcome
        if outcome == "accepted":
            return CallResult("accepted", call_sid=f"CA{len(self.placed):032x}")
        return CallResult(outcome, error=f"scripted {outcome}")


class FakeJobs:
    """Durable jobs in memory: what was scheduled, run when a test says time has come."""

    def __init__(self) -> None:
        self.jobs: dict[str, tuple[str, datetime, int]] = {}
        # The registry the scheduler would run them through (`kanal.durable.run`).
        self.run: Callable[[str, int], object] | None = None

    def schedule(self, job: str, key: str, at: datetime, arg: int) -> None:
        self.jobs[key] = (job, at, arg)

    def due(self, now: datetime) -> list[str]:
        return sorted(k for k, (_job, at, _arg) in self.jobs.items() if at <= now)

    def run_due(self, now: datetime) -> list[object]:
        """Run every job due by `now` (once each), as the scheduler would; return outcomes."""
        outcomes = []
        for key in self.due(now):
            job, _at, arg = self.jobs.pop(key)
            outcomes.append(self.run(job, arg))
        return outcomes


# -- the service layer on fakes ---------------------------------------------------------------

# A Tuesday at 11:00 in Copenhagen: within the default opening hours.
OPEN_HOURS = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
PUBLIC_URL = "https://kanal.test"
STATUS_CALLBACK = PUBLIC_URL + "/twilio/sms/status"
SMS_HELP_TEXT = "kanal: text your question. Reply STOP to stop messages, START to resume."


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime = OPEN_HOURS) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class FakeKanal:
    """Kanal as bootstrap builds it on fakes, with the fakes at hand and helpers for tests.

    Every part of the container (`turns`, `desk`, `channels`, `clock`...) is reached through
    it: `k.turns` is `k.kanal.turns`.
    """

    kanal: Kanal
    store: FakeStore
    inbox: FakeInbox
    sender: RecordingSender
    caller: RecordingCaller
    jobs: FakeJobs
    secret: str = "test-secret"
    _citizens: Iterable[int] = field(default_factory=lambda: itertools.count(1))

    def __getattr__(self, name: str) -> object:
        if name.startswith("__") or name == "kanal":
            raise AttributeError(name)
        return getattr(self.kanal, name)

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)

    # -- arranging --

    def add_citizen(
        self,
        phone: str | None = None,
        *,
        exempt_ground: str | None = None,
        birth_year: int = 1950,
        language: str = "en",
    ) -> Citizen:
        """Register a citizen (optionally exempt from digital self-service)."""
        with self.uow() as uow:
            citizen = uow.citizens.add(
                Citizen(
                    pseudonym=f"c_{next(self._citizens):020d}",
                    phone=phone,
                    language=language,
                    birth_year=birth_year,
                    created_at=self.clock(),
                )
            )
            if exempt_ground:
                uow.citizens.add_exemption(
                    Exemption(
                        citizen_id=citizen.id,
                        ground=exempt_ground,
                        valid_from=date(2020, 1, 1),
                        registered_by="test",
                    )
                )
            uow.commit()
            return citizen

    def add_agent(self, username: str = "agent1", *, takes_calls: bool = False) -> int:
        """Create a member of staff at the desk and return their id."""
        with self.uow() as uow:
            user = uow.users.add(
                User(
                    username=username,
                    password_hash="-",
                    role="agent",
                    created_at=self.clock(),
                    available_for_calls=takes_calls,
                )
            )
            uow.commit()
            return user.id

    # -- reading what happened --

    def contact(self, contact_id: int) -> Contact:
        with self.uow() as uow:
            return uow.contacts.get(contact_id)

    def contact_on(self, channel: str, address: str) -> Contact | None:
        with self.uow() as uow:
            return uow.contacts.latest_on(channel, address)

    def messages(self, contact_id: int, direction: str | None = None) -> list[Message]:
        with self.uow() as uow:
            found = uow.messages.for_contact(contact_id)
        return [m for m in found if direction is None or m.direction == direction]

    def events(self, contact_id: int) -> list[ContactEvent]:
        with self.uow() as uow:
            return uow.events.for_contact(contact_id)

    def event_types(self, contact_id: int) -> list[str]:
        return [e.type for e in self.events(contact_id)]

    def decisions(self, contact_id: int) -> list[RoutingDecision]:
        with self.uow() as uow:
            return uow.decisions.for_contact(contact_id)

    def consent(self, channel: str, address: str) -> bool | None:
        with self.uow() as uow:
            found = uow.consents.get(channel, address)
            return None if found is None else found.opted_in

    def queue_item(self, contact_id: int) -> QueueItem | None:
        with self.uow() as uow:
            found = uow.queue.open_for_contact(contact_id)
            if found is None:
                items = [q for q in self.store.all(QueueItem) if q.contact_id == contact_id]
                found = items[-1] if items else None
            return found


def fake_kanal(
    bot: object | None = None,
    profile: str = "denmark",
    clock: FakeClock | Callable[[], datetime] | None = None,
    *,
    sender: RecordingSender | None = None,
    always_open: bool = False,
    channels: Iterable[str] | None = None,
    senders: dict[str, object] | None = None,
    languages: tuple[str, ...] = ("en", "da"),
    identify: object | None = None,
    sms_help_text: str = SMS_HELP_TEXT,
    caller: RecordingCaller | None = None,
    callback_settings: CallbackSettings | None = None,
    followup_window: timedelta = timedelta(hours=48),
    survey_settings: SurveySettings | None = None,
) -> FakeKanal:
    """Bootstrap kanal on fakes: the installed channels (or `channels`), SMS through `sender`.

    The arguments become configuration (`KANAL_POLICY`, `KANAL_ALWAYS_OPEN`...) read as in
    production; nothing of the machine's environment reaches it (`env={}`).
    """
    clock = clock if clock is not None else FakeClock()
    store = FakeStore()
    sender = sender if sender is not None else RecordingSender()
    caller = caller if caller is not None else RecordingCaller()
    inbox = FakeInbox(store, clock)
    jobs = FakeJobs()
    placing = callback_settings or CallbackSettings()
    asking = survey_settings or SurveySettings()
    config = {
        "SECRET_KEY": "test-secret",
        "KANAL_POLICY": profile,
        "KANAL_ALWAYS_OPEN": always_open,
        "KANAL_LANGUAGES": tuple(languages),
        "KANAL_PUBLIC_URL": PUBLIC_URL,
        "KANAL_SMS_HELP_TEXT": sms_help_text,
        "KANAL_TWILIO_SANDBOX": False,
        "KANAL_CALLBACK_ATTEMPTS": placing.attempts,
        "KANAL_CALLBACK_RETRY_MINUTES": placing.retry_after / timedelta(minutes=1),
        "KANAL_CALLBACK_RECHECK_SECONDS": placing.recheck.total_seconds(),
        "KANAL_DEFLECTION_FOLLOWUP_HOURS": followup_window / timedelta(hours=1),
        "KANAL_SURVEY_SHARE": asking.share,
        "KANAL_SURVEY_CHANNELS": asking.channels,
        "KANAL_SURVEY_ANSWER_HOURS": asking.answer_window / timedelta(hours=1),
    }

    def uow() -> FakeUnitOfWork:
        return FakeUnitOfWork(store)

    kanal = bootstrap(
        config,
        env={},
        uow=uow,
        inbox=inbox,
        bot=bot if bot is not None else ScriptedBot(),
        senders={"sms": sender, **(senders or {})},
        clock=clock,
        caller=caller,
        jobs=jobs,
        identify=identify,
        channels=channels,
    )
    jobs.run = kanal.durable.run
    return FakeKanal(kanal, store=store, inbox=inbox, sender=sender, caller=caller, jobs=jobs)
