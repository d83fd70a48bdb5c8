"""The supervisor board: the queues, their waits and service level today, the agents, and
what a supervisor may do to a waiting item (move it, change its priority).

A supervisor sees their teams' queues and agents (the access rule's scope,
router/service/access.py); a supervisor in no team, and an admin, the whole desk.

Service level today is computed the way docs/domain.md §4.1 defines it, per queue, from the
items that joined it since midnight in the agency's time zone and have left it: answered
(claimed) within `service_level_seconds` ÷ (left − abandons shorter than the short-abandon
threshold).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from router.domain import sla
from router.domain.access import SUPERVISOR, Viewer
from router.domain.model import IllegalTransition, QueueItem, QueueState
from router.domain.routing import Routing, capacity_of
from router.domain.staffing import StaffingGap, Work, gaps, waiting_by_work
from router.service.access import DeskAccess
from router.service.agent_day import AgentDay, read_day
from router.service.errors import Conflict, Forbidden, NotFound
from router.service.ratings import LowRating, low_ratings
from router.service.staffing import AGENT_ROLES, presence_of, staff_of
from router.service.surges import SurgeView, SurgeWatch
from router.service.unit_of_work import UnitOfWork

BOARD_ROLES = ("supervisor", "admin")


@dataclass(frozen=True)
class WaitingItem:
    id: int
    contact_id: int
    queue: str
    channel: str | None
    language: str | None
    priority: int
    waited_seconds: int
    stage: str  # router/domain/sla.py: on_time, warning, breached


@dataclass
class QueueFigures:
    name: str
    target_seconds: int
    waiting: int = 0
    longest_wait_seconds: int | None = None
    breached: int = 0
    warned: int = 0
    left_today: int = 0
    short_abandons: int = 0
    answered_in_time: int = 0

    @property
    def service_level(self) -> float | None:
        """Answered in time ÷ (left the queue − short abandons); None before anyone left."""
        counted = self.left_today - self.short_abandons
        return self.answered_in_time / counted if counted > 0 else None


@dataclass(frozen=True)
class AgentFigures:
    user_id: int
    username: str
    presence: str
    load: dict[str, int]
    capacity: dict[str, int]


@dataclass(frozen=True)
class Stranded:
    """Contacts waiting where no agent at the desk can take them (router/domain/staffing.py)."""

    work: Work
    waiting: int
    gap: StaffingGap


@dataclass
class Board:
    queues: list[QueueFigures] = field(default_factory=list)
    waiting: list[WaitingItem] = field(default_factory=list)
    agents: list[AgentFigures] = field(default_factory=list)
    # Surge mode: on since when and why, or off (None: the profile has no surge rules).
    surge: SurgeView | None = None
    low_ratings: list[LowRating] = field(default_factory=list)  # 1 or 2 of 5, newest first
    # Waiting work no signed-in agent can take (their skills, languages, capacity).
    stranded: list[Stranded] = field(default_factory=list)

    @property
    def breached(self) -> int:
        """How many waiting contacts are past their queue's target wait."""
        return sum(1 for item in self.waiting if item.stage == sla.BREACHED)


def _stage(item: QueueItem, now: datetime, target: int) -> str:
    """Where the item's wait stands: as the SLA job recorded it, or as the clock says now."""
    if item.sla_breached_at is not None:
        return sla.BREACHED
    stage = sla.stage(item.enqueued_at, now, target)
    return sla.WARNING if stage == sla.ON_TIME and item.sla_warned_at else stage


class Supervision:
    """The supervisor board's figures and a supervisor's moves of waiting items."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        routing: Routing,
        clock: Callable[[], datetime],
        access: DeskAccess,
        *,
        zone: ZoneInfo | None = None,
        service_level_seconds: int = 20,
        short_abandon_seconds: int = 5,
        surge: SurgeWatch | None = None,
    ) -> None:
        self.uow = uow
        self.routing = routing
        self.clock = clock
        self.access = access
        self.zone = zone or ZoneInfo("Europe/Copenhagen")
        self.service_level_seconds = service_level_seconds
        self.short_abandon_seconds = short_abandon_seconds
        self.surge = surge

    def queues(self) -> tuple[str, ...]:
        return self.routing.names()

    def board(self, viewer: Viewer) -> Board:
        """Return what the viewer supervises: their teams' queues and agents."""
        now = self.clock()
        with self.uow() as uow:
            scoped = self.access.scope(uow, viewer)
            mine = self._theirs(scoped)
            figures = {name: self._figures(name) for name in self.routing.names() if mine(name)}
            waiting = [i for i in uow.queue.waiting(limit=1000) if mine(i.queue)]
            board = Board()
            for item in waiting:
                row = figures.setdefault(item.queue, self._figures(item.queue))
                waited = max(0, int((now - item.enqueued_at).total_seconds()))
                stage = _stage(item, now, row.target_seconds)
                row.waiting += 1
                row.longest_wait_seconds = max(row.longest_wait_seconds or 0, waited)
                row.breached += stage == sla.BREACHED
                row.warned += stage == sla.WARNING
                board.waiting.append(
                    WaitingItem(
                        item.id, item.contact_id, item.queue, item.channel, item.language,
                        item.priority, waited, stage,
                    )
                )  # fmt: skip
            for item in uow.queue.enqueued_since(self._midnight(now)):
                if item.is_waiting or item.queue not in figures:
                    continue
                self._count_left(figures[item.queue], item)
            board.queues = sorted(figures.values(), key=lambda q: q.name)
            board.agents = self._agents(uow, scoped)
            board.stranded = self._stranded(uow, board.waiting)
            board.low_ratings = low_ratings(uow, scoped, now)
        if self.surge is not None and self.surge.profile.surge is not None:
            board.surge = self.surge.show()
        return board

    def _figures(self, name: str) -> QueueFigures:
        return QueueFigures(name, self.routing.target_wait(name))

    @staticmethod
    def _theirs(viewer: Viewer) -> Callable[[str | None], bool]:
        if viewer.role != SUPERVISOR or not viewer.queues:
            return lambda _queue: True
        return lambda queue: queue in viewer.queues

    def _midnight(self, now: datetime) -> datetime:
        local = now.astimezone(self.zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    def _count_left(self, row: QueueFigures, item: QueueItem) -> None:
        row.left_today += 1
        if item.claimed_at is not None:
            waited = (item.claimed_at - item.enqueued_at).total_seconds()
            row.answered_in_time += waited <= self.service_level_seconds
        elif item.state == QueueState.ABANDONED and item.closed_at is not None:
            short = item.closed_at - item.enqueued_at < timedelta(
                seconds=self.short_abandon_seconds
            )
            row.short_abandons += short

    def _agents(self, uow: UnitOfWork, viewer: Viewer) -> list[AgentFigures]:
        everyone = viewer.role != SUPERVISOR or not viewer.team
        shown = []
        for user in uow.users.with_roles(*AGENT_ROLES):
            if user.id == viewer.user_id or not (everyone or user.id in viewer.team):
                continue
            shown.append(
                AgentFigures(
                    user.id, user.username, presence_of(uow, user.id),
                    uow.contacts.held_by(user.id),
                    capacity_of(uow.agents.get(user.id), self.routing),
                )
            )  # fmt: skip
        return shown

    def _stranded(self, uow: UnitOfWork, waiting: list[WaitingItem]) -> list[Stranded]:
        """The waiting work nobody at the desk can take, whoever's team they are in."""
        if not waiting:
            return []
        counted = waiting_by_work((i.queue, i.language, i.channel) for i in waiting)
        found = gaps(counted, staff_of(uow), self.routing)
        return [Stranded(work, counted[work], gap) for work, gap in found.items()]

    def agent_day(self, viewer: Viewer, agent_id: int) -> AgentDay:
        """Return an agent's day so far (their presence changes, time in each state), for a
        supervisor of their team (a supervisor in no team, and an admin: any agent)."""
        now = self.clock()
        with self.uow() as uow:
            scoped = self.access.scope(uow, viewer)
            user = uow.users.get(agent_id)
            if user is None or user.role not in AGENT_ROLES:
                raise NotFound("No such agent.")
            if scoped.role == SUPERVISOR and scoped.team and agent_id not in scoped.team:
                raise Forbidden("This agent is not in your teams.")
            return read_day(uow, agent_id, user.username, self._midnight(now), now)

    # -- a supervisor's moves ------------------------------------------------------------------

    def move(self, viewer: Viewer, item_id: int, queue: str) -> None:
        """Move a waiting item to another queue (its offers are withdrawn)."""
        if queue not in self.routing.names():
            raise NotFound(f"No such queue: {queue} (queues: {', '.join(self.queues())}).")
        found = self.routing.queue(queue)
        now = self.clock()
        with self.uow() as uow:
            item = self._waiting(uow, viewer, item_id)
            misfit = self.routing.misfit(queue, item.channel, item.language)
            if misfit is not None:
                raise Conflict(misfit)
            skill = item.skill
            if found is not None and found.skills and skill not in found.skills:
                skill = found.skills[0]
            try:
                item.move_to(queue, skill, now, by=viewer.user_id)
            except IllegalTransition as exc:
                raise Conflict(str(exc)) from exc
            offer = uow.offers.open_for_item(item.id)
            if offer is not None:
                offer.withdraw(now, why="moved")
            uow.commit()

    def set_priority(self, viewer: Viewer, item_id: int, priority: int) -> None:
        """Change a waiting item's priority (it ranks by it from now)."""
        if priority not in sla.PRIORITIES:
            raise Conflict(
                f"A priority is a whole number from {sla.PRIORITIES[0]} to {sla.PRIORITIES[-1]}."
            )
        now = self.clock()
        with self.uow() as uow:
            item = self._waiting(uow, viewer, item_id)
            try:
                item.reprioritise(priority, now, self.routing.aging_seconds, by=viewer.user_id)
            except IllegalTransition as exc:
                raise Conflict(str(exc)) from exc
            uow.commit()

    def _waiting(self, uow: UnitOfWork, viewer: Viewer, item_id: int) -> QueueItem:
        if viewer.role not in BOARD_ROLES:
            raise Forbidden("Only supervisors change the queues.")
        item = uow.queue.lock(item_id)
        if item is None:
            raise NotFound("No such queue item.")
        if not self._theirs(self.access.scope(uow, viewer))(item.queue):
            raise Forbidden("This item waits in a queue you do not supervise.")
        if not item.is_waiting:
            raise Conflict("The item is no longer waiting (an agent took it, or it ended).")
        return item
