"""The repositories the service layer works with, as Protocols (adapters implement them).

`router.adapters.repositories` and the modules beside it (`.citizens`, `.queue`, `.decisions`,
`.event_log`, `.desk`, `.followups`, `.staff`) implement them on SQLAlchemy; `tests/fakes.py`
in memory.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple, Protocol, TypeVar

from router.domain.access import AuditEntry
from router.domain.callbacks import Callback
from router.domain.calls import Call
from router.domain.followups import Followup
from router.domain.model import (
    ApiToken,
    Citizen,
    Consent,
    Contact,
    ContactEvent,
    Exemption,
    Message,
    QueueItem,
    RoutingDecision,
    User,
)
from router.domain.notes import InternalNote
from router.domain.offers import Offer
from router.domain.presence import Presence
from router.domain.routing import AgentProfile, Match
from router.domain.survey import Survey
from router.domain.transfers import Transfer

T = TypeVar("T")


class Repository(Protocol):
    def add(self, obj: T) -> T:
        """Add an object and give it its id."""
        ...


class CitizenRepository(Repository, Protocol):
    def get(self, citizen_id: int) -> Citizen | None: ...
    def by_phone(self, phone: str) -> Citizen | None: ...
    def by_pseudonym(self, pseudonym: str) -> Citizen | None: ...
    def exemptions(self, citizen_id: int) -> list[Exemption]: ...
    def add_exemption(self, exemption: Exemption) -> Exemption: ...
    def exemption(self, exemption_id: int, *, for_update: bool = False) -> Exemption | None: ...

    def exemptions_to_remind(self, today: date, days: int, limit: int = 200) -> list[Exemption]:
        """Return exemptions in force today that end within `days` and whose end date was
        not reminded yet, soonest end first."""
        ...

    def count(self) -> int: ...


class SessionKey(NamedTuple):
    """What opening a conversation's session needs of its latest contact (web chat's bearer
    check): read alone, without the whole contact."""

    id: int
    state: str
    secret_hash: str | None
    language: str | None


class ContactRepository(Repository, Protocol):
    def lock_address(self, channel: str, address: str) -> None:
        """Hold a channel address until the transaction ends (one contact opens, not two)."""
        ...

    def get(self, contact_id: int, *, for_update: bool = False) -> Contact | None: ...

    def open_on(self, channel: str, address: str, active_since: datetime) -> Contact | None:
        """Return the open contact on a channel address (a bot one only if active since)."""
        ...

    def stale_open_on(self, channel: str, address: str) -> list[Contact]: ...
    def latest_on(self, channel: str, address: str, *, for_update: bool = False) -> Contact | None:
        """The latest contact on a channel address (its row locked if `for_update`)."""
        ...

    def key_on(self, channel: str, address: str) -> SessionKey | None:
        """The latest contact on a channel address, as its session's key."""
        ...

    def resolved_on_need_since(
        self, citizen_id: int, need: str, since: datetime, exclude_id: int | None
    ) -> int: ...

    def list_by_state(self, states: tuple[str, ...], limit: int = 200) -> list[Contact]: ...
    def assigned_to(self, agent_id: int) -> list[Contact]: ...

    def history(
        self, citizen_id: int | None, channel: str, address: str, since: datetime, limit: int = 20
    ) -> list[Contact]:
        """Return a citizen's contacts on any channel opened since a time, newest first (an
        unidentified citizen's: those on the same channel address)."""
        ...

    def held_by(self, agent_id: int) -> dict[str, int]:
        """Count the open contacts assigned to an agent, by channel."""
        ...

    def agents_holding(self, channel: str) -> set[int]:
        """Return the ids of agents holding an open assigned contact on a channel."""
        ...

    def count_open_by_state(self) -> dict[tuple[str, str], int]: ...


class MessageRepository(Repository, Protocol):
    def get(self, message_id: int, *, for_update: bool = False) -> Message | None: ...
    def with_contact(self, message_id: int) -> tuple[Message | None, Contact | None]:
        """Return the message and its contact, the contact locked until the transaction
        ends, as `get` and `ContactRepository.get(..., for_update=True)` would (the
        finishing transaction of a turn reads both; one statement)."""
        ...

    def by_provider_id(self, channel: str, provider_id: str) -> Message | None: ...
    def for_contact(self, contact_id: int, after_id: int = 0) -> list[Message]: ...
    def unprocessed_inbound(self, before: datetime, limit: int = 100) -> list[Message]: ...
    def unfinished_of(self, contact_id: int) -> list[int]:
        """Return the ids of the contact's inbound messages whose turn has not finished
        (a turn that stopped after filing them), oldest first."""
        ...

    def due_outbound(self, channel: str, now: datetime, limit: int = 50) -> list[Message]: ...

    def in_delivery_status(
        self, channel: str, statuses: tuple[str, ...], due_before: datetime, limit: int = 100
    ) -> list[Message]: ...

    def count_outbound_by_status(self) -> dict[tuple[str, str], int]: ...


class DecisionRepository(Repository, Protocol):
    def for_contact(self, contact_id: int) -> list[RoutingDecision]: ...
    def latest_for_contacts(self, contact_ids: list[int]) -> dict[int, RoutingDecision]: ...


class QueueRepository(Repository, Protocol):
    def get(self, item_id: int) -> QueueItem | None: ...
    def open_for_contact(self, contact_id: int) -> QueueItem | None: ...
    def waiting(self, limit: int = 200) -> list[QueueItem]: ...
    def waiting_count(self) -> int: ...
    def waiting_by_skill(self) -> dict[str, tuple[int, datetime | None]]: ...

    def position(self, contact_id: int) -> int:
        """Return the contact's place among the waiting, by rank (1 = next; 0: not waiting),
        counted, not read row by row."""
        ...

    def claim_next(self, match: Match) -> NextItem | None:
        """Lock and return the next waiting item `match` allows, by rank (priority plus
        aging, then the oldest), passing over items other transactions hold and items
        offered to another agent. Its contact is locked with it (and its citizen read), in
        the same statement: `lock` and `contacts.get(..., for_update=True)` of them cost
        nothing more in this transaction. What the agent holds is read again with it (the
        caller compares it with what `presence.lock_at_desk` read)."""
        ...

    def offerable(self, limit: int = 200) -> list[QueueItem]:
        """Return waiting items with no open offer, by rank."""
        ...

    def lock(self, item_id: int) -> QueueItem | None:
        """Lock and return an item as committed now (another transaction may have claimed it);
        an item this transaction locked already is returned as it holds it."""
        ...

    def answered_since(self, since: datetime) -> list[datetime]:
        """Return when agents took waiting contacts since then, oldest first."""
        ...


class CallRepository(Repository, Protocol):
    def by_sid(self, call_sid: str) -> Call | None: ...
    def for_contact(self, contact_id: int) -> list[Call]: ...


class UserRepository(Repository, Protocol):
    def get(self, user_id: int) -> User | None: ...
    def by_username(self, username: str) -> User | None: ...
    def count(self) -> int: ...
    def token_by_hash(self, token_hash: str) -> ApiToken | None: ...

    def everyone(self) -> list[User]:
        """Return every account, active or not, by username (`kanal users list`)."""
        ...

    def tokens_of(self, user_id: int) -> list[ApiToken]:
        """Return a user's API tokens not revoked."""
        ...

    def available_for_calls(self) -> list[User]:
        """Return active staff who said they take calls, by id."""
        ...


class ConsentRepository(Repository, Protocol):
    def get(self, channel: str, address: str) -> Consent | None: ...


class EventLog(Protocol):
    def append(self, event: ContactEvent) -> ContactEvent: ...
    def for_contact(self, contact_id: int) -> list[ContactEvent]: ...
    def latest(self, types: tuple[str, ...]) -> ContactEvent | None:
        """Return the latest event of these types (one index seek per type), or None."""
        ...

    def recent(self, type_: str, since: datetime, limit: int = 500) -> list[ContactEvent]:
        """Return the events of one type since `since`, newest first (a range of the
        `type, at` index)."""
        ...

    def on_desk(self, since: datetime, until: datetime) -> list[ContactEvent]:
        """Return the agents' own events (about no contact: their presence) in that time,
        oldest first."""
        ...


class CallbackRepository(Repository, Protocol):
    def get(self, callback_id: int, *, for_update: bool = False) -> Callback | None: ...
    def for_contact(self, contact_id: int) -> list[Callback]: ...

    def in_states(self, states: tuple[str, ...], limit: int = 200) -> list[Callback]:
        """Return callbacks in one of the states, oldest booking first."""
        ...

    def agents_calling(self) -> set[int]:
        """Return the ids of agents held for a callback that is ringing."""
        ...

    def pending_for(self, citizen_id: int | None, channel: str, address: str) -> Callback | None:
        """Return a callback still to be made (booked or calling) for the citizen: on any
        contact of theirs, or (citizen_id None) on a contact from that channel address."""
        ...


class FollowupRepository(Repository, Protocol):
    def get(self, followup_id: int, *, for_update: bool = False) -> Followup | None: ...

    def scheduled_on_need(
        self, need: str, *, citizen_id: int | None = None, contact_id: int | None = None
    ) -> list[Followup]:
        """Return the follow-ups still waiting on a need, of a citizen or of a contact."""
        ...

    def offered_to(self, citizen_id: int) -> Followup | None:
        """Return the citizen's newest follow-up whose callback offer is open."""
        ...

    def waiting(self, limit: int = 1000) -> list[Followup]:
        """Return the follow-ups still scheduled (their job still to run), soonest due first."""
        ...


class SurveyRepository(Repository, Protocol):
    def for_contact(self, contact_id: int, *, for_update: bool = False) -> Survey | None:
        """Return the contact's survey, if it was asked (at most one per contact)."""
        ...

    def asked_on(self, channel: str, address: str, since: datetime) -> Survey | None:
        """Return the newest survey still waiting for an answer from a channel address,
        asked at `since` or later (locked for update)."""
        ...

    def closed_unasked(
        self, channels: tuple[str, ...], since: datetime, limit: int = 200
    ) -> list[Contact]:
        """Return contacts on these channels closed at `since` or later, in which the
        citizen wrote, with no survey yet (oldest first)."""
        ...


class AuditLog(Protocol):
    """Who viewed a citizen's data at the desk, or tried to: append-only."""

    def append(self, entry: AuditEntry) -> AuditEntry: ...

    def between(
        self, since: datetime | None = None, until: datetime | None = None, limit: int = 100_000
    ) -> list[AuditEntry]:
        """Return the entries at `since` or later and before `until`, oldest first."""
        ...


class AgentRepository(Repository, Protocol):
    """Agents' routing profiles: skills, languages, teams, capacity per channel."""

    def get(self, user_id: int) -> AgentProfile | None: ...
    def all(self) -> list[AgentProfile]: ...


class NextItem(NamedTuple):
    """The next item an agent may take (locked), and what they hold as read with it."""

    item: QueueItem
    held: dict[str, int]  # their assigned contacts, by channel
    open_offers: int  # how many offers wait for their answer


class AtDesk(NamedTuple):
    """An agent's presence (locked) and what decides what they may take next."""

    presence: Presence
    profile: AgentProfile | None
    held: dict[str, int]  # their assigned contacts, by channel
    open_offers: int  # how many offers wait for their answer


class PresenceRepository(Repository, Protocol):
    def lock(self, agent_id: int) -> Presence:
        """Return the agent's presence, locked until the transaction ends (offline if new)."""
        ...

    def lock_at_desk(self, agent_id: int) -> AtDesk:
        """Lock the agent's presence (offline if new) and read, in the same statement, their
        profile, what they hold by channel and how many open offers they have."""
        ...

    def get(self, agent_id: int, *, for_update: bool = False) -> Presence | None:
        """Return an agent's presence (locked: their claims and offers queue behind it)."""
        ...

    def online(self) -> list[Presence]:
        """Return the presence of every agent not offline, by agent id."""
        ...


class OfferRepository(Repository, Protocol):
    def get(self, offer_id: int) -> Offer | None: ...
    def open_for_agent(self, agent_id: int) -> list[Offer]: ...
    def open_for_item(self, item_id: int) -> Offer | None: ...

    def overdue(self, now: datetime, limit: int = 200) -> list[Offer]:
        """Return open offers past their time (locked, skipping those others hold)."""
        ...

    def passed_over(self, item_id: int) -> set[int]:
        """Return the agents who let this item's offer expire or declined it."""
        ...


class TransferRepository(Repository, Protocol):
    def for_contact(self, contact_id: int) -> list[Transfer]: ...


class NoteRepository(Repository, Protocol):
    def for_contact(self, contact_id: int) -> list[InternalNote]:
        """Return a contact's internal notes, oldest first."""
        ...
