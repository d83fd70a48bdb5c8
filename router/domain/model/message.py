"""Messages: a contact's messages in and out with their delivery (`Message`, `DeliveryState`,
`advance`), and an inbound message acknowledged and waiting for its turn (`InboxEntry`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from router.domain import events as ev
from router.domain.model.aggregate import Aggregate, IllegalTransition


class DeliveryState(StrEnum):
    """How far an outbound message has gone (router/service/delivery.py tells the story).

    pending → sending_local (claimed by one dispatcher) → queued (the provider took it) →
    sending → sent → delivered/undelivered/failed, the provider's reports moving it forward
    only. A refusal safe to repeat goes to retry; an answer that leaves it unknown whether
    the message went goes to review, which only a person settles. blocked: never sent
    (the citizen opted out).
    """

    PENDING = "pending"
    RETRY = "retry"
    SENDING_LOCAL = "sending_local"
    REVIEW = "review"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELED = "canceled"
    READ = "read"
    BLOCKED = "blocked"


D = DeliveryState
# How far along a message is; a provider's report may only move it to a higher rank.
DELIVERY_RANK = {
    D.PENDING: 0, D.RETRY: 0, D.SENDING_LOCAL: 1, D.REVIEW: 1, D.ACCEPTED: 2, D.SCHEDULED: 2,
    D.QUEUED: 2, D.SENDING: 3, D.SENT: 4, D.DELIVERED: 5, D.UNDELIVERED: 5, D.FAILED: 5,
    D.CANCELED: 5, D.READ: 6,
}  # fmt: skip
# Waiting to be handed to the provider.
CLAIMABLE = (D.PENDING, D.RETRY)
# Handed to a sender and not yet answered for (review: a stale claim whose send may still
# come back with an answer).
SENDING = (D.SENDING_LOCAL, D.REVIEW)
# States worth an event in the log; passing through sending/sent is only kept on the message.
LOGGED_DELIVERY = frozenset({D.QUEUED, D.DELIVERED, D.UNDELIVERED, D.FAILED, D.READ, D.REVIEW,
                             D.RETRY})  # fmt: skip
del D


def advance(current: str | None, reported: str) -> str:
    """Return the delivery state after a provider reports `reported`; never backwards."""
    if current == DeliveryState.BLOCKED or reported not in DELIVERY_RANK:
        return current or reported
    if DELIVERY_RANK[DeliveryState(reported)] > DELIVERY_RANK.get(current or "pending", 0):
        return DeliveryState(reported)
    return current or reported


@dataclass
class Message(Aggregate):
    """A message in a contact, either way, with its delivery state when it leaves.

    An outbound message on a channel with a sender is created `pending` (or `blocked`); from
    there its delivery changes only through the methods below, which record what the log
    keeps (`delivery_updated`, `message_blocked`).
    """

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

    @property
    def is_claimable(self) -> bool:
        """Waiting for the provider (new, or a retry), whether or not it is due yet."""
        return self.direction == "out" and self.delivery_status in CLAIMABLE

    def is_due(self, now: datetime) -> bool:
        return self.is_claimable and (self.next_attempt_at is None or self.next_attempt_at <= now)

    @property
    def went_out(self) -> bool:
        """The provider has it (a report says so), whatever the send's own answer was."""
        rank = DELIVERY_RANK.get(self.delivery_status or "", 0)
        return rank >= DELIVERY_RANK[DeliveryState.QUEUED]

    def _require(self, *states: DeliveryState) -> None:
        if self.direction != "out" or self.delivery_status not in states:
            raise IllegalTransition(
                f"a message in delivery state {self.delivery_status!r} cannot do that"
            )

    def _moved(self, before: str | None, now: datetime) -> None:
        if self.delivery_status != before and self.delivery_status in LOGGED_DELIVERY:
            self._happened(
                ev.DELIVERY_UPDATED, now, message_id=self.id, status=str(self.delivery_status)
            )

    def claim(self, now: datetime, lease: timedelta) -> None:
        """Taken by one dispatcher; after `lease` an unfinished claim is stale."""
        self._require(*CLAIMABLE)
        self.delivery_status = DeliveryState.SENDING_LOCAL
        self.attempts += 1
        self.next_attempt_at = now + lease

    def block(self, now: datetime, why: str = "opted_out") -> None:
        """Never to be sent: the citizen opted out of the channel."""
        self._require(*CLAIMABLE)
        self.delivery_status = DeliveryState.BLOCKED
        self.last_error = "the citizen has opted out of this channel (STOP)"
        self._happened(ev.MESSAGE_BLOCKED, now, message_id=self.id, why=why)

    def handed_over(self, now: datetime, provider_id: str | None, segments: int) -> None:
        """The provider took the claimed message."""
        self._require(DeliveryState.SENDING_LOCAL, *DELIVERY_RANK)
        before = self.delivery_status
        self.provider_id = provider_id
        self.delivery_status = advance(before, DeliveryState.QUEUED)
        self.segments = segments
        self.next_attempt_at = None
        self.last_error = None
        self._moved(before, now)

    def not_taken(self, now: datetime, error: str, retry_at: datetime | None) -> None:
        """Certainly not sent: try again at `retry_at`, or give up when it is None."""
        self._require(*SENDING)
        before = self.delivery_status
        if retry_at is not None:
            self.delivery_status = DeliveryState.RETRY
            self.next_attempt_at = retry_at
            self.last_error = error
        else:
            self.delivery_status = DeliveryState.FAILED
            self.last_error = f"gave up after {self.attempts} attempts: {error}"[:250]
        self._moved(before, now)

    def maybe_sent(self, now: datetime, error: str) -> None:
        """The provider's answer leaves it unknown whether it went: a person checks."""
        self._require(*SENDING)
        before = self.delivery_status
        self.delivery_status = DeliveryState.REVIEW
        self.next_attempt_at = None
        self.last_error = f"may have been sent: {error}"[:250]
        self._moved(before, now)

    def refused(self, now: datetime, error: str) -> None:
        """The provider refused it for good."""
        self._require(*SENDING)
        before = self.delivery_status
        self.delivery_status = DeliveryState.FAILED
        self.last_error = error
        self._moved(before, now)

    def overtaken(self, error: str) -> None:
        """A provider's report said it went before the send's failed answer came back."""
        if not self.went_out:
            raise IllegalTransition("a message the provider has not reported cannot do that")
        self.last_error = f"sent, though the provider's answer was: {error}"[:250]

    def reported(self, now: datetime, status: str, error_code: str | None = None) -> None:
        """Apply the provider's report of how far the message has gone (never backwards)."""
        if self.direction != "out":
            raise IllegalTransition("an inbound message has no delivery")
        before = self.delivery_status
        self.delivery_status = advance(before, status)
        if error_code and self.delivery_status in (
            DeliveryState.UNDELIVERED,
            DeliveryState.FAILED,
        ):
            self.last_error = f"Twilio error {error_code}"
        self._moved(before, now)

    def claim_lapsed(self, now: datetime) -> None:
        """Its dispatcher stopped before sending, as the provider says (it has no such
        message): claimable again at once, and the attempt that never left not counted."""
        self._require(DeliveryState.SENDING_LOCAL)
        self.delivery_status = DeliveryState.PENDING
        self.attempts = max(0, self.attempts - 1)
        self.next_attempt_at = now
        self.last_error = "its dispatcher stopped before sending; the provider had not got it"

    def claim_went_stale(self, now: datetime) -> None:
        """Its dispatcher stopped while sending: it may have gone out, so a person checks."""
        self._require(DeliveryState.SENDING_LOCAL)
        self.delivery_status = DeliveryState.REVIEW
        self.last_error = "the dispatcher stopped while sending; check before resending"
        self._happened(ev.DELIVERY_UPDATED, now, message_id=self.id, status="review")

    def settle(self, now: datetime, *, resend: bool, by: int) -> None:
        """A person checked with the citizen: send it again, or it did arrive."""
        self._require(DeliveryState.REVIEW)
        if resend:
            self.delivery_status = DeliveryState.PENDING
            self.next_attempt_at = None
            self.last_error = f"sent again by staff member {by} after a check"
        else:
            self.delivery_status = DeliveryState.SENT
            self.last_error = f"confirmed as received by staff member {by}"
        self._happened(
            ev.DELIVERY_UPDATED, now, message_id=self.id, status=str(self.delivery_status)
        )


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
