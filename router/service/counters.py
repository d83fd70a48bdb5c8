"""What this process has done since it started: turns, bot failures, deliveries by outcome.

The counters behind `/metrics`' `_total` series. One `ProcessCounters` lives on the container
(`Kanal.counters`) and is handed to the services that count; nothing keeps it in a global.
Prometheus reads each process' counters on its own and sums them; a restart starts them at 0,
which `rate()` and `increase()` expect.
"""

from __future__ import annotations

from collections import Counter
from threading import Lock

# The counters and their label names, in the order the exposition writes them.
COUNTERS: dict[str, tuple[str, ...]] = {
    "turns": ("channel",),  # a citizen's message the bot answered
    "bot_failures": ("channel", "reason"),  # reason: unavailable | not_understood
    "deliveries": ("channel", "outcome"),  # a send's outcome: accepted, retry, uncertain...
}


class ProcessCounters:
    """Thread-safe monotonic counters by name and labels (no personal data in a label)."""

    def __init__(self) -> None:
        self._lock = Lock()
        self._counts: dict[str, Counter[tuple[str, ...]]] = {name: Counter() for name in COUNTERS}

    def add(self, name: str, *labels: str, by: int = 1) -> None:
        """Count `by` more under `name` for these label values (in COUNTERS' order)."""
        if len(labels) != len(COUNTERS[name]):
            raise ValueError(f"{name} is counted by {', '.join(COUNTERS[name])}")
        with self._lock:
            self._counts[name][labels] += by

    def read(self, name: str) -> dict[tuple[str, ...], int]:
        """The counts under `name` so far, by label values."""
        with self._lock:
            return dict(self._counts[name])
