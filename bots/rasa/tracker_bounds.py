"""Where to cut a conversation's history so that Rasa loads and saves a bounded tracker.

Pure functions over serialised Rasa events (dicts with an "event" key), so they can be
tested without Rasa. `kanal_tracker_store` uses them on every save.

The kept history is the latest session only (kanal does not carry slots over sessions, see
domain.yml), and of that at most `max_events` events, cut before a user message so that
whole turns are kept. When a cut falls inside the session, the dropped part is replaced by a
short header that recreates the state Rasa had at the cut: a session start, the slots that
were set, the active loop, and a listen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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
