"""A contact: one conversation of a citizen on one channel, from first message to close, and
the log of what happened to it (`ContactEvent`, which analytics reads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from router.domain import events as ev
from router.domain.events import Happened
from router.domain.model.aggregate import Aggregate, IllegalTransition
from router.domain.model.queue_item import QueueItem, QueueState
from router.domain.wrapup import Outcome, completes


class ContactState(StrEnum):
    """Where a contact is: with the bot, waiting for a person, with a person, or closed."""

    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    CLOSED = "closed"


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
        exact = max(0.0, (now - item.enqueued_at).total_seconds())
        # Whole seconds (rounded down) for the desk; the exact wait for the managers' figures.
        data = {
            "queue_item_id": item.id, "agent_id": agent_id, "wait_seconds": int(exact),
            "wait_exact_seconds": exact,
        }  # fmt: skip
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
