"""The scheduler killed with SIGKILL in the middle of its durable jobs, and started again.

90 deflection follow-ups fall due at once (each a durable job that texts the citizen one
offer of a callback). `kanal scheduler` starts working through them against a Twilio that
answers a little slowly; a third of the way in it is killed with SIGKILL, then started again.
Every follow-up must end offered, and Twilio must have been asked for each offer exactly
once: no job lost, none run twice. An offer whose send was cut by the kill stays claimed and
goes to review after the claim's lease (held for a person, not lost, not resent).
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from router.domain.followups import FollowupState
from router.domain.model import DeliveryState
from tests.conftest import scratch_postgres
from tests.faults.followups_due import book_followups, scheduler_kanal
from tests.faults.support import FakeTwilio, Tally, kanal_process, wait_for

pytestmark = pytest.mark.faults

FOLLOWUPS = 90
SETTLE_SECONDS = 60  # the restarted scheduler's sweep writes lost jobs again at its start


def kill_the_scheduler_mid_jobs(database_url: str, tmp_path, label: str) -> None:
    twilio = FakeTwilio()
    twilio.delay = 0.03
    env, kanal = scheduler_kanal(database_url, tmp_path, twilio)
    try:
        phones = book_followups(kanal, 0, FOLLOWUPS, "+4532")

        with kanal_process(["scheduler"], env, tmp_path / "scheduler-1.log") as first:
            wait_for(lambda: len(twilio.created) >= FOLLOWUPS // 3, 120, "offers to go out")
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
        sent_before_restart = len(twilio.created)
        with kanal_process(["scheduler"], env, tmp_path / "scheduler-2.log"):
            started = time.monotonic()

            def settled() -> bool:
                with kanal.uow() as uow:
                    states = [uow.followups.get(f).state for f in phones]
                return all(s != FollowupState.SCHEDULED for s in states)

            deadline = time.monotonic() + SETTLE_SECONDS
            while not settled() and time.monotonic() < deadline:
                time.sleep(0.5)
            recovered_in = time.monotonic() - started
            time.sleep(1.0)  # a job run twice would text again now

        tally = Tally(f"scheduler killed mid-jobs ({label})")
        by_phone = {phone: 0 for phone in phones.values()}
        for created in twilio.created:
            if created.get("To") in by_phone:
                by_phone[created["To"]] += 1
        with kanal.uow() as uow:
            for followup_id, phone in phones.items():
                followup = uow.followups.get(followup_id)
                tally.expected.add(phone)
                tally.copies[phone] = by_phone[phone]
                offer = uow.messages.for_contact(followup.offer_contact_id)
                if by_phone[phone] == 0 and [m.delivery_status for m in offer] == [
                    DeliveryState.SENDING_LOCAL
                ]:
                    tally.held.add(phone)  # cut by the kill: review after the claim's lease
    finally:
        kanal.close()
        twilio.stop()
    tally.check(
        f"{FOLLOWUPS} durable jobs, killed after {sent_before_restart} offers; the restarted "
        f"scheduler finished the rest in {recovered_in:.1f} s"
    )


def test_a_killed_scheduler_loses_and_repeats_no_job_on_sqlite(tmp_path):
    kill_the_scheduler_mid_jobs(f"sqlite:///{tmp_path / 'kanal.db'}", tmp_path, "SQLite")


@pytest.mark.long
def test_a_killed_scheduler_loses_and_repeats_no_job_on_postgres(tmp_path):
    with scratch_postgres("kanal_faults") as url:
        kill_the_scheduler_mid_jobs(url, tmp_path, "PostgreSQL")
