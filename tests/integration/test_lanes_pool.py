"""Citizens' lanes held at once by as many threads as the web serves with never starve the
turns they hold them for of connections (router/adapters/inbox.py). On both databases (on
SQLite a lane holds nothing)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from router.adapters.db import make_engine
from router.adapters.inbox import SqlInbox

pytestmark = pytest.mark.integration

HOLDERS = 20  # a burst of STOP webhooks, each in its citizen's lane (the web has 24 threads)


def test_a_burst_of_lanes_held_at_once_still_gets_its_turns_connections(database_url):
    engine = make_engine(database_url)
    inbox = SqlInbox(engine)
    all_in = threading.Barrier(HOLDERS)
    outcomes: list[str] = []

    def citizen(n: int) -> None:
        try:
            with inbox.lane(f"sms:+4520{n:06d}"):
                all_in.wait(60)  # every lane held before any turn runs
                with engine.connect() as conn:  # the turn's unit of work
                    conn.execute(text("SELECT 1"))
            outcomes.append("taken")
        except Exception as exc:  # noqa: BLE001 - the outcome is the assertion
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=citizen, args=(n,)) for n in range(HOLDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    engine.dispose()
    assert outcomes == ["taken"] * HOLDERS
