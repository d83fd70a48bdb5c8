"""PostgreSQL restarted while signed SMS webhooks keep coming.

kanal web (gunicorn, two workers) runs on a PostgreSQL cluster of this test's own (initdb into a
temporary directory, its own port: the shared server is never restarted). A third of the way
into the webhooks the cluster is stopped and started again. While it is down kanal answers
503 with Retry-After (never a 500, never a crash), Twilio sends those webhooks again, and
kanal recovers by itself: the same gunicorn workers, no restart. Every webhook is stored once.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.faults.support import (
    KANAL,
    Tally,
    Webhooks,
    children_of,
    free_port,
    inbox_counts,
    kanal_env,
    kanal_process,
    private_cluster,
    run_quietly,
    wait_for,
    web_up,
)

pytestmark = pytest.mark.faults


def restart_postgres_under_load(tmp_path, webhooks: int, restarts: int) -> None:
    with private_cluster() as cluster:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = kanal_env(
            KANAL_INSTANCE_PATH=tmp_path,
            KANAL_DATABASE_URL=cluster.url,
            KANAL_PORT=port,
            KANAL_PUBLIC_URL=base,
            KANAL_RASA_URL=f"http://127.0.0.1:{free_port()}",
            KANAL_TURN_WORKER="process",
            KANAL_WEB_WORKERS=2,
            KANAL_WEB_THREADS=8,
            KANAL_SECRET_KEY="faults",
            KANAL_LOG_LEVEL="warning",
        )
        upgraded = run_quietly([str(KANAL), "db", "upgrade"], env)
        assert upgraded.returncode == 0, upgraded.stderr
        hooks = Webhooks(base, webhooks)
        marks = {webhooks * (k + 1) // (restarts + 2) for k in range(restarts)}
        restart, down = threading.Event(), threading.Event()
        ready_during: list[int] = []

        def progress(done: int) -> None:
            # Called under the sender's lock: every sender waits here until the cluster is
            # down, so the webhooks meet the restart however fast kanal acknowledges them.
            if done in marks:
                restart.set()
                down.wait(60)
                down.clear()

        with kanal_process(["web"], env, tmp_path / "web.log") as web:
            wait_for(lambda: web_up(base), 60, "kanal web to answer")
            workers = sorted(wait_for(lambda: children_of(web.pid) or None, 30, "workers"))
            sender = threading.Thread(target=hooks.send_all, args=(16, None, progress))
            sender.start()
            for _ in range(restarts):
                assert restart.wait(120), "the webhooks did not get going"
                restart.clear()
                cluster.stop("fast")
                down.set()
                time.sleep(0.5)  # down long enough for webhooks to find it so
                ready_during.append(requests.get(base + "/readyz", timeout=10).status_code)
                cluster.start()
            sender.join(300)
            answers = [s for s in hooks.statuses.values()]
            unavailable = sum(1 for s in answers if s == 503)
            errors = sum(1 for s in answers if isinstance(s, int) and s >= 500 and s != 503)
            retried = hooks.replay_until_acknowledged(16)
            ready_after = requests.get(base + "/readyz", timeout=10).status_code
            same_workers = sorted(children_of(web.pid)) == workers
        stored = inbox_counts(cluster.url)

    assert ready_during == [503] * restarts, "readiness says the database is down"
    assert ready_after == 200
    assert unavailable > 0, "webhooks met the restart (else this test proved nothing)"
    assert errors == 0, "a database restart is a 503, never a 500"
    assert same_workers, "kanal recovered without restarting"
    tally = Tally(f"PostgreSQL restarted {restarts}x under load")
    tally.expected = set(hooks.sids)
    tally.copies.update({sid: stored[sid] for sid in hooks.sids})
    tally.check(
        f"{webhooks} webhooks, {unavailable} answered 503 while it was down, "
        f"{retried} sent again by 'Twilio', 0 answered 500, the same gunicorn workers after"
    )


def test_a_postgres_restart_is_503s_then_recovery_and_nothing_lost(tmp_path):
    restart_postgres_under_load(tmp_path, webhooks=250, restarts=1)


@pytest.mark.long
def test_postgres_restarted_twice_under_1000_webhooks(tmp_path):
    restart_postgres_under_load(tmp_path, webhooks=1000, restarts=2)
