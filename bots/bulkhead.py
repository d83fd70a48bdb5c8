"""The bot's bulkhead: how many calls to Rasa one process makes at once, adapting to its pace.

Rasa parses one message at a time, so calls made at once queue inside it: with `n` calls in
flight each waits about `n` times Rasa's own time. When Rasa is slow (a busy machine, messages
it must think hard about) a fixed `n` makes every call miss its time together, and Rasa goes
on computing answers nobody waits for any more. So the limit adapts (additive increase,
multiplicative decrease): a call past its time halves it (down to 1), and each `limit`
answered calls raise it by one (up to `most`, KANAL_BOT_CONCURRENCY). A turn that finds no
free slot within its wait is refused as `busy` (bots/client.py), which is not an outage.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class Bulkhead:
    """At most `limit` calls at once, `limit` between 1 and `most`."""

    def __init__(self, most: int) -> None:
        if most < 1:
            raise ValueError("a bulkhead needs room for at least one call")
        self.most = most
        self.limit = most
        self.in_flight = 0
        self._answered = 0
        self._waiting: deque[object] = deque()  # turns waiting for a slot, first come first
        self._cond = threading.Condition()

    def enter(self, wait: float) -> bool:
        """Take a slot, waiting at most `wait` seconds; False when none came free. Turns get
        their slots in the order they asked: a citizen who waited longest goes first."""
        deadline = time.monotonic() + wait
        with self._cond:
            if self.in_flight < self.limit and not self._waiting:
                self.in_flight += 1
                return True
            me = object()
            self._waiting.append(me)
            try:
                while self._waiting[0] is not me or self.in_flight >= self.limit:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._cond.wait(left)
                self.in_flight += 1
                return True
            finally:
                self._waiting.remove(me)
                self._cond.notify_all()  # the next in line looks again

    def leave(self, slow: bool | None) -> None:
        """Give the slot back: `slow` True (past its time) halves the limit, False (answered)
        counts towards raising it, None (says nothing of Rasa's pace) leaves it."""
        with self._cond:
            self.in_flight -= 1
            if slow:
                self.limit = max(1, self.limit // 2)
                self._answered = 0
            elif slow is False:
                self._answered += 1
                if self._answered >= self.limit:
                    self.limit = min(self.most, self.limit + 1)
                    self._answered = 0
            self._cond.notify_all()
