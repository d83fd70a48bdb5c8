"""Group commit: rows handed in at the same time share one transaction, and each thread
hears its own row's outcome only once that transaction has committed."""

import threading

import pytest

from router.adapters.group_commit import GroupCommit

pytestmark = pytest.mark.unit


class Store:
    """A store whose transactions the test holds open: `write` blocks until released."""

    def __init__(self, fail_when=None) -> None:
        self.committed: list[str] = []
        self.transactions: list[list[str]] = []
        self.fail_when = fail_when
        self.writing = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def write(self, rows):
        self.writing.set()
        assert self.release.wait(10)
        self.transactions.append(list(rows))
        if self.fail_when and self.fail_when(rows):
            raise ConnectionError("the database went away")
        self.committed.extend(rows)
        return [f"id-of-{row}" for row in rows]


def submit_in_threads(group, rows, outcomes):
    def one(row):
        try:
            outcomes[row] = group.submit(row)
        except ConnectionError as exc:
            outcomes[row] = exc

    threads = [threading.Thread(target=one, args=(row,)) for row in rows]
    for thread in threads:
        thread.start()
    return threads


def wait_until(predicate, what):
    for _ in range(1000):
        if predicate():
            return
        threading.Event().wait(0.01)
    raise AssertionError(what)


def test_a_row_alone_is_written_at_once_in_a_transaction_of_its_own():
    store = Store()
    group = GroupCommit(store.write)

    assert group.submit("a") == "id-of-a"
    assert store.transactions == [["a"]]


def test_rows_that_arrive_while_a_transaction_is_written_share_the_next_one():
    store = Store()
    group = GroupCommit(store.write)
    store.release.clear()
    outcomes = {}
    first = submit_in_threads(group, ["first"], outcomes)
    assert store.writing.wait(10)  # the first row's transaction is being written
    waiting = submit_in_threads(group, [f"row{i}" for i in range(8)], outcomes)
    wait_until(lambda: len(group._waiting) == 8, "eight rows waiting")
    assert outcomes == {}, "nobody is answered before their transaction commits"

    store.release.set()
    for thread in first + waiting:
        thread.join(10)

    assert store.transactions[0] == ["first"]
    assert sorted(store.transactions[1]) == sorted(f"row{i}" for i in range(8))
    assert len(store.transactions) == 2, "eight rows, one transaction"
    assert outcomes == {row: f"id-of-{row}" for row in ["first"] + [f"row{i}" for i in range(8)]}


def test_every_row_of_a_failed_transaction_gets_its_error_and_the_next_batch_still_runs():
    store = Store(fail_when=lambda rows: "bad" in rows)
    group = GroupCommit(store.write)
    store.release.clear()
    outcomes = {}
    first = submit_in_threads(group, ["first"], outcomes)
    assert store.writing.wait(10)
    doomed = submit_in_threads(group, ["bad", "unlucky"], outcomes)
    wait_until(lambda: len(group._waiting) == 2, "two rows waiting")
    store.release.set()
    for thread in first + doomed:
        thread.join(10)

    assert outcomes["first"] == "id-of-first"
    assert isinstance(outcomes["bad"], ConnectionError)
    assert isinstance(outcomes["unlucky"], ConnectionError), "its transaction failed too"
    assert outcomes["bad"] is not outcomes["unlucky"], "each thread raises its own copy"
    assert store.committed == ["first"]
    assert group.submit("later") == "id-of-later", "the group goes on after a failure"


def test_with_two_writers_two_transactions_run_at_once_and_no_row_is_written_twice():
    store = Store()
    group = GroupCommit(store.write, writers=2)
    store.release.clear()
    outcomes = {}
    rows = [f"row{i}" for i in range(40)]
    threads = submit_in_threads(group, rows, outcomes)
    wait_until(lambda: len(store.transactions) == 0 and group._leading == 2, "two writers")
    store.release.set()
    for thread in threads:
        thread.join(10)

    assert sorted(store.committed) == sorted(rows), "every row written exactly once"
    assert outcomes == {row: f"id-of-{row}" for row in rows}


# -- rows handed in without waiting (submit_later: the web worker answers from the commit) --


def test_a_row_handed_in_without_waiting_is_written_by_the_groups_writer_then_told():
    store = Store()
    group = GroupCommit(store.write)
    store.release.clear()
    heard = []
    group.submit_later("a", lambda r, e: heard.append((r, e, threading.current_thread().name)))
    assert store.writing.wait(10), "the writer writes it: the caller went on"
    assert heard == [], "not told before its transaction commits"
    store.release.set()
    wait_until(lambda: heard, "told")
    assert heard == [("id-of-a", None, "group-commit-0")]
    assert store.transactions == [["a"]]


def test_rows_handed_in_while_the_writer_writes_share_its_next_transaction():
    store = Store()
    group = GroupCommit(store.write)
    store.release.clear()
    heard = {}
    group.submit_later("first", lambda r, e: heard.setdefault("first", r))
    assert store.writing.wait(10)
    for i in range(5):
        group.submit_later(f"row{i}", lambda r, e, i=i: heard.setdefault(f"row{i}", (r, e)))
    assert len(group._waiting) == 5 and heard == {}
    store.release.set()
    wait_until(lambda: len(heard) == 6, "all six told")

    assert store.transactions == [["first"], [f"row{i}" for i in range(5)]]
    assert heard == {
        "first": "id-of-first",
        **{f"row{i}": (f"id-of-row{i}", None) for i in range(5)},
    }
    wait_until(lambda: group._leading == 0, "the writer stops once nothing is left")


def test_a_waiting_thread_takes_the_writing_over_from_the_writer():
    store = Store()
    group = GroupCommit(store.write)
    store.release.clear()
    heard, outcomes = [], {}
    group.submit_later("later", lambda r, e: heard.append(r))
    assert store.writing.wait(10)
    waiter = submit_in_threads(group, ["waits"], outcomes)
    wait_until(lambda: len(group._waiting) == 1, "the waiting thread's row queued")
    group.submit_later("also-later", lambda r, e: heard.append(r))
    store.release.set()
    for thread in waiter:
        thread.join(10)
    wait_until(lambda: len(heard) == 2, "both told")

    assert outcomes == {"waits": "id-of-waits"}
    assert sorted(heard) == ["id-of-also-later", "id-of-later"]
    assert store.transactions[0] == ["later"]
    assert sorted(store.transactions[1]) == ["also-later", "waits"], "one transaction"
    assert group.submit("after") == "id-of-after"


def test_a_failed_transaction_tells_each_caller_that_did_not_wait_its_error():
    store = Store(fail_when=lambda rows: "bad" in rows)
    group = GroupCommit(store.write)
    heard = []
    group.submit_later("bad", lambda r, e: heard.append((r, e)))
    wait_until(lambda: heard, "told")
    group.submit_later("good", lambda r, e: heard.append((r, e)))
    wait_until(lambda: len(heard) == 2, "told")

    assert heard[0][0] is None and isinstance(heard[0][1], ConnectionError)
    assert heard[1] == ("id-of-good", None), "the writer goes on after a failure"


def test_a_caller_whose_callback_fails_does_not_stop_the_others_hearing():
    store = Store()
    group = GroupCommit(store.write)
    store.release.clear()
    heard = []

    def broken(result, error):
        raise RuntimeError("the client went away")

    group.submit_later("first", broken)
    assert store.writing.wait(10)
    group.submit_later("second", broken)
    group.submit_later("third", lambda r, e: heard.append(r))
    store.release.set()
    wait_until(lambda: heard, "the third told")
    assert heard == ["id-of-third"]
    assert group.submit("after") == "id-of-after"


def test_with_two_writers_rows_handed_in_are_each_written_once():
    store = Store()
    group = GroupCommit(store.write, writers=2)
    heard = []
    lock = threading.Lock()

    def told(result, error):
        with lock:
            heard.append(result)

    rows = [f"row{i}" for i in range(300)]
    for row in rows:
        group.submit_later(row, told)
    wait_until(lambda: len(heard) == 300, "every row told")
    assert sorted(store.committed) == sorted(rows)
    assert sorted(heard) == sorted(f"id-of-{row}" for row in rows)
