"""`kill -9` of a web worker while 1,000 signed SMS webhooks are in flight.

`kanal web` (gunicorn, two workers) acknowledges 1,000 distinct signed webhooks sent over 32
connections; a third of the way in, one worker is killed with SIGKILL (gunicorn starts
another). Every webhook answered 2xx must be in the database exactly once; the others (their
connection broken) are sent again as Twilio retries them, with the same MessageSid and
idempotency token, together with a hundred that were acknowledged (a retry whose answer was
lost), and each is still stored exactly once. SQLite by default; PostgreSQL as a long variant.
"""

from __future__ import annotations

import os
import signal
import threading

import pytest

from tests.conftest import scratch_postgres
from tests.faults.support import (
    Tally,
    Webhooks,
    acknowledging_web,
    children_of,
    inbox_counts,
    kanal_process,
    sockets_of,
    wait_for,
    web_up,
)

pytestmark = pytest.mark.faults

WEBHOOKS = 1000
CONNECTIONS = 32


def kill_a_worker_under_load(database_url: str, tmp_path, label: str) -> None:
    base, env = acknowledging_web(database_url, tmp_path, workers=2, threads=8, secret="faults")
    hooks = Webhooks(base, WEBHOOKS)
    kill_at = threading.Event()

    def progress(done: int) -> None:
        if done == WEBHOOKS // 3:
            kill_at.set()

    with kanal_process(["web"], env, tmp_path / "web.log") as web:
        wait_for(lambda: web_up(base), 60, "kanal web to answer")
        workers = wait_for(lambda: children_of(web.pid) or None, 30, "gunicorn's workers")
        sender = threading.Thread(target=hooks.send_all, args=(CONNECTIONS, None, progress))
        sender.start()
        assert kill_at.wait(120), "the webhooks did not get going"
        busiest = max(workers, key=sockets_of)  # the one holding most clients' connections
        os.kill(busiest, signal.SIGKILL)
        sender.join(300)

        acknowledged = hooks.acknowledged()
        broken = WEBHOOKS - len(acknowledged)
        stored = inbox_counts(database_url)
        missing = [sid for sid in acknowledged if stored[sid] != 1]
        assert not missing, f"{len(missing)} webhooks answered 2xx are not stored once"
        stored_unanswered = sum(1 for sid in hooks.sids if sid not in acknowledged and stored[sid])

        # Twilio retries what it got no answer for, and a few it did (the answer was lost).
        for sid in list(acknowledged)[:100]:
            hooks.statuses[sid] = "retry"
        retried = hooks.replay_until_acknowledged(CONNECTIONS)
        assert web.poll() is None, "gunicorn itself kept running"

    stored = inbox_counts(database_url)
    tally = Tally(f"kill -9 of a web worker ({label})")
    tally.expected = set(hooks.sids)
    tally.copies.update({sid: stored[sid] for sid in hooks.sids})
    tally.check(
        f"{WEBHOOKS} webhooks, {len(acknowledged)} answered 2xx before the retries, "
        f"{broken} broken by the kill ({stored_unanswered} of them stored before it), "
        f"{retried} sent again; every one stored once"
    )
    assert broken > 0, "the kill hit webhooks in flight (else this test proved nothing)"


def test_killing_a_web_worker_loses_and_doubles_no_webhook_on_sqlite(tmp_path):
    kill_a_worker_under_load(f"sqlite:///{tmp_path / 'kanal.db'}", tmp_path, "SQLite")


@pytest.mark.long
def test_killing_a_web_worker_loses_and_doubles_no_webhook_on_postgres(tmp_path):
    with scratch_postgres("kanal_faults") as url:
        kill_a_worker_under_load(url, tmp_path, "PostgreSQL")
