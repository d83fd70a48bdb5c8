"""The turn worker: takes acknowledged messages from the inbox and runs their turns.

It runs as threads in the web process (`KANAL_TURN_WORKER=thread`, the default: the webhook
hands it the new entry at once) or as its own process (`kanal worker`, with
`KANAL_TURN_WORKER=process`: the web process then only acknowledges, and the worker finds
new entries by polling the inbox). Either way the inbox is the truth: an entry acknowledged
but not taken when a process dies is taken by the next poll or the scheduler's sweep.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Protocol

from router.service.lanes import take_in_order
from router.service.turn import Turns

log = logging.getLogger(__name__)

# Entries in hand per turn thread below which the worker reads the inbox for more.
AHEAD = 8
# With `commits` given, the inbox is read at least this often even when it says nothing new
# came (an entry whose turn failed is retried by these reads).
READ_AT_LEAST_EVERY = 1.0


class InboxCommits(Protocol):
    """Whether anything was committed to the inbox since last asked (cheaper than reading it)."""

    def none_since_asked(self) -> bool: ...

    def close(self) -> None: ...


class Worker:
    """Feeds inbox entries to a small pool of turn threads, each entry once."""

    def __init__(
        self,
        turns: Turns,
        clock: Callable[[], datetime],
        *,
        threads: int = 4,
        poll_seconds: float = 1.0,
        poll_age: timedelta = timedelta(0),
        commits: InboxCommits | None = None,
    ) -> None:
        self.turns = turns
        self.clock = clock
        self.threads = threads
        self.poll_seconds = poll_seconds
        # Beside a web process that hands entries over at once, the poll only looks for
        # entries left behind (older than this), not ones another process is about to take.
        self.poll_age = poll_age
        # Commits to the inbox (SQLite's data_version, router/adapters/sqlite_changes.py):
        # a poll skips the read when there were none since the last.
        self.commits = commits
        self._last_read = 0.0
        self._new: queue.SimpleQueue[tuple[int, str]] = queue.SimpleQueue()
        self._busy: set[int] = set()
        # One citizen's messages are taken one after another, in the order they came.
        self._lanes: dict[str, deque[int]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._feeder: threading.Thread | None = None

    def notify(self, entry_id: int, lane: str) -> None:
        """Take this entry's turn soon, after earlier ones in its lane (`channel:address`)."""
        self.start()
        self._new.put((entry_id, lane))

    def start(self) -> None:
        with self._lock:
            if self._feeder is not None:
                return
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="kanal-turn")
            self._feeder = threading.Thread(target=self._feed, name="kanal-feeder", daemon=True)
            self._feeder.start()

    def stop(self, wait: bool = True) -> None:
        self._stop.set()
        self._new.put((-1, ""))
        if self._feeder is not None:
            self._feeder.join(5)
        if self._pool is not None:
            self._pool.shutdown(wait=wait)
        if self.commits is not None:
            self.commits.close()

    def run_forever(self) -> None:
        """Run until interrupted (the `kanal worker` process)."""
        self.start()
        try:
            self._stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def idle(self) -> bool:
        """Return True when no turn is running or waiting to run here (kanal demo traffic)."""
        with self._lock:
            return not self._busy and self._new.empty()

    def _feed(self) -> None:
        while not self._stop.is_set():
            try:
                ids = [self._new.get(timeout=self.poll_seconds)]
            except queue.Empty:
                ids = self._waiting() if self._has_room() and self._may_have_new() else []
            for entry_id, lane in ids:
                if entry_id >= 0:
                    self._submit(entry_id, lane)

    def _has_room(self) -> bool:
        """Whether the threads may run out of work before the next poll: while a backlog
        keeps more entries in hand than `AHEAD` turns per thread, reading the inbox again
        would only find the same entries (20 reads of 100 entries a second, 7 % of the
        worker's CPU in a burst of 3,000 SMS)."""
        with self._lock:
            return len(self._busy) < self.threads * AHEAD

    def _may_have_new(self) -> bool:
        """Whether reading the inbox may find what the last read did not: something was
        committed to it since, or the last read is a second old. Asked before the read, so
        an entry committed during a read is seen by the next poll."""
        if self.commits is None:
            return True
        try:
            quiet = self.commits.none_since_asked()
        except Exception:  # cannot tell: read
            log.exception("asking the inbox for changes failed")
            quiet = False
        now = time.monotonic()
        if quiet and now - self._last_read < READ_AT_LEAST_EVERY:
            return False
        self._last_read = now
        return True

    def _waiting(self) -> list[tuple[int, str]]:
        try:
            return self.turns.inbox.waiting(self.clock() - self.poll_age)
        except Exception:  # the database may be restarting: poll again later
            log.exception("reading the inbox failed")
            return []

    def _submit(self, entry_id: int, lane: str) -> None:
        with self._lock:
            if entry_id in self._busy or self._pool is None:
                return
            self._busy.add(entry_id)
            if lane in self._lanes:  # an earlier message of this citizen is being taken
                self._lanes[lane].append(entry_id)
                return
            self._lanes[lane] = deque()
        self._pool.submit(self._take, entry_id, lane)

    def _take(self, entry_id: int, lane: str) -> None:
        try:
            take_in_order(self.turns, entry_id, lane)
        except Exception:  # the entry stays in the inbox; the next poll or sweep retries it
            log.exception("a turn failed; it will be retried")
        finally:
            with self._lock:
                self._busy.discard(entry_id)
                waiting = self._lanes.get(lane)
                following = waiting.popleft() if waiting else None
                if following is None:
                    self._lanes.pop(lane, None)
        if following is not None and not self._stop.is_set():
            self._pool.submit(self._take, following, lane)
