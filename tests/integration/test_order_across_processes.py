"""Several processes on one database: one citizen's messages are taken in the order they came,
and exactly one scheduler is active while the others stand by.

The inbox's lane (`channel:address`) and the scheduler's lock are held against every other
process: on PostgreSQL with advisory locks (a second connection stands for a second process),
on SQLite by the worker's own lanes and a file lock.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text

from router.adapters.scheduler_lock import SchedulerLock
from router.domain.commands import ReceiveMessage
from router.domain.model import Message
from router.service.lanes import take_in_order

pytestmark = pytest.mark.integration

NUMBER = "+4520111222"
LANE = f"sms:{NUMBER}"


def accept(kanal, n: int) -> int:
    cmd = ReceiveMessage(channel="sms", address=NUMBER, text=f"question {n}", provider_id=f"SM{n}")
    return kanal.turns.accept(cmd)


def filed_texts(kanal) -> list[str]:
    with kanal.uow() as uow:
        found = [uow.messages.by_provider_id("sms", f"SM{n}") for n in range(3)]
        return [m.text for m in sorted((m for m in found if m), key=lambda m: m.id)]


def test_a_later_message_taken_first_files_the_earlier_ones_before_it(kanal):
    entries = [accept(kanal, n) for n in range(3)]

    take_in_order(kanal.turns, entries[2], LANE)  # the last one reached a process first
    take_in_order(kanal.turns, entries[0], LANE)  # the first: already taken, nothing to do

    assert filed_texts(kanal) == ["question 0", "question 1", "question 2"]
    assert kanal.turns.inbox.waiting_in(LANE, up_to=entries[2]) == []
    with kanal.uow() as uow:
        messages = [uow.messages.by_provider_id("sms", f"SM{n}") for n in range(3)]
    assert all(isinstance(m, Message) and m.processed for m in messages)


def test_a_lane_held_by_another_process_waits_until_it_is_let_go(kanal, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("on SQLite one machine's worker keeps the lanes itself")
    entry = accept(kanal, 0)
    other = create_engine(database_url)  # another process' connection
    key = "SELECT pg_advisory_lock(hashtextextended(:lane, 20170))"
    with other.connect() as conn:
        conn.execute(text(key), {"lane": LANE})
        conn.commit()
        turn = threading.Thread(target=take_in_order, args=(kanal.turns, entry, LANE))
        turn.start()
        turn.join(1.0)
        assert turn.is_alive(), "the turn waits for the lane"
        assert filed_texts(kanal) == [], "nothing is filed while another process holds the lane"
        conn.execute(text("SELECT pg_advisory_unlock_all()"))
        conn.commit()
        turn.join(30)
    other.dispose()
    assert not turn.is_alive()
    assert filed_texts(kanal) == ["question 0"]


def test_a_second_scheduler_stands_by_until_the_first_lets_go(database_url):
    first, second = SchedulerLock(database_url), SchedulerLock(database_url)
    try:
        assert first.try_acquire()
        assert first.held()
        assert not second.try_acquire(), "two schedulers never run at once"
        first.release()
        assert second.try_acquire(), "the standby takes over"
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()


def test_a_scheduler_whose_connection_broke_holds_the_lock_no_more(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("a file lock has no connection to lose")
    first, second = SchedulerLock(database_url), SchedulerLock(database_url)
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        assert first.try_acquire()
        with admin.connect() as conn:  # PostgreSQL restarted under the first scheduler
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND pid <> pg_backend_pid() AND granted "
                    "AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
        assert not first.held(), "it knows it lost the lock and stops its jobs"
        assert second.try_acquire()
    finally:
        admin.dispose()
        first.release()
        second.release()
