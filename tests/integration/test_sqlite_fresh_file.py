"""A fresh SQLite file opened while another connection writes to it: the new one gets in.

SQLite-only by nature (PostgreSQL has no journal mode to switch). A file not yet in WAL mode
(as `create_all` leaves it) is switched by the first connection of each engine, and SQLite
answers that switch "database is locked" at once, without waiting out its busy timeout, when
another connection holds the write lock or switches the file at the same moment. A CI run of
test_live_streams met it as a 503 creating a chat session while the stream process's poller
opened the file (reproduced: 1 run in 450 under load).
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, insert, select

from analytics.reader import reader_engine
from router.adapters.db import create_all, make_engine
from router.adapters.orm import contact_events

pytestmark = pytest.mark.integration

EVENT = {"type": "opened", "channel": "webchat", "data": {}}


def write(engine) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        conn.execute(insert(contact_events).values(at=datetime.now(UTC), **EVENT))


def read(engine) -> None:  # noqa: ANN001
    with engine.connect() as conn:
        conn.execute(select(contact_events.c.id)).all()


ENGINES = {
    "the web's writer": (lambda url: make_engine(url), write),
    "a reader (the stream process's poller)": (lambda url: make_engine(url, immediate=False), read),
    "an analytics report": (lambda url: reader_engine(create_engine(url)), read),
}


@pytest.mark.parametrize("opened_by", ENGINES)
def test_a_connection_opened_while_another_writes_a_fresh_file_waits_its_turn(tmp_path, opened_by):
    path = tmp_path / "kanal.db"
    fresh = create_engine(f"sqlite:///{path}")  # a plain engine: SQLite's rollback journal
    create_all(fresh)
    fresh.dispose()
    writing = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writing.execute("BEGIN IMMEDIATE")  # holds the write lock for a moment
    writing.execute(
        "INSERT INTO contact_events (type, at, channel, data) VALUES ('x', '', 'sms', '')"
    )
    done = threading.Timer(0.3, writing.execute, ("COMMIT",))
    done.start()
    make, use = ENGINES[opened_by]
    engine = make(f"sqlite:///{path}")
    try:
        use(engine)  # before the change: OperationalError "database is locked", at once
    finally:
        done.join()
        engine.dispose()
        writing.close()
