"""SQLite's WAL checkpoints run in a thread of each process, not in the commit that happens to
come next; the WAL stays bounded and nothing committed is lost (router/adapters/
sqlite_checkpoints.py). The inbox's batches take their place among every process' writers
(router/adapters/sqlite_writers.py, QueuedWrites). SQLite only: PostgreSQL has no WAL file
of kanal's to checkpoint, nor this lock."""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from router.adapters import sqlite_checkpoints
from router.adapters.db import make_engine
from router.adapters.inbox import SqlInbox
from router.domain.commands import ReceiveMessage

ROOT = Path(__file__).resolve().parents[2]
WAIT = 20  # seconds before the test calls a thread stuck
PAGE = 4096  # SQLite's page size for a new file


@pytest.fixture
def database(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_checkpoints, "CHECKPOINT_EVERY", 0.02)
    path = tmp_path / "kanal.db"
    with sqlite3.connect(path) as conn:  # not through kanal: no checkpointer started yet
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE said (n INTEGER PRIMARY KEY, who TEXT UNIQUE)")
        conn.execute("CREATE INDEX said_who ON said (who, n)")
    conn.close()
    return path


def write(engine, first: int, count: int) -> None:  # noqa: ANN001
    """`count` rows, a transaction each, as requests write them."""
    for n in range(first, first + count):
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO said (n, who) VALUES (:n, :who)"), {"n": n, "who": f"{n:032x}"}
            )


def in_database_file_alone(path: Path, tmp_path: Path) -> int:
    """Rows the database file holds by itself: a copy of it without its WAL."""
    copy = tmp_path / "copy.db"
    shutil.copyfile(path, copy)
    with sqlite3.connect(copy) as conn:
        return conn.execute("SELECT count(*) FROM said").fetchone()[0]


def wal_pages(path: Path) -> float:
    """The WAL file's size in frames (a page and its header); it is as big as it ever grew."""
    wal = Path(f"{path}-wal")
    return (wal.stat().st_size - 32) / (PAGE + 24) if wal.exists() else 0


def test_a_commit_leaves_the_checkpoint_to_the_thread_which_copies_it_into_the_file(
    database, tmp_path, monkeypatch
):
    wrote = sqlite_checkpoints.Checkpointer.wrote
    monkeypatch.setattr(sqlite_checkpoints.Checkpointer, "wrote", lambda self: None)
    engine = make_engine(f"sqlite:///{database}")
    write(engine, 0, 600)  # about 2,000 pages: SQLite's default checkpoints past 1,000
    assert in_database_file_alone(database, tmp_path) == 0  # no commit checkpointed
    monkeypatch.setattr(sqlite_checkpoints.Checkpointer, "wrote", wrote)
    checkpointer = sqlite_checkpoints.checkpointer_for(str(database))
    done = checkpointer.checkpoints
    write(engine, 600, 1)
    deadline = time.monotonic() + WAIT
    while in_database_file_alone(database, tmp_path) < 601 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert in_database_file_alone(database, tmp_path) == 601
    assert checkpointer.checkpoints > done
    engine.dispose()


def test_without_the_thread_the_commits_checkpoint_at_the_bound_and_the_wal_stays_there(
    database, monkeypatch
):
    monkeypatch.setattr(sqlite_checkpoints.Checkpointer, "wrote", lambda self: None)
    monkeypatch.setattr(sqlite_checkpoints, "WAL_BOUND_PAGES", 300)
    engine = make_engine(f"sqlite:///{database}")
    write(engine, 0, 1_500)  # about 5,000 pages written
    assert 300 <= wal_pages(database) <= 300 + 10  # the bound, and a transaction's pages
    engine.dispose()
    check = sqlite3.connect(database)
    assert check.execute("SELECT count(*), count(DISTINCT who) FROM said").fetchone() == (
        1_500,
        1_500,
    )
    check.close()


def test_the_thread_stops_when_nothing_is_written_and_starts_again_with_the_next_commit(
    database, tmp_path, monkeypatch
):
    monkeypatch.setattr(sqlite_checkpoints, "IDLE_SECONDS", 0.2)
    checkpointer = sqlite_checkpoints.checkpointer_for(str(database))
    engine = make_engine(f"sqlite:///{database}")
    write(engine, 0, 10)
    assert checkpointer.running()
    deadline = time.monotonic() + WAIT
    while checkpointer.running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not checkpointer.running()
    write(engine, 10, 10)
    assert checkpointer.running()
    while in_database_file_alone(database, tmp_path) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert in_database_file_alone(database, tmp_path) == 20
    engine.dispose()


WRITER = textwrap.dedent(
    """
    import sys
    from router.adapters import sqlite_checkpoints
    from router.adapters.db import make_engine
    sqlite_checkpoints.WAL_BOUND_PAGES = int(sys.argv[3])
    from router.adapters.inbox import SqlInbox
    from router.domain.commands import ReceiveMessage
    inbox = SqlInbox(make_engine(sys.argv[1], immediate=False))
    for n in range(int(sys.argv[2])):
        inbox.add(ReceiveMessage("sms", f"+4520{n % 50:06d}", "hi", provider_id=f"SMother{n}"))
    """
)


def test_two_processes_acknowledging_at_once_store_every_message_once_in_a_bounded_wal(
    tmp_path, monkeypatch
):
    """The inbox as two web workers write it: many threads here, another process beside."""
    monkeypatch.setattr(sqlite_checkpoints, "WAL_BOUND_PAGES", 500)
    url = f"sqlite:///{tmp_path / 'kanal-inbox.db'}"
    inbox = SqlInbox(make_engine(url, immediate=False))
    other = subprocess.Popen(
        [sys.executable, "-c", WRITER, url, "1500", "500"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )

    def deliver(thread: int) -> None:
        for n in range(300):
            sid = f"SMhere{thread}-{n}"
            inbox.add(ReceiveMessage("sms", f"+4530{n % 50:06d}", "hi", provider_id=sid))

    threads = [threading.Thread(target=deliver, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 3)
    assert other.wait(WAIT * 3) == 0
    inbox.engine.dispose()
    check = sqlite3.connect(tmp_path / "kanal-inbox.db")
    stored = check.execute("SELECT count(*), count(DISTINCT provider_id) FROM inbox").fetchone()
    check.close()
    assert stored == (3_300, 3_300)
    # Bounded: SQLite's bound (500 here), and what is written before a commit past it finds
    # no other checkpoint running and completes one (unbounded, it reached ~7,000 pages).
    assert wal_pages(tmp_path / "kanal-inbox.db") <= 3 * 500


HOLDER = textwrap.dedent(
    """
    import fcntl, os, sys, time
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    print("holding", flush=True)
    time.sleep(600)
    """
)


def test_an_acknowledgement_waits_for_its_place_among_every_process_writers(tmp_path):
    """Another process holding the inbox file's place (a web worker writing its batch): the
    batch here waits in the queue, goes in as soon as the place is let go."""
    path = tmp_path / "kanal-inbox.db"
    inbox = SqlInbox(make_engine(f"sqlite:///{path}", immediate=False))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, f"{os.path.realpath(path)}-writers.lock"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        got: list = []
        waiting = threading.Thread(
            target=lambda: got.append(
                inbox.add(ReceiveMessage("sms", "+4520333444", "hi", provider_id="SMq"))
            ),
            daemon=True,
        )
        waiting.start()
        waiting.join(0.3)
        assert waiting.is_alive(), "the batch went to SQLite while another process held its place"
        holder.kill()  # the other worker's transaction is over (or it died)
        waiting.join(WAIT)
        assert not waiting.is_alive() and got and got[0] is not None
    finally:
        holder.kill()
        holder.wait()
    # The place was given back: the file lock is free for the next process.
    fd = os.open(f"{path}-writers.lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(fd)
    inbox.engine.dispose()
