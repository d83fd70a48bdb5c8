"""The turn worker reads the inbox for more only while its threads may run short of work."""

import threading
import time
from contextlib import nullcontext
from datetime import UTC, datetime

import pytest

from router.entrypoints.worker import Worker

pytestmark = pytest.mark.unit


class Backlog:
    """An inbox with a long backlog of one-message lanes, and turns that wait to be let go."""

    def __init__(self, size: int) -> None:
        self.entries = [(i, f"sms:+45200{i:05d}") for i in range(1, size + 1)]
        self.reads = 0
        self.taken: list[int] = []
        self.go = threading.Event()
        self.inbox = self

    def waiting(self, before, limit=100):  # noqa: ANN001
        self.reads += 1
        left = [e for e in self.entries if e[0] not in self.taken]
        return left[:limit]

    def waiting_in(self, lane, up_to):  # noqa: ANN001
        return [i for i, name in self.entries if name == lane and i <= up_to]

    def lane(self, lane):  # noqa: ANN001
        return nullcontext()

    def take(self, entry_id):  # noqa: ANN001
        self.go.wait(5)
        self.taken.append(entry_id)


def test_a_backlog_in_hand_is_not_read_again_every_poll():
    backlog = Backlog(300)
    worker = Worker(backlog, lambda: datetime.now(UTC), threads=2, poll_seconds=0.01)
    worker.start()
    try:
        time.sleep(0.3)  # 30 polls' worth while the first 100 entries wait in hand
        assert backlog.reads == 1
        backlog.go.set()  # the turns run: the worker reads again as its hand empties
        deadline = time.monotonic() + 10
        while len(backlog.taken) < 300 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        backlog.go.set()
        worker.stop()
    assert sorted(backlog.taken) == list(range(1, 301)), "each entry taken once"
    assert backlog.reads < 30, "read again only as the hand empties"
