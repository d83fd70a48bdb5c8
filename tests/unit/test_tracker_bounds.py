"""Where the bot's conversation memory is cut (bots/rasa/tracker_bounds.py, no Rasa needed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bots.train import PROJECT_DIR

pytestmark = pytest.mark.unit


def _load(path: Path):
    spec = importlib.util.spec_from_file_location("tracker_bounds", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bounds = _load(PROJECT_DIR / "tracker_bounds.py")


def session(t: float = 0.0) -> list[dict]:
    """The events Rasa writes when a session starts."""
    return [
        {"event": "action", "name": "action_session_start", "timestamp": t},
        {"event": "session_started", "timestamp": t},
        {"event": "action", "name": "action_listen", "timestamp": t},
    ]


def turn(text: str, t: float, slot: tuple[str, str] | None = None) -> list[dict]:
    """One user message and the bot's answer: five events, or six with a slot set."""
    events = [
        {"event": "user", "text": text, "timestamp": t},
        {"event": "user_featurization", "timestamp": t},
    ]
    if slot:
        events.append({"event": "slot", "name": slot[0], "value": slot[1], "timestamp": t})
    return events + [
        {"event": "action", "name": "utter_answer", "timestamp": t},
        {"event": "bot", "text": f"answer to {text}", "timestamp": t},
        {"event": "action", "name": "action_listen", "timestamp": t},
    ]


def conversation(turns: int, start: float = 0.0) -> list[dict]:
    events = session(start)
    for i in range(turns):
        events += turn(f"message {i}", start + i + 1)
    return events


def texts(events) -> list[str]:
    return [e["text"] for e in events if e["event"] == "user"]


def no_state(cut: int) -> tuple[dict, None]:
    return {}, None


def test_a_short_conversation_is_kept_whole():
    events = conversation(3)  # 18 events

    assert bounds.keep_from(events, 60) == (0, False)
    assert bounds.bounded_events(events, 60, no_state) is None


def test_a_long_conversation_keeps_its_last_whole_turns_behind_a_header():
    events = conversation(30)  # 3 + 150 events

    kept = bounds.bounded_events(events, 20, no_state)

    assert texts(kept) == [f"message {i}" for i in range(26, 30)]  # 4 turns of 5 events
    assert len(kept) - len(bounds.session_header(0, {})) <= 20
    assert [e["event"] for e in kept[:2]] == ["action", "session_started"]
    assert kept[len(bounds.session_header(0, {})) - 1]["name"] == "action_listen"
    assert kept[len(bounds.session_header(0, {}))]["event"] == "user"


def test_the_header_recreates_the_slots_and_loop_as_they_were_at_the_cut():
    events = session() + turn("I want to apply for pension", 1, slot=("benefit", "pension"))
    for i in range(20):
        events += turn(f"hello {i}", i + 2)
    asked: list[int] = []

    def state_at(cut: int):
        asked.append(cut)
        return {"benefit": "pension"}, "some_form"

    kept = bounds.bounded_events(events, 12, state_at)

    assert asked and events[asked[0]]["event"] == "user"
    assert texts(kept) == ["hello 18", "hello 19"]
    slots = [(e["name"], e["value"]) for e in kept if e["event"] == "slot"]
    assert slots == [("benefit", "pension")]
    assert {"event": "active_loop", "name": "some_form"}.items() <= next(
        e for e in kept if e["event"] == "active_loop"
    ).items()
    # the header is dated at the last event it replaces: the history stays in time order
    assert kept[0]["timestamp"] == events[asked[0] - 1]["timestamp"]
    assert [e["timestamp"] for e in kept] == sorted(e["timestamp"] for e in kept)


def test_earlier_sessions_are_dropped_without_a_header():
    events = conversation(4) + conversation(2, start=100)

    cut, header = bounds.keep_from(events, 60)
    kept = bounds.bounded_events(events, 60, no_state)

    assert (cut, header) == (len(conversation(4)), False)
    assert texts(kept) == ["message 0", "message 1"]
    assert kept[0]["name"] == "action_session_start" and kept[1]["event"] == "session_started"


def test_one_bot_turn_longer_than_the_limit_keeps_the_latest_user_message():
    events = conversation(2)
    events += [{"event": "action", "name": f"step_{i}", "timestamp": 9} for i in range(30)]

    kept = bounds.bounded_events(events, 10, no_state)

    assert texts(kept) == ["message 1"]


def test_a_history_without_user_messages_is_not_cut():
    events = session() + [{"event": "action", "name": "x", "timestamp": 1}] * 100

    assert bounds.bounded_events(events, 10, no_state) is None


def test_the_limit_must_allow_at_least_one_event():
    with pytest.raises(ValueError):
        bounds.keep_from(conversation(1), 0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_conversation_in_memory_comes_back_as_saved_until_it_is_idle_too_long():
    clock = Clock()
    memory = bounds.MemoryConversations(idle_seconds=60, max_conversations=10, clock=clock)
    memory.put("c_1", '{"events": [], "name": "c_1"}')

    clock.now += 59
    assert memory.get("c_1") == '{"events": [], "name": "c_1"}'
    memory.put("c_1", "second turn")  # a turn renews it
    clock.now += 59
    assert memory.get("c_1") == "second turn"

    clock.now += 2
    assert memory.get("c_1") is None
    assert memory.keys() == [] and len(memory) == 0


def test_idle_conversations_are_dropped_when_others_are_saved():
    clock = Clock()
    memory = bounds.MemoryConversations(idle_seconds=60, max_conversations=10, clock=clock)
    for i in range(5):
        memory.put(f"old_{i}", "x")
    clock.now += 61
    memory.put("new", "y")

    assert len(memory) == 1 and memory.keys() == ["new"]


def test_beyond_the_limit_the_least_recently_active_conversation_goes_first():
    clock = Clock()
    memory = bounds.MemoryConversations(idle_seconds=3600, max_conversations=3, clock=clock)
    for name in ("a", "b", "c"):
        memory.put(name, name)
        clock.now += 1
    memory.put("a", "a again")  # active again: now the most recent
    memory.put("d", "d")

    assert sorted(memory.keys()) == ["a", "c", "d"]
    assert memory.get("b") is None and memory.get("a") == "a again"


def test_the_memory_store_refuses_limits_that_keep_nothing():
    with pytest.raises(ValueError):
        bounds.MemoryConversations(idle_seconds=0, max_conversations=10)
    with pytest.raises(ValueError):
        bounds.MemoryConversations(idle_seconds=60, max_conversations=0)
