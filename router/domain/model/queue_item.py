"""The queue: a contact waiting for, or handled by, a person (`QueueItem`), and the policy's
decision that sent it there (`RoutingDecision`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from router.domain import events as ev
from router.domain.model.aggregate import Aggregate, IllegalTransition

# One priority step counts as this much waiting (router/domain/routing.py, `rank_at`).
DEFAULT_AGING = 900


class QueueState(StrEnum):
    """Where a queue item is: waiting, taken by an agent, done, or left by the citizen."""

    WAITING = "waiting"
    ASSIGNED = "assigned"
    DONE = "done"
    ABANDONED = "abandoned"
    TRANSFERRED = "transferred"


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
