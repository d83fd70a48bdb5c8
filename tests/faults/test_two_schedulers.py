"""Two `kanal scheduler` processes on one database: one runs the jobs, the other stands by.

60 deflection follow-ups fall due at once (each a durable job that texts the citizen one offer
of a callback). Two schedulers start together; exactly one becomes active (the other says it
stands by) and Twilio is asked for each offer exactly once. Then the active one is killed with
SIGKILL: the standby takes over and runs the follow-ups booked since, again each once. On
PostgreSQL the lock is an advisory lock; on SQLite a file lock beside the database.

(A durable job is claimed before it runs, so even two active schedulers would not text twice:
without the lock this test fails on "one active, one standing by", not on the count.)
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from tests.conftest import scratch_postgres
from tests.faults.followups_due import book_followups, scheduler_kanal
from tests.faults.support import FakeTwilio, Tally, kanal_process, wait_for

pytestmark = pytest.mark.faults

FOLLOWUPS = 60


def active_and_standby(logs: dict[str, object]) -> tuple[list[str], list[str]]:
    texts = {name: path.read_text(errors="replace") for name, path in logs.items()}
    active = [n for n, t in texts.items() if "scheduler active" in t]
    standby = [n for n, t in texts.items() if "standing by" in t]
    return active, standby


def two_schedulers(database_url: str, tmp_path, label: str) -> None:
    twilio = FakeTwilio()
    # At "info" the schedulers say which of them is active.
    env, kanal = scheduler_kanal(database_url, tmp_path, twilio, log_level="info")
    logs = {name: tmp_path / f"{name}.log" for name in ("scheduler-1", "scheduler-2")}
    try:
        phones = list(book_followups(kanal, 0, FOLLOWUPS, "+4533").values())
        with (
            kanal_process(["scheduler"], env, logs["scheduler-1"]) as first,
            kanal_process(["scheduler"], env, logs["scheduler-2"]) as second,
        ):
            wait_for(lambda: len(twilio.created) >= FOLLOWUPS, 120, "every offer to go out")
            active, standby = wait_for(
                lambda: (lambda a, s: (a, s) if a and s else None)(*active_and_standby(logs)),
                30, "one scheduler active and one standing by",
            )  # fmt: skip
            assert len(active) == 1 and standby != active, (active, standby)
            time.sleep(2.0)  # a job run twice would text again now
            killed = first if active == ["scheduler-1"] else second
            killed.kill()  # SIGKILL: no goodbye, its lock goes with its connection
            killed.wait(10)
            phones += book_followups(kanal, FOLLOWUPS, FOLLOWUPS // 3, "+4533").values()
            total = FOLLOWUPS + FOLLOWUPS // 3
            wait_for(lambda: len(twilio.created) >= total, 120, "the standby to take over")
            time.sleep(2.0)
    finally:
        kanal.close()
        twilio.stop()
    tally = Tally(f"two schedulers, the active one killed ({label})")
    sent = Counter(created.get("To") for created in twilio.created)
    tally.expected = set(phones)
    tally.copies.update({phone: sent[phone] for phone in phones})
    tally.check(
        f"{total} durable jobs; {active[0]} active, the other standing by until it was killed"
    )


def test_two_schedulers_run_each_job_once_on_sqlite(tmp_path):
    two_schedulers(f"sqlite:///{tmp_path / 'kanal.db'}", tmp_path, "SQLite")


def test_two_schedulers_run_each_job_once_on_postgres(tmp_path):
    with scratch_postgres("kanal_faults") as url:
        two_schedulers(url, tmp_path, "PostgreSQL")
