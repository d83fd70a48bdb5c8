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
