"""Outbound delivery through a channel's sender: consent first, send once, retry only what
certainly did not go.

A message goes pending → sending_local (claimed by one dispatcher) → queued (the provider
took it) → sending → sent → delivered/undelivered/failed, with status callbacks moving it
forward only. A refusal that is safe to repeat (429, connection refused) goes to `retry`
with exponential backoff; an answer that leaves it unknown whether the SMS went (timeout,
5xx) goes to `review` and is never resent automatically: the citizen must not get it twice.

What a handler writes is claimed in the transaction that writes it (`claim_new`, with a
lease) and sent once that transaction has committed (`after_commit`: the message bus hands
`ClaimedReplies` to `send`); the provider's answer is recorded in one more transaction. A
claim whose lease ran out with nothing recorded (the process stopped) is settled by the
provider's own record, or by a person (`router/service/review.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from router.domain.model import DELIVERY_RANK, LOGGED_DELIVERY, Contact, DeliveryState, Message
from router.domain.segments import count_segments, split_body
from router.service.channels import Channels
from router.service.counters import ProcessCounters
from router.service.journal import pseudonym_of, record_events
from router.service.outbox import may_message, set_consent
from router.service.ports import DeliveryReports, SendResult
from router.service.review import Review
from router.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# Twilio: "Attempt to send to unsubscribed recipient" — the carrier holds a STOP.
OPTED_OUT_AT_PROVIDER = "21610"

# Reports that only move a message along (no event for the log, no error, no consent), by
# the states they move it from: `sending` and `sent`, two of an SMS's three callbacks.
QUIET_REPORTS = {
    str(state): tuple(sorted(str(s) for s, r in DELIVERY_RANK.items() if r < rank))
    for state, rank in DELIVERY_RANK.items()
    if state not in LOGGED_DELIVERY and rank > DELIVERY_RANK[DeliveryState.SENDING_LOCAL]
}


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff for sends that certainly did not go out."""

    first_seconds: int = 30
    max_seconds: int = 3600
    max_attempts: int = 6

    def delay(self, attempts: int) -> timedelta:
        """Return the wait before attempt number `attempts + 1`."""
        return timedelta(seconds=min(self.max_seconds, self.first_seconds * 2 ** (attempts - 1)))


@dataclass(frozen=True)
class Claim:
    """One message claimed for sending: on which channel, where to and what."""

    message_id: int
    channel: str
    to: str
    body: str
    # What the delivery events carry, so recording the outcome reads no contact.
    contact_id: int | None = None
    pseudonym: str | None = None
    need: str | None = None


@dataclass(frozen=True)
class ClaimedReplies:
    """Messages claimed in a transaction, to be sent once it has committed (not logged)."""

    claims: tuple[Claim, ...]


class Delivery(Review):
    """Send the router's outbound messages through each channel's sender and track them."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        channels: Channels,
        clock: Callable[[], datetime],
        *,
        backoff: Backoff | None = None,
        lease: timedelta = timedelta(minutes=2),
        counters: ProcessCounters | None = None,
        reports: DeliveryReports | None = None,
    ) -> None:
        self.uow = uow_factory
        # Where a quiet report (QUIET_REPORTS) is applied in one statement; None: every
        # report through a unit of work.
        self.reports = reports
        # Deliveries by outcome for /metrics (this process' own counts).
        self.counters = counters or ProcessCounters()
        self.channels = channels
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.lease = lease

    # -- inside a turn's transaction, then after its commit ---------------------------------

    def claim(self, uow: UnitOfWork, message_ids: Iterable[int]) -> tuple[Claim, ...]:
        """Claim due messages for sending in the caller's transaction."""
        now = self.clock()
        claims: list[Claim] = []
        for message_id in message_ids:
            claims.extend(self._claim_one(uow, message_id, now))
        return tuple(claims)

    def claim_new(
        self, uow: UnitOfWork, contact: Contact, pseudonym: str | None, messages: Iterable[Message]
    ) -> tuple[Claim, ...]:
        """Claim messages `say` has just added in the caller's transaction.

        Consent was checked when they were added (an opted-out address made them `blocked`).
        """
        now = self.clock()
        claims: list[Claim] = []
        for message in messages:
            if message.delivery_status != DeliveryState.PENDING:
                continue
            for part in [message, *self._split(uow, message)]:
                claims.append(self._take(part, now, contact, pseudonym))
        return tuple(claims)

    @staticmethod
    def after_commit(uow: UnitOfWork, claims: tuple[Claim, ...]) -> None:
        """Have the message bus send `claims` once the caller's transaction has committed."""
        if claims:
            uow.after_commit.append(ClaimedReplies(claims))

    def send(self, claims: Iterable[Claim]) -> int:
        """Hand claimed messages to their senders; return how many were accepted."""
        accepted = 0
        for claim in claims:
            accepted += self._send(claim) == "accepted"
        return accepted

    # -- on their own (scheduler, desk) --------------------------------------------------------

    def deliver(self, message_ids: Iterable[int]) -> int:
        """Claim and send messages, each claim in its own transaction; return accepted."""
        accepted = 0
        for message_id in message_ids:
            with self.uow() as uow:
                claims = self.claim(uow, [message_id])
                uow.commit()
            accepted += self.send(claims)
        return accepted

    def dispatch_due(self) -> int:
        """Settle stale claims, then send what is due (new and retries); return accepted."""
        self.review_stale_claims()
        with self.uow() as uow:
            ids = [
                m.id
                for channel in self.channels.with_senders()
                for m in uow.messages.due_outbound(channel.name, self.clock())
            ]
        return self.deliver(ids)

    def record_status(
        self,
        channel: str,
        message_id: int | None,
        provider_id: str,
        status: str,
        error_code: str | None = None,
    ) -> str | None:
        """Apply a provider's status callback; return the message's state, None if unknown."""
        behind = QUIET_REPORTS.get(status)
        quiet = behind and message_id is not None and self.reports is not None
        if quiet and self.reports.advance(message_id, provider_id, status, behind):
            return status
        # Not moved (already further along, someone else's id, not found): the full path.
        now = self.clock()
        with self.uow() as uow:
            message = None
            if message_id is not None:
                message = uow.messages.get(message_id, for_update=True)
                if message is not None and message.provider_id not in (None, provider_id):
                    message = None
            if message is None:
                found = uow.messages.by_provider_id(channel, provider_id)
                message = uow.messages.get(found.id, for_update=True) if found else None
            if message is None or message.direction != "out":
                return None
            # A callback proves the provider has it, even after a send that timed out.
            message.provider_id = message.provider_id or provider_id
            message.reported(now, status, error_code)
            self._log_report(uow, message, now)
            failed = (DeliveryState.UNDELIVERED, DeliveryState.FAILED)
            if error_code == OPTED_OUT_AT_PROVIDER and message.delivery_status in failed:
                set_consent(uow, message.channel, message.address, False, "carrier", now)
            uow.commit()
            return message.delivery_status

    def _log_report(self, uow: UnitOfWork, message: Message, now: datetime) -> None:
        """Append what the report recorded (delivered, undelivered...) with its
        conversation's facts read in one query, rather than the contact and the citizen
        loaded whole when the unit of work commits: a tenth of the web's CPU per SMS)."""
        if self.reports is None or message.contact_id is None:
            return  # the commit appends it (write_new_events)
        facts = self.reports.contact_facts(message.contact_id)
        if facts is None:
            return
        others = record_events(
            uow, message, channel=facts.channel, contact_id=message.contact_id,
            pseudonym=facts.pseudonym, need=facts.need, at=now,
        )  # fmt: skip
        uow.after_commit.extend(others)

    # -- steps ----------------------------------------------------------------------------

    def _claim_one(self, uow: UnitOfWork, message_id: int, now: datetime) -> list[Claim]:
        """Take a due message for sending, unless its address has opted out."""
        message = uow.messages.get(message_id, for_update=True)
        if message is None or not message.is_due(now):
            return []
        channel = self.channels[message.channel]
        if channel.sender is None:
            return []
        # A notice (the answer to the citizen's own HELP) is sent even after STOP.
        if not message.address or not (
            message.kind == "notice" or may_message(uow, channel, message.address)
        ):
            message.block(now)
            return []
        contact = uow.contacts.get(message.contact_id) if message.contact_id else None
        pseudonym = pseudonym_of(uow, contact) if contact else None
        return [
            self._take(part, now, contact, pseudonym)
            for part in [message, *self._split(uow, message)]
        ]

    def _take(
        self, message: Message, now: datetime, contact: Contact | None, pseudonym: str | None
    ) -> Claim:
        message.claim(now, self.lease)  # after the lease, a stale claim
        return Claim(
            message.id,
            message.channel,
            message.address,
            message.text,
            contact.id if contact else None,
            pseudonym,
            contact.need if contact else None,
        )

    @staticmethod
    def _split(uow: UnitOfWork, message: Message) -> list[Message]:
        """Keep the first part of an over-long reply here; add the rest as new messages."""
        parts = split_body(message.text)
        if len(parts) <= 1:
            return []
        message.text = parts[0]
        return [
            uow.messages.add(
                Message(
                    channel=message.channel,
                    direction="out",
                    author=message.author,
                    text=part,
                    created_at=message.created_at,
                    contact_id=message.contact_id,
                    address=message.address,
                    agent_id=message.agent_id,
                    kind=message.kind,
                    processed=True,
                    delivery_status=DeliveryState.PENDING,
                )
            )
            for part in parts[1:]
        ]

    def _send(self, claim: Claim) -> str:
        channel = self.channels[claim.channel]
        callback = None
        if channel.status_callback:
            callback = f"{channel.status_callback}?m={claim.message_id}"
        try:
            result = channel.sender.send(claim.to, claim.body, status_callback=callback)
        except Exception as exc:  # an adapter bug: whether it went out is unknown
            log.exception("the %s sender failed on message %s", claim.channel, claim.message_id)
            result = SendResult("uncertain", error=f"sender error: {type(exc).__name__}")
        self._record(claim, result)
        return result.outcome

    def _record(self, claim: Claim, result: SendResult) -> None:
        now = self.clock()
        with self.uow() as uow:
            message = uow.messages.get(claim.message_id, for_update=True)
            outcome = result.outcome
            if outcome != "accepted" and message.went_out:
                message.overtaken(_describe(result))  # a report came first: it went
            elif outcome == "accepted":
                segments = result.segments or count_segments(claim.body).segments
                message.handed_over(now, result.provider_id, segments)
            elif outcome == "retry":
                again = message.attempts < self.backoff.max_attempts
                retry_at = now + self.backoff.delay(message.attempts) if again else None
                message.not_taken(now, _describe(result), retry_at)
            elif outcome == "uncertain":
                message.maybe_sent(now, _describe(result))
            else:
                message.refused(now, _describe(result))
                if result.error_code == OPTED_OUT_AT_PROVIDER:
                    set_consent(uow, message.channel, message.address, False, "carrier", now)
            record_events(
                uow, message, channel=claim.channel, contact_id=claim.contact_id,
                pseudonym=claim.pseudonym, need=claim.need, at=now,
            )  # fmt: skip
            uow.commit()
        self.counters.add("deliveries", claim.channel, outcome)
        if outcome != "accepted":
            log.warning(
                "message %s not accepted: %s (%s)",
                claim.message_id,
                outcome,
                result.error_code or "-",
            )


def _describe(result: SendResult) -> str:
    code = f"Twilio error {result.error_code}: " if result.error_code else ""
    return (code + (result.error or result.outcome))[:250]
