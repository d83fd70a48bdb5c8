"""Scheduler jobs: plain functions of the container, registered in one place (JOBS).

`kanal scheduler` builds the container once and hands it to every job
(router.entrypoints.scheduler).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from router.entrypoints.container import Kanal
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


def schedule_followups(kanal: Kanal) -> None:
    """Write again the job of every scheduled follow-up (one lost to a crash is written)."""
    count = kanal.followups.schedule_waiting()
    if count:
        log.debug("rescheduled %s follow-ups", count)


def ask_surveys(kanal: Kanal) -> None:
    """Text the satisfaction question about contacts closed lately (docs/domain.md §4.5)."""
    if kanal.surveys is None:
        return
    count = kanal.surveys.ask_closed()
    if count:
        log.info("asked %s satisfaction questions", count)


def remind_exemptions(kanal: Kanal) -> None:
    """Text citizens whose exemption from digital-first ends soon (docs/domain.md §2.5)."""
    if kanal.exemption_reminders is None:
        return
    count = kanal.exemption_reminders.send_due()
    if count:
        log.info("reminded %s citizens of their exemption's end", count)


def purge_inbox(kanal: Kanal) -> None:
    """Forget inbox entries taken long ago (kept to recognise retried webhooks)."""
    keep = timedelta(hours=int(kanal.config["KANAL_INBOX_KEEP_HOURS"]))
    housekeeping.purge_inbox(kanal.turns.inbox, kanal.clock(), keep)


def refresh_metric_rollups(kanal: Kanal) -> None:
    """Keep the managers' daily figures up to date (analytics' own tables, docs/domain.md §4)."""
    from analytics.rollups import refresh

    c = kanal.config
    done = refresh(
        kanal.analytics_engine,
        kanal.engine,
        c["KANAL_TIMEZONE"],
        int(c["KANAL_REPEAT_WINDOW_DAYS"]),
        float(c["KANAL_DEFLECTION_FOLLOWUP_HOURS"]),
    )
    if done["days"]:
        log.info("metric rollups: %s days recomputed", done["days"])
    from analytics import occupancy_rollup

    occupancy_rollup.refresh(kanal.analytics_engine, kanal.engine, c["KANAL_TIMEZONE"])


def refresh_recorded_contacts(kanal: Kanal) -> None:
    """Keep the policy simulator's one row per contact up to date (analytics' own tables)."""
    from analytics.recordings import refresh

    done = refresh(kanal.analytics_engine, kanal.engine)
    if done["contacts"]:
        log.info("recorded contacts: %s folded", done["contacts"])


def offer_waiting(kanal: Kanal) -> None:
    """Move offers not accepted in time on, and offer waiting contacts to available agents."""
    if kanal.assignments is None:
        return
    done = kanal.assignments.offer_waiting()
    if done["expired"] or done["offered"]:
        log.info("offers: %s expired, %s made", done["expired"], done["offered"])


def presence_timeouts(kanal: Kanal) -> None:
    """Take offline the agents not seen at the desk for the agency's timeout."""
    if kanal.assignments is not None and (gone := kanal.assignments.time_out_absent()):
        log.info("%s agents timed out (offline)", gone)


def abandon_left_chats(kanal: Kanal) -> None:
    """Abandon the queued web chats whose citizen left (router/service/left_chats.py)."""
    if kanal.left_chats is not None and (left := kanal.left_chats.sweep()):
        log.info("%s web chats abandoned in the queue", left)


def sla_timers(kanal: Kanal) -> None:
    """Warn at 80 % of a queue's target wait; at 100 % raise the priority, offer a callback."""
    if kanal.sla_timers is None:
        return
    done = kanal.sla_timers.check()
    if done.warned or done.breached:
        log.info(
            "SLA: %s warned, %s breached, %s callbacks offered",
            done.warned, done.breached, done.offered,
        )  # fmt: skip


def surge_watch(kanal: Kanal) -> None:
    """Start or end surge mode as the queues' wait passes the profile's thresholds."""
    if kanal.surge_watch is None:
        return
    before = kanal.surge_watch.show().active
    now = kanal.surge_watch.check()
    if now.active != before:
        log.info("surge mode %s: wait %s s", "started" if now.active else "ended", now.wait_seconds)


# Durable jobs (callbacks, follow-ups) are not here: they are stored in the database by any
# process and run by the scheduler through the registry bootstrap builds (`kanal.durable`).
# (job id, function, seconds between runs)
# The follow-ups' sweep also runs when the scheduler starts: a scheduler killed while jobs
# it had taken were waiting for a thread lost them (their rows were gone). It writes each job
# at its due time, under the id it had, so a job still stored is only replaced. (The
# callbacks' sweep writes an overdue job at "now", a new row: it waits for its minute.)
RUN_AT_START = frozenset({"schedule_followups"})
JOBS = (
    ("sweep_inbound", finish_left_turns, 10),
    ("close_inactive", close_inactive, 60),
    ("dispatch_outbound", dispatch_outbound, 5),
    ("ask_surveys", ask_surveys, 30),
    ("purge_inbox", purge_inbox, 3600),
    ("remind_exemptions", remind_exemptions, 3600),
    ("schedule_callbacks", schedule_callbacks, 60),
    ("schedule_followups", schedule_followups, 60),
    ("metric_rollups", refresh_metric_rollups, 60),
    ("recorded_contacts", refresh_recorded_contacts, 60),
    ("offer_waiting", offer_waiting, 5),
    ("presence_timeouts", presence_timeouts, 30),
    ("abandon_left_chats", abandon_left_chats, 30),
    ("sla_timers", sla_timers, 10),
    ("surge_watch", surge_watch, 10),
)
