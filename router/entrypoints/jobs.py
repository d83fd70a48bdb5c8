"""Scheduler jobs: plain functions of the container, registered in one place (JOBS).

`kanal scheduler` builds the container once and hands it to every job
(router.entrypoints.scheduler).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from router.entrypoints.bootstrap import Kanal
from router.service import housekeeping

log = logging.getLogger(__name__)


def finish_left_turns(kanal: Kanal) -> None:
    """Run turns a stopped worker left: entries not taken, messages not finished."""
    count = housekeeping.finish_left_turns(
        kanal.turns, kanal.uow, kanal.clock(), older_than=timedelta(seconds=15)
    )
    if count:
        log.info("ran %s left-over turns", count)


def close_inactive(kanal: Kanal) -> None:
    """Close bot conversations the citizen left."""
    count = housekeeping.close_inactive(kanal.uow, kanal.channels, kanal.clock())
    if count:
        log.info("closed %s inactive conversations", count)


def dispatch_outbound(kanal: Kanal) -> None:
    """Hand due outbound messages (new ones and retries) to their channels' providers."""
    kanal.delivery.dispatch_due()


def schedule_callbacks(kanal: Kanal) -> None:
    """Write again the job of every booked callback (one lost to a crash is written)."""
    count = kanal.callbacks.schedule_booked()
    if count:
        log.debug("rescheduled %s booked callbacks", count)


def ask_surveys(kanal: Kanal) -> None:
    """Text the satisfaction question about contacts closed lately (docs/domain.md §4.5)."""
    if kanal.surveys is None:
        return
    count = kanal.surveys.ask_closed()
    if count:
        log.info("asked %s satisfaction questions", count)


def purge_inbox(kanal: Kanal) -> None:
    """Forget inbox entries taken long ago (kept to recognise retried webhooks)."""
    keep = timedelta(hours=int(kanal.config["KANAL_INBOX_KEEP_HOURS"]))
    housekeeping.purge_inbox(kanal.turns.inbox, kanal.clock(), keep)


# -- durable jobs (router.adapters.durable_jobs): stored in the database, run here ------------

_container: Kanal | None = None


def bind(kanal: Kanal) -> None:
    """Name the container durable jobs run on (the scheduler process's, set at its start)."""
    global _container
    _container = kanal


def run_callback(kanal: Kanal, callback_id: int) -> None:
    """Place a booked callback's call when an agent is free (or look again later)."""
    outcome = kanal.dialling.run(callback_id)
    log.info("callback %s: %s", callback_id, outcome)


def run_followup(kanal: Kanal, followup_id: int) -> None:
    """After a deflection's window: offer a callback by SMS unless the need was completed."""
    outcome = kanal.followups.run(followup_id)
    log.info("follow-up %s: %s", followup_id, outcome)


DURABLE = {"run_callback": run_callback, "run_followup": run_followup}


def run_durable(job: str, arg: int) -> None:
    """Run a durable job by name: what the job store holds is (name, argument) only."""
    if _container is None:
        raise RuntimeError(
            "durable jobs run in the scheduler process (router.entrypoints.scheduler)"
        )
    DURABLE[job](_container, arg)


# (job id, function, seconds between runs)
JOBS = (
    ("sweep_inbound", finish_left_turns, 10),
    ("close_inactive", close_inactive, 60),
    ("dispatch_outbound", dispatch_outbound, 5),
    ("ask_surveys", ask_surveys, 30),
    ("purge_inbox", purge_inbox, 3600),
    ("schedule_callbacks", schedule_callbacks, 60),
)
