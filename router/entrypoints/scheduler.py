"""The scheduler process: APScheduler running the jobs of router.entrypoints.jobs on one container.

Interval jobs are rebuilt at every start from JOBS, so they live in memory; jobs that must
survive a restart (callbacks, follow-ups) go to the SQLAlchemy job store in kanal's database.
One scheduler is active at a time however many run (`run`): the others stand by.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from router.entrypoints.container import Kanal

log = logging.getLogger(__name__)


def build(kanal: Kanal, blocking: bool = True):
    """Return a scheduler with every job in router.entrypoints.jobs.JOBS registered on `kanal`."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    from router.adapters.durable_jobs import job_store
    from router.entrypoints import jobs

    url = kanal.config["KANAL_DATABASE_URL"]
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        jobstores={
            "default": MemoryJobStore(),
            # Durable jobs (callbacks, follow-ups) run through this container's registry.
            "durable": job_store(url, run=kanal.durable.run),
        },
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
        timezone="UTC",
    )
    for job_id, job, seconds in jobs.JOBS:
        first = {"next_run_time": datetime.now(UTC)} if job_id in jobs.RUN_AT_START else {}
        scheduler.add_job(
            job, "interval", args=[kanal], seconds=seconds, id=job_id, replace_existing=True,
            **first,
        )  # fmt: skip
    return scheduler


def run(kanal: Kanal, check_seconds: float = 2.0, stop: threading.Event | None = None) -> None:
    """Run the scheduler until interrupted, while this process holds the scheduler lock.

    Exactly one scheduler runs jobs (router/adapters/scheduler_lock.py): a second process
    waits as a hot standby, trying for the lock every `check_seconds`, and takes over when the
    active one dies. An active scheduler that loses the lock (its database connection broke)
    stops its jobs and stands by again.
    """
    from router.adapters.scheduler_lock import SchedulerLock

    lock = SchedulerLock(kanal.config["KANAL_DATABASE_URL"])
    stop = stop or threading.Event()
    waiting_said = False
    try:
        while not stop.is_set():
            if not lock.try_acquire():
                if not waiting_said:
                    log.info("another scheduler is active: standing by")
                    waiting_said = True
                stop.wait(check_seconds)
                continue
            waiting_said = False
            scheduler = build(kanal, blocking=False)
            scheduler.start()
            log.info("scheduler active with %s jobs", len(scheduler.get_jobs()))
            try:
                while not stop.wait(check_seconds) and lock.held():
                    pass
            finally:
                scheduler.shutdown(wait=False)
    except KeyboardInterrupt:
        pass
    finally:
        lock.release()
