"""The contact centre's domain model: plain dataclasses, mapped to storage by the adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

EXEMPTION_GROUNDS = (
    "impairment",
    "no_computer",
    "emigrated",
    "homeless",
    "language",
    "no_digital_id",
)

ROLES = ("agent", "supervisor", "manager", "admin")


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


@dataclass
class Contact:
    """One conversation of a citizen on one channel, from first message to close."""

    channel: str
    address: str
    opened_at: datetime
    state: str = "bot"  # bot | queued | assigned | closed
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
    id: int | None = None


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
    state: str = "waiting"  # waiting | assigned | done | abandoned
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
