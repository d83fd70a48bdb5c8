"""Durable jobs in APScheduler's SQLAlchemy job store, written from any process.

The web process never runs a scheduler: it writes the job into the store (the
`scheduler_jobs` table of kanal's database) through a job store of its own, bound to a
scheduler object that is never started. The scheduler process (`kanal scheduler`) reads
that store whenever it wakes, which its interval jobs make happen every few seconds, so a
job written elsewhere runs soon after it is due; a job due while no scheduler ran runs at
the next start (no misfire limit: a callback is never dropped for being late).
"""

from __future__ import annotations

import threading
from datetime import datetime

from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import create_engine

TABLE = "scheduler_jobs"
ALIAS = "durable"
# The functions durable jobs run, by the name the service layer gives
# (router.entrypoints.jobs.DURABLE).
TARGET = "router.entrypoints.jobs:run_durable"


def job_store(url: str) -> SQLAlchemyJobStore:
    """Return the durable job store on kanal's database (the scheduler uses the same).

    On SQLite a write waits for another process's transaction (up to 30 s) instead of
    failing at once with "database is locked".
    """
    args = {"timeout": 30} if url.startswith("sqlite") else {}
    return SQLAlchemyJobStore(engine=create_engine(url, connect_args=args), tablename=TABLE)


class SqlDurableJobs:
    """The DurableJobs port: one row per job key in the SQLAlchemy job store."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._store: SQLAlchemyJobStore | None = None
        self._scheduler = BackgroundScheduler(timezone="UTC")  # never started: owns no thread
        self._lock = threading.Lock()

    def _started(self) -> SQLAlchemyJobStore:
        with self._lock:
            if self._store is None:
                store = job_store(self.url)
                store.start(self._scheduler, ALIAS)
                self._store = store
            return self._store

    def schedule(self, job: str, key: str, at: datetime, arg: int) -> None:
        """Write the job `key` to run `job(arg)` at `at` (moving it if it is there already).

        The row's id is the key and the time: a job that schedules its own next run while
        the scheduler removes the run it took can never lose the next one. The jobs check
        their object's state, so two runs of one key do the work once.
        """
        store = self._started()
        entry = Job(
            self._scheduler,
            id=f"{key}@{at.timestamp():.3f}",
            func=TARGET,
            args=(job, arg),
            kwargs={},
            name=f"{job}({arg})",
            trigger=DateTrigger(run_date=at, timezone="UTC"),
            executor="default",
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
            next_run_time=at,
        )
        for _ in range(3):
            try:
                store.add_job(entry)
                return
            except ConflictingIdError:
                try:
                    store.update_job(entry)
                    return
                except JobLookupError:  # the scheduler took it meanwhile: add it again
                    continue

    def close(self) -> None:
        if self._store is not None:
            self._store.shutdown()
