"""Ports: the small interfaces through which the service layer reaches the outside world.

Concrete implementations live in `bots.client` (the bot), `router.adapters` (storage,
Twilio, the inbox) and are chosen in one place, `router.entrypoints.bootstrap`. Tests plug in
the fakes of `tests/fakes.py`, which implement the same ports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from router.domain.commands import ReceiveMessage
from router.domain.model import InboxEntry


@dataclass(frozen=True)
class BotTurn:
    """What the bot made of one citizen message.

    `ok` is False when the bot could not answer (down, slow, circuit open, or it
    answered nothing at all); the policy treats that as a bot failure.
    """

    ok: bool
    messages: tuple[str, ...] = ()
    intent: str | None = None
    confidence: float = 0.0
    handoff: bool = False
    error: str | None = None
    entities: tuple[tuple[str, str], ...] = ()  # (entity, value), e.g. ("benefit", "pension")


class BotPort(Protocol):
    """A self-service bot reached by opaque conversation id."""

    def turn(
        self,
        conversation_id: str,
        text: str,
        *,
        language: str | None = None,
        wait: float | None = None,
    ) -> BotTurn:
        """Send one citizen message and return the bot's answer and what it understood.
        `wait`: how long the turn may wait for the bot to be free (None: the bot's own)."""
        ...

    def status(self) -> dict[str, object]:
        """Return the bot's state for /readyz: {"state": "up"|"down"|"circuit-open", ...}."""
        ...


class LanguageIdentifier(Protocol):
    """Tells which of the agency's languages a citizen's message is written in."""

    def identify(self, text: str) -> str | None:
        """Return the language (ISO 639-1) of `text`, or None when it cannot tell for sure."""
        ...


@dataclass(frozen=True)
class SendResult:
    """Outcome of handing one message to a channel's provider.

    outcome is one of:
      "accepted"  – the provider took it; `provider_id` is its sid
      "retry"     – certainly not sent (429, connection refused): safe to retry later
      "uncertain" – may have been sent (timeout, 5xx): never replay blindly, mark for review
      "rejected"  – the provider refused it for good (invalid number, opted out, ...)
    """

    outcome: str
    provider_id: str | None = None
    segments: int | None = None
    error_code: str | None = None
    error: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


class Sender(Protocol):
    """A channel's way out: hands one message to the provider (Twilio, the local sandbox).

    Channels whose citizens read replies from kanal itself (web chat) have no sender.
    """

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult: ...


@runtime_checkable
class SentLookup(Protocol):
    """What a sender may also do: say whether its provider took a message.

    Asked about a claim whose sender stopped (the lease ran out, nothing was recorded):
    `find_sent` answers the message the provider took for `to` with this `body` since
    `since` (outcome "accepted", with the provider's id), None when it certainly took none,
    or outcome "uncertain" when that cannot be known (the provider could not be asked).
    A sender that cannot tell leaves such claims to a person (`review`).
    """

    def find_sent(self, to: str, body: str, since: datetime) -> SendResult | None: ...


@dataclass(frozen=True)
class ReportedConversation:
    """What an event in the log says about its conversation (router/service/journal.py)."""

    channel: str
    need: str | None
    pseudonym: str | None


class DeliveryReports(Protocol):
    """Where a provider's report that changes nothing but a message's state is applied at
    once, without a unit of work (router/service/delivery.py decides which reports), and
    where a logged report reads its conversation's facts in one query."""

    def advance(
        self, message_id: int, provider_id: str, status: str, behind: Sequence[str]
    ) -> bool:
        """Move the outbound message `message_id` to `status` if its state is one of
        `behind` (or none) and its provider's id is `provider_id` (or none yet, then set);
        True if it moved, False if it was left as it was."""
        ...

    def contact_facts(self, contact_id: int) -> ReportedConversation | None:
        """The conversation's channel, need and citizen's pseudonym; None if no such one."""
        ...


class Inbox(Protocol):
    """Where an acknowledged inbound message waits for its turn: one durable INSERT.

    `add` answers the new entry's id, or None when the provider's id was received before
    (a retried webhook): the idempotency check and the insert are one statement. The inbox
    keeps its own transactions: a turn files the message in its first transaction, then
    marks the entry `taken`; a turn that stops in between finds the message filed (by the
    provider's id) when the entry is taken again.
    """

    def add(self, cmd: ReceiveMessage) -> int | None: ...

    def add_later(
        self, cmd: ReceiveMessage, done: Callable[[int | None, BaseException | None], None]
    ) -> None:
        """`add` for a caller that does not wait: `done(entry id or None, None)` once the
        message is committed, `done(None, error)` if it could not be (maybe in another
        thread, maybe before this returns)."""
        ...

    def get(self, entry_id: int) -> InboxEntry | None:
        """Return the entry while its turn has not been taken, else None."""
        ...

    def taken(self, entry_id: int, message_id: int) -> None:
        """Mark the entry's turn taken: it became `message_id` (0: it never will)."""
        ...

    def waiting(self, before: datetime, limit: int = 100) -> list[tuple[int, str]]:
        """Return (id, lane) of entries received before then whose turn was not taken.

        The lane ("channel:address") names whose messages must be taken one after another.
        """
        ...

    def waiting_in(self, lane: str, up_to: int) -> list[int]:
        """Return the ids of the lane's entries not taken, up to `up_to`, oldest first."""
        ...

    def lane(self, lane: str) -> AbstractContextManager[None]:
        """Hold `lane` against every other process until the block ends.

        A process that dies holding it lets it go (PostgreSQL: a session advisory lock).
        Within one process the turn worker keeps a lane's order itself.
        """
        ...

    def purge_taken(self, before: datetime) -> int:
        """Delete taken entries received before then; return how many."""
        ...


@dataclass(frozen=True)
class CallResult:
    """Outcome of asking the voice provider to place one call (SendResult's vocabulary).

    outcome is "accepted" (ringing; `call_sid` is its sid), "retry" (certainly not placed:
    429, connection refused), "uncertain" (may have been placed: timeout, 5xx) or "rejected"
    (refused for good: invalid number, not allowed).
    """

    outcome: str
    call_sid: str | None = None
    error_code: str | None = None
    error: str | None = None


class Caller(Protocol):
    """The way out for calls: asks the provider (Twilio, the sandbox) to place one."""

    def place(self, to: str, *, url: str, status_callback: str) -> CallResult:
        """Place a call to `to`; the provider fetches `url` when it is answered."""
        ...


class Dialler(Protocol):
    """kanal's own calls, as the core asks for them: a citizen called back, an agent's leg.

    The adapter (`ivr/dialler.py`) knows where the provider fetches what the call says and
    where it reports the call's statuses; the core names only whom and why.
    """

    def call_citizen(self, to: str, callback_id: int) -> CallResult:
        """Call `to` back for the callback; answering fetches the callback's leg."""
        ...

    def ring_agent(self, agent_id: int, contact_id: int) -> CallResult:
        """Ring the agent's endpoint; answering bridges the caller waiting in `contact_id`."""
        ...

    def endpoint(self, agent_id: int) -> str:
        """Whom a citizen who answered a callback is connected to (the agent's endpoint)."""
        ...


class DurableJobs(Protocol):
    """Jobs that survive restarts: run `job(arg)` in the scheduler process at `at`.

    `key` names the job (one job per key: scheduling a key again moves it). The job's name
    is one in the registry of durable jobs bootstrap builds (`Kanal.durable`).
    """

    def schedule(self, job: str, key: str, at: datetime, arg: int) -> None: ...


class LiveUpdates(Protocol):
    """Where live pages hear that contacts changed (the stream process listens).

    `publish` is handed the `ContactChanged` events of one committed unit of work, after the
    commit; it sends ids and kinds only. Failing is harmless: a page that missed a notice
    catches up when it reconnects (Last-Event-ID) or at the stream process's next sweep.
    """

    def publish(self, changes: list) -> None: ...
