"""What bootstrap builds: one typed container (`Kanal`) and the registry of durable jobs.

Every process holds one `Kanal`: the web app (`router.entrypoints.app.create_app`), the
scheduler and the worker (`kanal scheduler`, `kanal worker`), and the unit tests, which build
it on fakes. Parts are handed on from it; nothing looks one up in a global.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from router.entrypoints.worker import Worker
from router.policy import Profile
from router.service.assignments import Assignments
from router.service.callback_desk import CallbackDesk
from router.service.callbacks import Callbacks
from router.service.calls import Calls
from router.service.channels import Channels
from router.service.counters import ProcessCounters
from router.service.delivery import Delivery
from router.service.desk import Desk
from router.service.dialling import Dialling
from router.service.exemption_reminders import ExemptionReminders
from router.service.followups import Followups
from router.service.left_chats import LeftChats
from router.service.ports import BotPort, DurableJobs, LiveUpdates
from router.service.settings import RouterSettings
from router.service.sla_timers import SlaTimers
from router.service.supervision import Supervision
from router.service.surges import SurgeWatch
from router.service.survey import Surveys
from router.service.turn import Turns
from router.service.unit_of_work import UnitOfWork
from router.service.views import Views

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DurableJob:
    """A job that survives restarts: the name its rows hold, and what it runs on its argument."""

    name: str
    run: Callable[[int], object]
    subject: str = "job"  # what its argument is, for the log: "callback 1: placed"


class DurableJobRegistry:
    """The durable jobs by name: what the scheduler runs when a stored job falls due.

    Built in bootstrap from the services that schedule the jobs, under the names they use
    (`DurableJobs.schedule(name, ...)`), so a name and its function are written once.
    """

    def __init__(self, jobs: Iterable[DurableJob]) -> None:
        self._jobs: dict[str, DurableJob] = {}
        for job in jobs:
            if job.name in self._jobs:
                raise ValueError(f"two durable jobs are named {job.name!r}")
            self._jobs[job.name] = job

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._jobs))

    def run(self, name: str, arg: int) -> object:
        """Run the durable job `name` on `arg` and return its outcome."""
        job = self._jobs.get(name)
        if job is None:
            raise LookupError(f"no durable job is named {name!r} ({', '.join(self.names())})")
        outcome = job.run(arg)
        log.info("%s %s: %s", job.subject, arg, outcome)
        return outcome


@dataclass
class Storage:
    """The databases bootstrap opened (none when it was handed a unit of work)."""

    engine: object  # sqlalchemy.Engine
    read_engine: object
    inbox_engine: object
    analytics_engine: object

    def close(self) -> None:
        seen: list[object] = []
        for engine in (self.engine, self.read_engine, self.inbox_engine, self.analytics_engine):
            if not any(engine is other for other in seen):
                seen.append(engine)
                engine.dispose()


@dataclass
class Kanal:
    """What the wiring point built: one typed container, handed to whoever needs a part."""

    config: Mapping[str, object]
    uow: Callable[[], UnitOfWork]
    read_uow: Callable[[], UnitOfWork]
    bot: BotPort
    profile: Profile
    settings: RouterSettings
    channels: Channels
    delivery: Delivery
    turns: Turns
    desk: Desk
    views: Views
    worker: Worker
    clock: Callable[[], datetime]
    callbacks: Callbacks
    dialling: Dialling
    callback_desk: CallbackDesk
    followups: Followups
    jobs: DurableJobs
    durable: DurableJobRegistry
    calls: Calls
    storage: Storage | None = None  # None on fakes
    sandbox: object | None = None  # channels.twilio_sandbox.peer.SandboxPeer, in sandbox mode
    installed: tuple[str, ...] = ()  # the channel modules, by name: the web serves their blueprints
    surveys: Surveys | None = None  # the satisfaction question after a contact closes
    # Texts before an exemption from digital-first ends (docs/domain.md §2.5).
    exemption_reminders: ExemptionReminders | None = None
    # What this process counted (turns, bot failures, deliveries): /metrics' `_total` series.
    counters: ProcessCounters = field(default_factory=ProcessCounters)
    # Where committed contact changes are announced to live pages (LISTEN/NOTIFY on PostgreSQL).
    live: LiveUpdates | None = None
    # Queued web chats their citizens left: abandoned by the scheduler, back when they return.
    left_chats: LeftChats | None = None
    # Claims, offers, presence and transfers of assisted work (router/service/assignments.py).
    assignments: Assignments | None = None
    # The supervisor board's figures and moves; the SLA timers' job (docs/domain.md).
    supervision: Supervision | None = None
    sla_timers: SlaTimers | None = None
    # Surge mode: started and ended by the queues' wait (router/service/surges.py).
    surge_watch: SurgeWatch | None = None

    @property
    def engine(self):  # noqa: ANN201 - sqlalchemy.Engine
        """kanal's database (readiness, tests); None when built on fakes."""
        return self.storage.engine if self.storage else None

    @property
    def read_engine(self):  # noqa: ANN201
        return self.storage.read_engine if self.storage else None

    @property
    def analytics_engine(self):  # noqa: ANN201
        """The read-only engine analytics reads the event log through."""
        return self.storage.analytics_engine if self.storage else None

    def close(self) -> None:
        """Stop the worker and release database connections (tests, shutdown)."""
        self.worker.stop()
        close_inbox = getattr(self.turns.inbox, "close", None)
        if close_inbox is not None:  # before the engines: it gives back a kept connection
            close_inbox()
        if self.storage is not None:
            self.storage.close()
        if self.sandbox is not None:
            self.sandbox.close()
        for part in (self.jobs, self.bot):
            close = getattr(part, "close", None)
            if close is not None:
                close()
