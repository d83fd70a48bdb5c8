"""The contact centre's domain model: plain dataclasses, mapped to storage by the adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from router.domain import events as ev
from router.domain.events import Happened

EXEMPTION_GROUNDS = (
    "impairment",
    "no_computer",
    "emigrated",
    "homeless",
    "language",
    "no_digital_id",
)

STAFF_ROLES = ("agent", "supervisor", "manager", "admin")
# An agency system's account (its API tokens report digital completions), not a person.
INTEGRATION_ROLE = "integration"
ROLES = (*STAFF_ROLES, INTEGRATION_ROLE)


@dataclass
class Citizen:
    """A person in the citizen register, known elsewhere only by `pseudonym`."""

    pseudonym: str
    phone: str | None = None
    name: str | None = None
    language: str = "en"
    birth_year: int | None = None
    created_at: datetime | None = None
    id: int | None = None


@dataclass
class Exemption:
    """A registered exemption from digital self-service (docs/domain.md §2.5)."""

    citizen_id: int
    ground: str
    valid_from: date
    valid_until: date | None = None
    registered_by: str = ""
    created_at: datetime | None = None
    id: int | None = None

    def is_valid_on(self, day: date) -> bool:
        """Return True when the exemption applies on `day` (inclusive bounds)."""
        if day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until


class ContactState(StrEnum):
    """Where a contact is: with the bot, waiting for a person, with a person, or closed."""

    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    CLOSED = "closed"


class QueueState(StrEnum):
    """Where a queue item is: waiting, taken by an agent, done, or left by the citizen."""

    WAITING = "waiting"
    ASSIGNED = "assigned"
    DONE = "done"
    ABANDONED = "abandoned"


class IllegalTransition(ValueError):
    """A contact was asked to move to a state it cannot reach from where it is."""


# Why a contact closed, and whether that counts as the need resolved by the bot.
CLOSED_BY_BOT = "bot_finished"
CLOSED_INACTIVE = "inactivity"
CLOSED_RESOLVED = "resolved"


@dataclass
class Contact:
    """One conversation of a citizen on one channel, from first message to close.

    The state changes only through the methods below; each checks the move and returns what
    happened, for the service layer to append to the event log.
    """

    channel: str
    address: str
    opened_at: datetime
    state: str = ContactState.BOT
    citizen_id: int | None = None
    need: str | None = None
    last_activity_at: datetime | None = None
    closed_at: datetime | None = None
    bot_failures: int = 0
    digital_offered: bool = False
    bot_sender: str = ""
    secret_hash: str | None = None
    agent_id: int | None = None
    wrap_up: str | None = None
    # The conversation's language (ISO 639-1), once known: from the register, else identified
    # from the citizen's words; kanal's own texts and the bot use it.
    language: str | None = None
    id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.state != ContactState.CLOSED

    def _require(self, *states: ContactState) -> None:
        if self.state not in states:
            raise IllegalTransition(f"a contact in state {self.state!r} cannot do that")

    def enqueue(self, item: QueueItem) -> list[Happened]:
        """Wait for a person in `item` (a bot conversation handed off, or already waiting)."""
        self._require(ContactState.BOT, ContactState.QUEUED, ContactState.ASSIGNED)
        if item.state == QueueState.WAITING:
            self.state = ContactState.QUEUED
        return [
            Happened(
                ev.QUEUED,
                {"queue_item_id": item.id, "skill": item.skill, "priority": item.priority},
            )
        ]

    def assign(self, item: QueueItem, agent_id: int, now: datetime) -> list[Happened]:
        """Give the waiting contact to an agent."""
        self._require(ContactState.QUEUED, ContactState.BOT)
        self.state = ContactState.ASSIGNED
        self.agent_id = agent_id
        self.last_activity_at = now
        wait = max(0, int((now - item.enqueued_at).total_seconds()))
        data = {"queue_item_id": item.id, "agent_id": agent_id, "wait_seconds": wait}
        return [Happened(ev.AGENT_ASSIGNED, data)]

    def close(
        self,
        now: datetime,
        why: str,
        *,
        item: QueueItem | None = None,
        agent_id: int | None = None,
        wrap_up: str | None = None,
        completed: bool | None = None,
        digital: bool = False,
        rule_id: str | None = None,
    ) -> list[Happened]:
        """Close the contact: the one way a contact ends, whoever ends it.

        A bot conversation that ends (the bot finished, or the citizen left it) was resolved
        by self-service; an agent resolves with a wrap-up code; a citizen who leaves the queue
        abandons their place in it.
        """
        self._require(ContactState.BOT, ContactState.QUEUED, ContactState.ASSIGNED)
        was = self.state
        happened: list[Happened] = []
        if why == CLOSED_RESOLVED:
            self.wrap_up = wrap_up
            happened.append(
                Happened(
                    ev.RESOLVED,
                    {
                        "by": "agent",
                        "agent_id": agent_id,
                        "wrap_up": wrap_up,
                        "completed": bool(completed),
                        "digital": digital,
                    },
                )
            )
        elif was == ContactState.BOT:
            happened.append(
                Happened(
                    ev.RESOLVED,
                    {
                        "by": "bot",
                        "wrap_up": "self_service",
                        "completed": self.need is not None,
                        "digital": digital,
                    },
                )
            )
        if item is not None and item.state in (QueueState.WAITING, QueueState.ASSIGNED):
            waiting = item.state == QueueState.WAITING
            item.state = (
                QueueState.ABANDONED if waiting and why == CLOSED_INACTIVE else QueueState.DONE
            )
            item.closed_at = now
        self.state = ContactState.CLOSED
        self.closed_at = now
        data: dict = {"why": why}
        if why == CLOSED_INACTIVE:
            data["state_before"] = str(was)
        if self.language:
            data["language"] = self.language  # for outcomes by language (docs/domain.md §4)
        if rule_id:
            data["rule_id"] = rule_id
        happened.append(Happened(ev.CLOSED, data))
        return happened


@dataclass
class Message:
    """A message in a contact, either way, with its delivery state when it leaves."""

    channel: str
    direction: str  # in | out
    author: str  # citizen | bot | agent | system
    text: str
    created_at: datetime
    contact_id: int | None = None
    address: str | None = None
    provider_id: str | None = None
    kind: str = "message"  # message | opt_out | opt_in | help
    processed: bool = False
    agent_id: int | None = None
    delivery_status: str | None = None
    segments: int | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    id: int | None = None


@dataclass
class InboxEntry:
    """An acknowledged inbound message waiting for its turn (the webhook's one INSERT).

    `message_id` is set, in the turn's first transaction, when the entry becomes a message of
    a contact: from then on the entry is only kept so a retried webhook is recognised.
    """

    channel: str
    address: str
    text: str
    received_at: datetime
    provider_id: str | None = None
    kind: str = "message"
    contact_id: int | None = None
    message_id: int | None = None
    id: int | None = None


@dataclass
class RoutingDecision:
    """The policy's decision on one turn, kept with the inputs it saw."""

    contact_id: int
    profile: str
    rule_id: str
    action: str
    reason: str
    decided_at: datetime
    inputs: dict = field(default_factory=dict)
    message_id: int | None = None
    skill: str | None = None
    priority: int = 0
    id: int | None = None


@dataclass
class QueueItem:
    """A contact waiting for, or handled by, a person."""

    contact_id: int
    skill: str
    priority: int
    enqueued_at: datetime
    state: str = QueueState.WAITING
    agent_id: int | None = None
    claimed_at: datetime | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    id: int | None = None


@dataclass
class User:
    """A member of staff who signs in to the desk or the dashboards."""

    username: str
    password_hash: str
    role: str
    display_name: str = ""
    active: bool = True
    created_at: datetime | None = None
    # The agent has said, at the desk, that they take calls (callbacks are placed for them).
    available_for_calls: bool = False
    id: int | None = None


@dataclass
class ApiToken:
    """A bearer token for the API, stored hashed."""

    name: str
    token_hash: str
    user_id: int
    created_at: datetime
    revoked: bool = False
    id: int | None = None


@dataclass
class Consent:
    """Whether a channel address may be messaged (SMS opt-out/opt-in)."""

    channel: str
    address: str
    opted_in: bool
    changed_at: datetime
    keyword: str | None = None
    id: int | None = None


@dataclass
class ContactEvent:
    """One step of a contact, appended to the log that analytics reads."""

    type: str
    at: datetime
    channel: str
    contact_id: int | None = None
    citizen: str | None = None  # pseudonym only
    need: str | None = None
    data: dict = field(default_factory=dict)
    id: int | None = None
