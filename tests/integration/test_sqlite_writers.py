"""SQLite's writers wait in a queue across processes and give their place back however their
transaction ends (router/adapters/sqlite_writers.py). SQLite only: PostgreSQL has no such
lock to wait for."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from router.adapters import db
from router.adapters.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
WAIT = 20  # seconds a thread may take before the test calls it stuck


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'kanal.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE said (who TEXT)"))
    engine.dispose()
    return url


def written(url: str) -> list[str]:
    engine = make_engine(url, immediate=False)
    with engine.connect() as conn:
        found = [row[0] for row in conn.execute(text("SELECT who FROM said ORDER BY rowid"))]
    engine.dispose()
    return found


def write_in_thread(engine, who: str) -> threading.Thread:  # noqa: ANN001
    def write() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO said VALUES (:who)"), {"who": who})

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("ending", ["commit", "rollback", "close", "invalidate"])
def test_the_next_writer_goes_in_once_a_transaction_ends_however_it_ends(url, ending):
    first, second = make_engine(url), make_engine(url)
    conn = first.connect()
    tx = conn.begin()
    conn.execute(text("INSERT INTO said VALUES ('first')"))
    waiting = write_in_thread(second, "second")
    waiting.join(0.3)
    assert waiting.is_alive(), "the second writer went in while the first held the lock"
    if ending == "commit":
        tx.commit()
    elif ending == "rollback":
        tx.rollback()
    elif ending == "invalidate":  # the connection thrown away (as after an error) and closed
        conn.invalidate()
    conn.close()  # "close": the transaction never ended but its connection went back
    waiting.join(WAIT)
    assert not waiting.is_alive()
    assert written(url) == (["first", "second"] if ending == "commit" else ["second"])
    first.dispose(), second.dispose()


def test_a_second_write_transaction_inside_the_first_fails_as_locked_instead_of_hanging(
    url, monkeypatch
):
    monkeypatch.setattr(db, "BUSY_SECONDS", 0.3)
    outer, inner = make_engine(url), make_engine(url)
    failed: list[Exception] = []

    def nested() -> None:
        with outer.begin() as conn:
            conn.execute(text("INSERT INTO said VALUES ('outer')"))
            try:
                with inner.begin() as again:
                    again.execute(text("INSERT INTO said VALUES ('inner')"))
            except OperationalError as exc:
                failed.append(exc)

    thread = threading.Thread(target=nested, daemon=True)
    thread.start()
    thread.join(WAIT)
    assert not thread.is_alive(), "a thread waited for its own transaction"
    assert failed and "locked" in str(failed[0])
    assert written(url) == ["outer"]
    # Both places were given back: the next writer goes straight in.
    write_in_thread(inner, "after").join(WAIT)
    assert written(url) == ["outer", "after"]
    outer.dispose(), inner.dispose()


HOLDER = textwrap.dedent(
    """
    import sys, time
    from sqlalchemy import text
    from router.adapters.db import make_engine
    conn = make_engine(sys.argv[1]).connect()
    conn.begin()
    conn.execute(text("INSERT INTO said VALUES ('other process')"))
    print("holding", flush=True)
    time.sleep(600)
    """
)


def hold_in_another_process(url: str) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_a_writer_waits_for_another_process_and_goes_in_when_it_is_killed(url):
    holder = hold_in_another_process(url)
    engine = make_engine(url)
    try:
        waiting = write_in_thread(engine, "here")
        waiting.join(0.3)
        assert waiting.is_alive(), "went in while another process held the lock"
        os.kill(holder.pid, signal.SIGKILL)  # a worker killed mid-transaction
        waiting.join(WAIT)
        assert not waiting.is_alive()
    finally:
        holder.kill()
        holder.wait()
    assert written(url) == ["here"]  # the killed process' insert was never committed
    engine.dispose()


def test_a_writer_that_cannot_get_in_in_time_is_told_locked_and_the_next_one_still_gets_in(
    url, monkeypatch
):
    monkeypatch.setattr(db, "BUSY_SECONDS", 0.5)
    holder = hold_in_another_process(url)
    engine = make_engine(url)
    try:
        with pytest.raises(OperationalError, match="locked"), engine.begin() as conn:
            conn.execute(text("INSERT INTO said VALUES ('too late')"))
    finally:
        holder.kill()
        holder.wait()
    write_in_thread(engine, "next").join(WAIT)
    assert written(url) == ["next"]
    engine.dispose()


def test_the_helper_let_in_late_never_lets_go_of_a_place_a_thread_holds(tmp_path, monkeypatch):
    """A writer that gave up waiting leaves the helper thread waiting in the kernel; when the
    other process lets go, the next writer of this process can get the file lock at once
    (the same open file), and the helper, let in too, must not unlock it under that writer."""
    from router.adapters import sqlite_writers

    path = str(tmp_path / "kanal.db-writers.lock")
    other = os.open(path, os.O_RDWR | os.O_CREAT)  # another process' place, held
    fcntl.flock(other, fcntl.LOCK_EX)
    real, helper_in, go_on = fcntl.flock, threading.Event(), threading.Event()

    def flock(fd: int, how: int) -> None:  # the helper paused just after the kernel let it in
        real(fd, how)
        if threading.current_thread().name == "kanal-sqlite-writers" and how == fcntl.LOCK_EX:
            helper_in.set()
            go_on.wait(WAIT)

    monkeypatch.setattr(sqlite_writers.fcntl, "flock", flock)
    queue = sqlite_writers.WriterQueue(path)
    assert not queue.enter(0.2)  # gave up: the helper still waits in the kernel
    fcntl.flock(other, fcntl.LOCK_UN)
    assert helper_in.wait(WAIT)
    assert queue.enter(WAIT)  # the next writer of this process: in at once
    go_on.set()
    time.sleep(0.3)  # the helper decides what to do with what it was let in to
    with pytest.raises(BlockingIOError):  # another process still cannot get in
        real(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    queue.leave()
    real(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # and it can once the place is given back


class _Interrupted(threading.Condition):
    """A condition whose first wait is interrupted (a signal's handler raising in it)."""

    interrupted = False

    def wait(self, timeout=None):  # noqa: ANN001, ANN202
        if not self.interrupted:
            type(self).interrupted = True
            super().wait(0.05)
            raise KeyboardInterrupt
        return super().wait(timeout)


def test_a_writer_interrupted_while_it_waits_leaves_the_queue_as_it_found_it(tmp_path):
    from router.adapters import sqlite_writers

    path = str(tmp_path / "kanal.db-writers.lock")
    other = os.open(path, os.O_RDWR | os.O_CREAT)  # another process' place, held
    fcntl.flock(other, fcntl.LOCK_EX)
    queue = sqlite_writers.WriterQueue(path)
    queue._cond = _Interrupted()
    with pytest.raises(KeyboardInterrupt):
        queue.enter(WAIT)
    fcntl.flock(other, fcntl.LOCK_UN)  # the other process is done

    got: list[bool] = []
    thread = threading.Thread(target=lambda: got.append(queue.enter(2)))
    thread.start()
    thread.join(WAIT)
    assert got == [True]  # this process' next writer gets its place
    queue.leave()
    time.sleep(0.3)  # the helper, let in for the interrupted writer, decides
    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nobody keeps the place meanwhile
