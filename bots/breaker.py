"""The bot's circuit breaker: it opens on an outage, never on one message the bot turned down.

Every call to the bot ends in one of three outcomes:

- `ANSWERED`: the bot answered, even if the answer was a refusal of this one message (a 4xx)
  or nothing at all (`[]`). The bot is up; the failures in a row start again from zero.
- `OUTAGE`: the bot could not be reached (connection refused), answered a 5xx, or did not
  answer within the time the call was given and has answered nothing else for a while (the
  client's `down_after`; a timeout while other calls are answered is a slow bot, `NEUTRAL`).
  Only outages count towards opening the circuit.
- `NEUTRAL`: the call says nothing about the bot: it was never sent (the turn waited too long
  for a free slot in the bulkhead, or kanal refused what it would have sent), or kanal itself
  failed reading the answer. It neither counts nor resets.

The rules, each held by `tests/unit/test_bot_breaker.py` with a fake clock:

1. Closed: every call goes through. `threshold` outages in a row open the circuit.
2. Open: calls are refused at once ("circuit-open") for `reset_after` seconds.
3. Then half-open: one trial goes through (a citizen's turn, or a probe of the bot's
   `/status`); the others are still refused. The trial answered closes the circuit; an outage
   opens it again for `reset_after`; a neutral trial hands the trial to the next caller. A
   trial that never reports within `trial_lease` seconds is given up, and another may go.
4. An outcome counts only for the circuit it was allowed under: a call that started before
   the circuit last changed (a slow call from before an outage, or from before recovery) says
   nothing about now and is ignored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Outcome(Enum):
    """What one call to the bot says about the bot."""

    ANSWERED = "answered"
    OUTAGE = "outage"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Ticket:
    """The breaker's permission for one call: the circuit it was given under, and if a trial."""

    generation: int
    trial: bool = False


@dataclass(frozen=True)
class CircuitState:
    """What the breaker knows: its state, the outages in a row, seconds until a trial."""

    state: str  # "closed", "open" or "half-open"
    failures: int
    retry_in: float


class CircuitBreaker:
    """Fail fast while the bot is down, so a dead bot does not make every citizen wait."""

    def __init__(
        self,
        threshold: int,
        reset_after: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        trial_lease: float | None = None,
    ) -> None:
        if threshold < 1 or reset_after < 0:
            raise ValueError("threshold must be >= 1 and reset_after >= 0")
        self.threshold = threshold
        self.reset_after = reset_after
        self.trial_lease = trial_lease if trial_lease is not None else max(reset_after, 1.0)
        self._clock = clock
        self._lock = threading.Lock()
        self._state = "closed"
        self._failures = 0
        self._generation = 0
        self._opened_at = 0.0
        self._trial_at: float | None = None  # when the half-open trial was handed out

    def allow(self) -> Ticket | None:
        """Return a ticket if a call may go through now (the trial when half-open), else None."""
        with self._lock:
            now = self._clock()
            if self._state == "closed":
                return Ticket(self._generation)
            if self._state == "open":
                if now - self._opened_at < self.reset_after:
                    return None
                self._state = "half-open"
            if self._trial_at is not None and now - self._trial_at < self.trial_lease:
                return None  # the trial is out
            self._trial_at = now
            return Ticket(self._generation, trial=True)

    def record(self, ticket: Ticket, outcome: Outcome) -> None:
        """Take a call's outcome into account (outcomes of an earlier circuit are ignored)."""
        with self._lock:
            if ticket.generation != self._generation:
                return
            if self._state == "half-open":
                if not ticket.trial:
                    return
                if outcome is Outcome.ANSWERED:
                    self._close()
                elif outcome is Outcome.OUTAGE:
                    self._open()
                else:
                    self._trial_at = None
            elif self._state == "closed":
                if outcome is Outcome.ANSWERED:
                    self._failures = 0
                elif outcome is Outcome.OUTAGE:
                    self._failures += 1
                    if self._failures >= self.threshold:
                        self._open()

    @property
    def closed(self) -> bool:
        """Whether calls go through without a trial."""
        with self._lock:
            return self._state == "closed"

    def snapshot(self) -> CircuitState:
        """Return the state as seen now."""
        with self._lock:
            retry_in = 0.0
            if self._state == "open":
                retry_in = max(0.0, self.reset_after - (self._clock() - self._opened_at))
            return CircuitState(self._state, self._failures, retry_in)

    def _open(self) -> None:
        self._state, self._opened_at, self._trial_at = "open", self._clock(), None
        self._failures = max(self._failures, 1)
        self._generation += 1

    def _close(self) -> None:
        self._state, self._failures, self._trial_at = "closed", 0, None
        self._generation += 1
