"""Commands the channels and the desk send to the router: plain, imperative dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ReceiveMessage:
    """A citizen's message as a channel received it, transport-neutral.

    `address` is the citizen's address on the channel (a chat session id, a phone number);
    `provider_id` makes delivery idempotent per channel (MessageSid, a client message id).
    `kind` lets a channel mark keyword-only messages (opt_out, opt_in, help) that never
    reach the bot. `secret_hash` (web chat): the hash of the session token the request
    carried ("" if none); the message then belongs to the latest contact on `address`,
    which must hold that hash (checked in the turn's first transaction).
    """

    channel: str
    address: str
    text: str
    provider_id: str | None = None
    kind: str = "message"
    contact_id: int | None = None
    received_at: datetime | None = None
    metadata: dict = field(default_factory=dict)
    secret_hash: str | None = None


@dataclass(frozen=True)
class TakeTurn:
    """Run the turn of one acknowledged inbox entry (an SMS, by the worker)."""

    entry_id: int


@dataclass(frozen=True)
class ResumeTurn:
    """Finish the turn of a message whose worker stopped after filing it."""

    message_id: int


@dataclass(frozen=True)
class Escalate:
    """The channel could not understand the citizen twice: file it as their turn."""

    contact_id: int
    text: str
    provider_id: str
    heard: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StartChat:
    """Open a web-chat session, optionally for a citizen already signed in elsewhere."""

    secret_hash: str
    citizen_pseudonym: str | None = None
    language: str | None = None  # the language the citizen chose on the page, if any


@dataclass(frozen=True)
class ClaimNext:
    """Give the agent the next waiting contact they may take."""

    agent_id: int
    skills: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgentReply:
    """An agent's answer to the citizen, on the citizen's own channel."""

    agent_id: int
    contact_id: int
    text: str


@dataclass(frozen=True)
class Resolve:
    """Close a contact with a wrap-up code and, from the desk, an outcome.

    With an outcome (router/domain/wrapup.py) the outcome says whether the need was
    completed and `completed` is not read.
    """

    agent_id: int
    contact_id: int
    wrap_up: str
    completed: bool = True
    outcome: str | None = None
