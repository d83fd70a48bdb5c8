"""The contact centre's domain model: plain dataclasses, mapped to storage by the adapters."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from router.domain import events as ev
from router.domain.events import Happened
from router.domain.wrapup import Outcome, completes

EXEMPTION_GROUNDS = (
    "impairment",
    "no_computer",
    "emigrated",
    "homeless",
    "language",
    "no_digital_id",
)

# One priority step counts as this much waiting (router/domain/routing.py, `rank_at`).
DEFAULT_AGING = 900

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
    TRANSFERRED = "transferred"


class IllegalTransition(ValueError):
    """An aggregate was asked to move to a state it cannot reach from where it is."""


class Aggregate:
    """Something with a life of its own: its state changes only through its methods, and
    each keeps what happened until the unit of work collects it (`collect_events`).

    The new events live in the instance's own dictionary, not in a dataclass field: they are
    never stored, and an instance loaded from the database simply has none yet. Each is
    numbered as it is raised, so events of several aggregates are collected in that order.
    """

    def _raise(self, event: object) -> None:
        self.__dict__.setdefault("_new_events", []).append((next(_RAISED), event))

    def _happened(self, type_: str, at: datetime | None = None, **data: object) -> Happened:
        happened = Happened(type_, data, at)
        self._raise(happened)
        return happened

    def collect_numbered(self) -> list[tuple[int, object]]:
        """Return and forget (number, event) for what happened since the last collection."""
        return self.__dict__.pop("_new_events", [])

    def collect_events(self) -> list:
        """Return and forget what happened since the last collection, in order."""
        return [event for _, event in self.collect_numbered()]

    def forget(self, events: list) -> None:
        """Forget events a caller has journaled itself (they are not collected again)."""
        pending = self.__dict__.get("_new_events", [])
        pending[:] = [(n, e) for n, e in pending if not any(e is f for f in events)]


_RAISED = itertools.count(1)


@dataclass
class Exemption(Aggregate):
    """A registered exemption from digital self-service (docs/domain.md §2.5)."""

    citizen_id: int
    ground: str
    valid_from: date
    valid_until: date | None = None
    registered_by: str = ""
    created_at: datetime | None = None
    # The end date the citizen was last reminded of (one reminder per end date, §2.5).
    reminded_for: date | None = None
    id: int | None = None

    def is_valid_on(self, day: date) -> bool:
        """Return True when the exemption applies on `day` (inclusive bounds)."""
        if day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until

    def needs_reminder(self, today: date, days: int) -> bool:
        """Return True when the exemption ends within `days` of `today` (and has not ended)
        and the citizen was not yet reminded of that end date."""
        if self.valid_until is None or self.reminded_for == self.valid_until:
            return False
        return self.is_valid_on(today) and self.valid_until <= today + timedelta(days=days)

    def remind(
        self, now: datetime, today: date, days: int, *, sent: bool, why: str | None = None
    ) -> list[Happened]:
        """Record the reminder of the end date: texted (`sent`), or not and why. Once per
        end date: a renewal with a new end date can be reminded again."""
        if not self.needs_reminder(today, days):
            raise IllegalTransition("this exemption has no reminder due")
        self.reminded_for = self.valid_until
        data = {"exemption_id": self.id, "ground": self.ground,
                "valid_until": self.valid_until.isoformat(), "sent": sent, "why": why}  # fmt: skip
        return [self._happened(ev.EXEMPTION_REMINDED, now, **data)]


# Why a contact closed, and whether that counts as the need resolved by the bot.
CLOSED_BY_BOT = "bot_finished"
CLOSED_INACTIVE = "inactivity"
CLOSED_RESOLVED = "resolved"
# A web chat whose citizen left the queue (no stream, no heartbeat): it comes back if they do.
CLOSED_ABANDONED = "abandoned"


@dataclass
class Contact(Aggregate):
    """One conversation of a citizen on one channel, from first message to close.

    The state changes only through the methods below; each checks the move, records what
    happened (the unit of work collects it for the journal) and returns it.
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
            self.agent_id = None  # waiting again (a transfer): nobody's until it is taken
        data = {
            "queue_item_id": item.id, "skill": item.skill, "priority": item.priority,
            "queue": item.queue,
        }  # fmt: skip
        return [self._happened(ev.QUEUED, item.enqueued_at, **data)]

    def assign(self, item: QueueItem, agent_id: int, now: datetime) -> list[Happened]:
        """Give the waiting contact to an agent."""
        self._require(ContactState.QUEUED, ContactState.BOT)
        self.state = ContactState.ASSIGNED
        self.agent_id = agent_id
        self.last_activity_at = now
        wait = max(0, int((now - item.enqueued_at).total_seconds()))
        data = {"queue_item_id": item.id, "agent_id": agent_id, "wait_seconds": wait}
        return [self._happened(ev.AGENT_ASSIGNED, now, **data)]

    def abandon(self, item: QueueItem | None, now: datetime) -> list[Happened]:
        """The citizen left the queue (their chat closed, no heartbeat): close the contact as
        abandoned (`contact_closed`, `state_before: queued`, which analytics counts as an
        abandon); it comes back if they return (`come_back`)."""
        self._require(ContactState.QUEUED)
        happened = self.close(now, CLOSED_ABANDONED, item=item)
        self.wrap_up = CLOSED_ABANDONED
        return happened

    def come_back(self, item: QueueItem, now: datetime) -> list[Happened]:
        """The citizen of an abandoned chat returned: wait again, in the place they had."""
        if self.state != ContactState.CLOSED or self.wrap_up != CLOSED_ABANDONED:
            raise IllegalTransition("only a contact its citizen abandoned can come back")
        item.reopen()
        self.state = ContactState.QUEUED
        self.closed_at = None
        self.wrap_up = None
        self.last_activity_at = now
        return [self._happened(ev.RETURNED, now, queue_item_id=item.id)]

    def citizen_present(self, now: datetime) -> None:
        """The citizen still has the conversation open (a heartbeat): no event."""
        self.last_activity_at = now

    # -- what happened in the conversation (the log's record; no state of its own) ---------

    def opened(
        self,
        now: datetime,
        *,
        grounds: tuple[str, ...] | None = None,
        age_band: str | None = None,
        reopens: int | None = None,
    ) -> None:
        """Opened; `grounds` given (maybe empty) when the citizen is identified at once;
        `reopens`: the closed contact whose callback this one carries on."""
        self._happened(ev.CONTACT_OPENED, now, **({} if reopens is None else {"reopens": reopens}))
        if grounds is not None:
            self._happened(
                ev.CITIZEN_IDENTIFIED,
                now,
                exempt=bool(grounds),
                grounds=list(grounds),
                age_band=age_band,
            )

    def received(self, message_id: int, now: datetime, **heard: object) -> None:
        """The citizen's message was filed (`heard`: how the phone understood it)."""
        self.last_activity_at = now
        self._happened(ev.MESSAGE_RECEIVED, now, message_id=message_id, **heard)

    def decided(self, now: datetime, **decision: object) -> None:
        """The policy decided (stage, rule_id, action, reason, profile, context)."""
        self._happened(ev.DECISION_MADE, now, **decision)

    def heard_from_bot(
        self,
        now: datetime,
        *,
        need: str | None,
        intent: str | None,
        confidence: float,
        error: str | None,
        failures: int,
    ) -> None:
        """The bot answered (`failures` 0) or failed for the `failures`th time in a row."""
        self.bot_failures = failures
        self.need = need or self.need
        if failures == 0:
            self._happened(ev.BOT_ANSWERED, now, intent=intent, confidence=confidence)
        else:
            self._happened(
                ev.BOT_FAILED,
                now,
                intent=intent,
                confidence=confidence,
                error=error,
                consecutive=failures,
            )

    def offer_digital(self, now: datetime, rule_id: str) -> None:
        """The digital route was offered (once is remembered: the policy looks)."""
        self.digital_offered = True
        self._happened(ev.DIGITAL_OFFERED, now, rule_id=rule_id)

    def hand_off(self, now: datetime, **how: object) -> None:
        """Handed to people (rule_id, reason, from_bot, callback, callback_refused)."""
        self._require(ContactState.BOT, ContactState.QUEUED, ContactState.ASSIGNED)
        self._happened(ev.HANDED_OFF, now, **how)

    def callback_promised(self, now: datetime, **how: object) -> None:
        """A callback was promised that kanal does not book itself: the policy's (`rule_id`),
        or the phone's without a callbacks service (`reason`, `call_at`)."""
        self._happened(ev.CALLBACK_SCHEDULED, now, **how)

    def agent_call_placed(self, now: datetime, *, agent_id: int, outcome: str) -> None:
        """The desk rang an agent's leg to take this caller ("Connect call")."""
        self._happened(ev.AGENT_CALL_PLACED, now, agent_id=agent_id, outcome=outcome)

    def deflection_offered(self, now: datetime, **how: object) -> None:
        """The digital route was offered on the phone, to a contact with no call of its own
        to record it (`need`, `route`, `link`)."""
        self._happened(ev.DEFLECTION_OFFERED, now, **how)

    def consent_changed(self, now: datetime, *, opted_in: bool, keyword: str) -> None:
        """The citizen opted out of (STOP) or back in to (START) the channel."""
        self._happened(ev.SMS_OPT_IN if opted_in else ev.SMS_OPT_OUT, now, keyword=keyword)

    def agent_replied(self, now: datetime, *, message_id: int, agent_id: int, first: bool) -> None:
        """The agent holding the contact answered the citizen."""
        self._require(ContactState.ASSIGNED)
        self.last_activity_at = now
        self._happened(ev.AGENT_REPLIED, now, message_id=message_id, agent_id=agent_id, first=first)

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
        outcome: Outcome | None = None,
    ) -> list[Happened]:
        """Close the contact: the one way a contact ends, whoever ends it.

        A bot conversation that ends (the bot finished, or the citizen left it) was resolved
        by self-service; an agent resolves with a wrap-up code and, at the desk, an outcome
        (router/domain/wrapup.py), which says whether the need was completed; a citizen who
        leaves the queue abandons their place in it.
        """
        self._require(ContactState.BOT, ContactState.QUEUED, ContactState.ASSIGNED)
        was = self.state
        happened: list[Happened] = []
        if why == CLOSED_RESOLVED:
            self.wrap_up = wrap_up
            resolved = {
                "by": "agent",
                "agent_id": agent_id,
                "wrap_up": wrap_up,
                "completed": completes(outcome) if outcome is not None else bool(completed),
                "digital": digital,
            }
            if outcome is not None:
                resolved["outcome"] = str(Outcome(outcome))
            happened.append(Happened(ev.RESOLVED, resolved))
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
        left = why in (CLOSED_INACTIVE, CLOSED_ABANDONED)
        if item is not None and item.is_open:
            item.end(now, left=left)
        self.state = ContactState.CLOSED
        self.closed_at = now
        data: dict = {"why": why}
        if left:
            data["state_before"] = str(was)
        if self.language:
            data["language"] = self.language  # for outcomes by language (docs/domain.md §4)
        if rule_id:
            data["rule_id"] = rule_id
        happened.append(Happened(ev.CLOSED, data))
        happened = [Happened(h.type, h.data, now) for h in happened]
        for h in happened:
            self._raise(h)
        return happened


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
class QueueItem(Aggregate):
    """A contact waiting for, or handled by, a person.

    waiting → assigned (an agent claimed it) → done; a waiting item the citizen left is
    abandoned; an item its agent (or a supervisor) handed on is transferred, and a new item
    waits in the queue it went to. What the log keeps of it is recorded by its contact.

    `queue` is the queue it waits in (router/domain/routing.py), `channel` and `language`
    the contact's; `rank_at` orders the waiting (routing.rank_at: priority plus aging).
    """

    contact_id: int
    skill: str
    priority: int
    enqueued_at: datetime
    state: str = QueueState.WAITING
    agent_id: int | None = None
    claimed_at: datetime | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    queue: str | None = None
    channel: str | None = None
    language: str | None = None
    rank_at: datetime | None = None
    # SLA timers (router/domain/sla.py): when the wait reached 80 % and 100 % of its target.
    sla_warned_at: datetime | None = None
    sla_breached_at: datetime | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        self.queue = self.queue or self.skill
        if self.rank_at is None:
            self.rank_at = self.enqueued_at - timedelta(seconds=self.priority * DEFAULT_AGING)

    @property
    def is_open(self) -> bool:
        return self.state in (QueueState.WAITING, QueueState.ASSIGNED)

    @property
    def is_waiting(self) -> bool:
        return self.state == QueueState.WAITING

    def claim(self, agent_id: int, now: datetime) -> None:
        """Give the waiting item to an agent."""
        if self.state != QueueState.WAITING:
            raise IllegalTransition(f"a queue item in state {self.state!r} cannot be claimed")
        self.state = QueueState.ASSIGNED
        self.agent_id = agent_id
        self.claimed_at = now

    def answer(self, now: datetime) -> bool:
        """Note a person's first answer; return True when this was the first."""
        if self.answered_at is not None:
            return False
        self.answered_at = now
        return True

    def transfer(self, now: datetime) -> None:
        """Handed on to another queue or agent (a new item waits there)."""
        if not self.is_open:
            raise IllegalTransition(f"a queue item in state {self.state!r} cannot be transferred")
        self.state = QueueState.TRANSFERRED
        self.closed_at = now

    def reopen(self) -> None:
        """A citizen who abandoned their place came back: waiting again, since the start."""
        if self.state != QueueState.ABANDONED:
            raise IllegalTransition(f"a queue item in state {self.state!r} cannot be reopened")
        self.state = QueueState.WAITING
        self.closed_at = None

    def _require_waiting(self, what: str) -> None:
        if self.state != QueueState.WAITING:
            raise IllegalTransition(f"a queue item in state {self.state!r} cannot {what}")

    def warn_sla(self, now: datetime, target_seconds: int) -> None:
        """The wait reached 80 % of the queue's target (once per item)."""
        self._require_waiting("be warned about")
        if self.sla_warned_at is not None:
            raise IllegalTransition("a queue item is warned about its wait once")
        self.sla_warned_at = now
        self._sla_event(ev.SLA_WARNED, now, target_seconds)

    def breach_sla(self, now: datetime, target_seconds: int, aging_seconds: int) -> None:
        """The wait reached the queue's target (once per item): one priority step up."""
        self._require_waiting("breach its target")
        if self.sla_breached_at is not None:
            raise IllegalTransition("a queue item breaches its target once")
        self.sla_warned_at = self.sla_warned_at or now
        self.sla_breached_at = now
        self._set_priority(self.priority + 1, aging_seconds)
        self._sla_event(ev.SLA_BREACHED, now, target_seconds, priority=self.priority)

    def callback_offered(self, now: datetime, message_id: int | None) -> None:
        """Its citizen, waiting in writing past the target, was offered a callback."""
        if self.sla_breached_at is None:
            raise IllegalTransition("a callback is offered only once the wait is past its target")
        self._happened(ev.SLA_CALLBACK_OFFERED, now, queue_item_id=self.id, message_id=message_id)

    def _sla_event(self, type_: str, now: datetime, target: int, **more: object) -> None:
        waited = int((now - self.enqueued_at).total_seconds())
        self._happened(
            type_, now, queue_item_id=self.id, queue=self.queue, target_seconds=target,
            waited_seconds=waited, **more,
        )  # fmt: skip

    def reprioritise(self, priority: int, now: datetime, aging_seconds: int, by: int) -> None:
        """A supervisor sets the waiting item's priority (it ranks by it from now)."""
        self._require_waiting("change its priority")
        if priority == self.priority:
            raise IllegalTransition(f"the item has priority {priority} already")
        before = self.priority
        self._set_priority(priority, aging_seconds)
        self._happened(
            ev.PRIORITY_CHANGED, now, queue_item_id=self.id, to=priority, by=by,
            **{"from": before},
        )  # fmt: skip

    def _set_priority(self, priority: int, aging_seconds: int) -> None:
        self.priority = priority
        self.rank_at = self.enqueued_at - timedelta(seconds=priority * aging_seconds)

    def move_to(self, queue: str, skill: str, now: datetime, by: int) -> None:
        """A supervisor moves the waiting item to another queue; it keeps its place in time."""
        self._require_waiting("be moved")
        if queue == self.queue:
            raise IllegalTransition(f"the item waits in {queue} already")
        before = self.queue
        self.queue, self.skill = queue, skill
        self._happened(
            ev.QUEUE_ITEM_MOVED, now, queue_item_id=self.id, from_queue=before,
            to_queue=queue, by=by,
        )  # fmt: skip

    def end(self, now: datetime, *, left: bool = False) -> None:
        """Done with; a waiting item whose citizen `left` is abandoned instead."""
        if not self.is_open:
            raise IllegalTransition(f"a queue item in state {self.state!r} has ended already")
        waiting = self.state == QueueState.WAITING
        self.state = QueueState.ABANDONED if waiting and left else QueueState.DONE
        self.closed_at = now


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
    # When they last signed out, or their desk session timed out (presence).
    signed_out_at: datetime | None = None

    def sign_out(self, now: datetime) -> None:
        """They signed out, or their session at the desk timed out: what was signed for them
        before now (the desk's live tokens) is no longer theirs to use. Never earlier than
        the last one: a session begun after a sign-out stamped by a clock running ahead
        (`session_start`) ends too, and so does what was signed in it."""
        if self.signed_out_at is not None and now <= self.signed_out_at:
            now = self.signed_out_at + timedelta(microseconds=1)
        self.signed_out_at = now

    def issued_in_session(self, issued_at: datetime) -> bool:
        """True when something signed for them at `issued_at` is still valid: they are
        active and have not signed out (nor timed out) since."""
        return self.active and (self.signed_out_at is None or issued_at > self.signed_out_at)

    def session_start(self, now: datetime) -> datetime:
        """When a session they open `now` counts from: after their last sign-out even when
        the clock that stamped it (another process's, a job's) runs ahead of this one, so
        signing in again always works while what was signed before stays refused."""
        if self.signed_out_at is not None and now <= self.signed_out_at:
            return self.signed_out_at + timedelta(microseconds=1)
        return now


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
