"""Durable jobs in APScheduler's SQLAlchemy job store, written from any process.

The web process never runs a scheduler: it writes the job into the store (the
`scheduler_jobs` table of kanal's database) through a job store of its own, bound to a
scheduler object that is never started. The scheduler process (`kanal scheduler`) reads
that store whenever it wakes, which its interval jobs make happen every few seconds, so a
job written elsewhere runs soon after it is due; a job due while no scheduler ran runs at
the next start (no misfire limit: a callback is never dropped for being late).

A row holds the job's name and its argument only. The scheduler process runs it through the
registry its container was built with (`job_store(url, run=kanal.durable.run)`): no row names
a Python function, so moving one never strands the jobs already written.
"""

from __future__ import annotations

import contextlib
import pickle
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import create_engine

TABLE = "scheduler_jobs"
ALIAS = "durable"
# What APScheduler records as a row's function: a stand-in, replaced when the scheduler reads
# the row by the registry's `run(name, arg)`.
TARGET = "router.adapters.durable_jobs:not_bound"


def not_bound(job: str, arg: int) -> None:
    """Refuse to run a durable job outside the scheduler's registry."""
    raise RuntimeError(f"durable job {job}({arg}) read without a registry (job_store(run=...))")


class RegistryJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy store whose jobs run `run(name, arg)`, whatever a row names."""

    def __init__(self, run: Callable[[str, int], object] | None, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._run = run

    def remove_job(self, job_id: str) -> None:
        """Remove a job's row; one already gone is removed (no error to kill the loop).

        APScheduler's loop removes a date job's row right after handing the job to a thread,
        and an error there ends the loop for good. The row may be gone already: the sweeps
        (`schedule_callbacks`, `schedule_followups`) write jobs while the loop runs, and
        every job checks its object's state, so a row missing here loses nothing.
        """
        with contextlib.suppress(JobLookupError):
            super().remove_job(job_id)

    def _reconstitute_job(self, job_state: bytes) -> Job:
        state = pickle.loads(job_state)
        # Rows written before the registry named router.jobs:run_durable and its later path.
        state["func"] = TARGET
        state["jobstore"] = self
        job = Job.__new__(Job)
        job.__setstate__(state)
        if self._run is not None:
            job.func = self._run
        job._scheduler = self._scheduler
        job._jobstore_alias = self._alias
        return job


def job_store(url: str, run: Callable[[str, int], object] | None = None) -> SQLAlchemyJobStore:
    """Return the durable job store on kanal's database (the scheduler uses the same).

    `run(name, arg)` runs a job that falls due (the scheduler's registry); a store that only
    writes jobs (the web process) needs none. On SQLite a write waits for another process's
    transaction (up to 30 s) instead of failing at once with "database is locked".
    """
    args = {"timeout": 30} if url.startswith("sqlite") else {}
    engine = create_engine(url, connect_args=args)
    return RegistryJobStore(run, engine=engine, tablename=TABLE)


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
