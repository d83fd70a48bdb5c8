"""The scheduler process: APScheduler with its job store in kanal's database."""

from __future__ import annotations

import contextlib
import logging

log = logging.getLogger(__name__)


def build(app, blocking: bool = True):
    """Return a scheduler with every job in router.jobs.JOBS registered."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    from router import jobs

    jobs._app = app
    url = app.config["KANAL_DATABASE_URL"]
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        jobstores={"default": SQLAlchemyJobStore(url=url, tablename="scheduler_jobs")},
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
        timezone="UTC",
    )
    for job_id, ref, seconds in jobs.JOBS:
        scheduler.add_job(ref, "interval", seconds=seconds, id=job_id, replace_existing=True)
    return scheduler


def run(app) -> None:
    """Run the scheduler until interrupted."""
    scheduler = build(app)
    log.info("scheduler started with %s jobs", len(scheduler.get_jobs()))
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
