"""How much of each conversation the bot keeps: where a history is cut, and when it is forgotten.

Pure functions over serialised Rasa events (dicts with an "event" key), and the in-process
store of serialised trackers, so that all of it can be tested without Rasa.
`kanal_tracker_store` uses them on every save.

The kept history is the latest session only (kanal does not carry slots over sessions, see
domain.yml), and of that at most `max_events` events, cut before a user message so that
whole turns are kept. When a cut falls inside the session, the dropped part is replaced by a
short header that recreates the state Rasa had at the cut: a session start, the slots that
were set, the active loop, and a listen.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Optional

Event = Mapping[str, Any]

SESSION_START_ACTION = "action_session_start"
LISTEN_ACTION = "action_listen"


def _is_action(event: Event, name: str) -> bool:
    return event.get("event") == "action" and event.get("name") == name


def session_start(events: Sequence[Event]) -> int:
    """Return the index where the latest session begins (its `action_session_start`), or 0."""
    for i in range(len(events) - 1, -1, -1):
        if events[i].get("event") == "session_started":
            if i > 0 and _is_action(events[i - 1], SESSION_START_ACTION):
                return i - 1
            return i
    return 0


def keep_from(events: Sequence[Event], max_events: int) -> tuple[int, bool]:
    """Return the index of the first event to keep, and whether a header must stand before it.

    Without a cut inside the latest session the answer is the session's start and no header.
    Otherwise it is the first user message among the last `max_events` events (or the latest
    user message, when one bot turn alone is longer than that), with a header.
    """
    if max_events < 1:
        raise ValueError("max_events must be at least 1")
    start = session_start(events)
    if len(events) - start <= max_events:
        return start, False
    users = [i for i in range(start + 1, len(events)) if events[i].get("event") == "user"]
    if not users:
        return start, False
    lower = len(events) - max_events
    cut = next((i for i in users if i >= lower), users[-1])
    if cut <= start + 1:
        return start, False
    return cut, True


def session_header(
    timestamp: float, slots: Mapping[str, Any], active_loop: str | None = None
) -> list[dict[str, Any]]:
    """Return the events that recreate a session's state: start, slots, loop, listening.

    `slots` holds only the slots whose value differs from their initial value; a session
    start resets every slot, so the others need no event.
    """
    header: list[dict[str, Any]] = [
        {"event": "action", "name": SESSION_START_ACTION, "timestamp": timestamp},
        {"event": "session_started", "timestamp": timestamp},
    ]
    header += [
        {"event": "slot", "name": name, "value": value, "timestamp": timestamp}
        for name, value in slots.items()
    ]
    if active_loop:
        header.append({"event": "active_loop", "name": active_loop, "timestamp": timestamp})
    header.append({"event": "action", "name": LISTEN_ACTION, "timestamp": timestamp})
    return header


def bounded_events(
    events: Sequence[Event],
    max_events: int,
    state_at: Any,
) -> list[Event] | None:
    """Return the events to keep, or None when nothing needs to be cut.

    `state_at(index)` returns `(slots, active_loop)` as Rasa sees them after
    `events[:index]`; it is called only when a header is needed.
    """
    cut, header = keep_from(events, max_events)
    if cut == 0 and not header:
        return None
    kept = list(events[cut:])
    if not header:
        return kept
    slots, loop = state_at(cut)
    timestamp = float(events[cut - 1].get("timestamp") or events[cut].get("timestamp") or 0.0)
    return [*session_header(timestamp, slots, loop), *kept]


class MemoryConversations:
    """Serialised trackers in this process: expire when idle, least recently saved out first."""

    def __init__(
        self,
        idle_seconds: float,
        max_conversations: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if idle_seconds <= 0 or max_conversations < 1:
            raise ValueError("idle time and max_conversations must be positive")
        self.idle_seconds = idle_seconds
        self.max_conversations = max_conversations
        self._clock = clock
        self._lock = threading.Lock()
        # conversation id -> (time of the last save, compressed tracker), oldest save first
        self._trackers: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def get(self, key: str) -> Optional[str]:
        with self._lock:
            entry = self._trackers.get(key)
            if entry is None:
                return None
            if self._clock() - entry[0] > self.idle_seconds:
                del self._trackers[key]
                return None
            return zlib.decompress(entry[1]).decode()

    def put(self, key: str, text: str) -> None:
        now = self._clock()
        packed = zlib.compress(text.encode(), 1)
        with self._lock:
            self._trackers[key] = (now, packed)
            self._trackers.move_to_end(key)
            self._evict(now)

    def _evict(self, now: float) -> None:
        """Drop idle conversations and, beyond the limit, the least recently saved ones."""
        while self._trackers:
            key, (saved, _) = next(iter(self._trackers.items()))
            if now - saved <= self.idle_seconds and len(self._trackers) <= self.max_conversations:
                return
            del self._trackers[key]

    def keys(self) -> list[str]:
        with self._lock:
            self._evict(self._clock())
            return list(self._trackers)

    def __len__(self) -> int:
        return len(self._trackers)
