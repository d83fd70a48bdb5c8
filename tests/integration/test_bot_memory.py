"""The real bot's conversation memory is bounded: histories are cut, idle conversations expire.

One Rasa server per tracker store (kanal's in-process default, and Redis), each with a small
limit and a short idle time so that both show within a few turns and seconds.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from bots.client import WEBHOOK_PATH
from bots.serve import RunningBot, running_bot
from bots.train import rasa_executable, train_if_changed

pytestmark = [pytest.mark.integration, pytest.mark.rasa]

MAX_EVENTS = 20
IDLE_SECONDS = 3.0
REDIS_URL = "redis://127.0.0.1:6379/14"
REDIS_PREFIX = "kanal:tracker:"  # bots/rasa/kanal_tracker_store.py


def redis_command(*args: str) -> bytes:
    """Send one command to the test Redis (RESP over a socket) and return its raw answer."""
    parts = urlsplit(REDIS_URL)
    command = [b"SELECT", parts.path.strip("/").encode()], [a.encode() for a in args]
    payload = b"".join(
        b"*%d\r\n" % len(c) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in c) for c in command
    )
    with socket.create_connection((parts.hostname, parts.port or 6379), timeout=2) as sock:
        sock.sendall(payload)
        time.sleep(0.05)
        answer = sock.recv(65536)
    return answer.split(b"\r\n", 1)[1]  # past SELECT's +OK


def redis_answers() -> bool:
    try:
        return redis_command("PING").startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="module", params=["memory", "redis"])
def bounded_bot(request, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """A Rasa server whose tracker store keeps MAX_EVENTS events for IDLE_SECONDS."""
    store = request.param
    if not rasa_executable().exists():
        pytest.skip(f"Rasa is not installed at {rasa_executable()} (run `make install`)")
    if store == "redis" and not redis_answers():
        pytest.skip(f"Redis does not answer at {REDIS_URL}: the Redis tracker store is untested")
    train_if_changed(quiet=True)
    settings = {
        "KANAL_RASA_TRACKER_STORE": REDIS_URL if store == "redis" else "memory",
        "KANAL_RASA_TRACKER_MAX_EVENTS": str(MAX_EVENTS),
        "KANAL_RASA_TRACKER_IDLE_MINUTES": str(IDLE_SECONDS / 60),
        # With Redis, Rasa's conversation locks go there too (as several replicas need)
        "KANAL_RASA_LOCK_STORE": REDIS_URL if store == "redis" else "memory",
    }
    with running_bot(tmp_path_factory.mktemp(f"rasa-{store}"), settings=settings) as bot:
        yield bot


def say(bot: RunningBot, sender: str, text: str) -> list[dict]:
    response = requests.post(
        bot.url + WEBHOOK_PATH, json={"sender": sender, "message": text}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["messages"]


def tracker(bot: RunningBot, sender: str) -> dict:
    response = requests.get(f"{bot.url}/conversations/{sender}/tracker", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def user_texts(state: dict) -> list[str]:
    return [e["text"] for e in state["events"] if e["event"] == "user"]


def new_sender() -> str:
    return "k_" + uuid.uuid4().hex[:24]  # opaque, like the sender ids kanal gives Rasa


def test_a_long_conversation_is_cut_and_still_answered_with_its_slots(bounded_bot: RunningBot):
    sender = new_sender()
    answer = say(bounded_bot, sender, "I want to apply for pension")
    assert "/apply/pension" in answer[0]["text"]
    for _ in range(MAX_EVENTS + 3):  # turn N+4 at the end of the loop
        say(bounded_bot, sender, "hello")

    state = tracker(bounded_bot, sender)

    # Cut to whole turns within the limit, behind a header that starts the session
    assert len(state["events"]) <= MAX_EVENTS + 5
    assert [e["event"] for e in state["events"][:2]] == ["action", "session_started"]
    assert "I want to apply for pension" not in user_texts(state)
    # ...and the slot set by the first message, long cut away, is still there
    assert state["slots"]["benefit"] == "pension"

    # turn N+5: rules still answer
    answer = say(bounded_bot, sender, "when will my pension be paid")
    assert "/payments/dates" in answer[0]["text"]
    handoff = say(bounded_bot, sender, "I want to talk to a person")
    assert any((m.get("custom") or {}).get("handoff") for m in handoff)


def test_an_idle_conversation_is_forgotten(bounded_bot: RunningBot, request):
    sender = new_sender()
    say(bounded_bot, sender, "hello")
    assert user_texts(tracker(bounded_bot, sender)) == ["hello"]
    if "redis" in request.node.callspec.id:
        ttl = int(redis_command("PTTL", REDIS_PREFIX + sender).strip(b":\r\n"))
        assert 0 < ttl <= IDLE_SECONDS * 1000, "the conversation is in Redis, with a time to live"

    time.sleep(IDLE_SECONDS + 0.5)

    assert user_texts(tracker(bounded_bot, sender)) == []
    answer = say(bounded_bot, sender, "when is my payment")
    assert "/payments/dates" in answer[0]["text"]
    assert user_texts(tracker(bounded_bot, sender)) == ["when is my payment"]


def test_after_rasas_session_expiry_only_the_new_session_is_kept(bounded_bot: RunningBot):
    sender = new_sender()
    say(bounded_bot, sender, "I want to apply for pension")
    # The citizen wrote two hours ago: past the domain's 60-minute session expiry
    events = tracker(bounded_bot, sender)["events"]
    for event in events:
        event["timestamp"] -= 2 * 3600
    response = requests.put(
        f"{bounded_bot.url}/conversations/{sender}/tracker/events", json=events, timeout=10
    )
    assert response.status_code == 200, response.text

    answer = say(bounded_bot, sender, "when is my payment")

    assert "/payments/dates" in answer[0]["text"]
    state = tracker(bounded_bot, sender)
    assert user_texts(state) == ["when is my payment"]
    assert [e["event"] for e in state["events"]].count("session_started") == 1


def test_without_redis_the_bot_still_answers(tmp_path):
    if not rasa_executable().exists():
        pytest.skip(f"Rasa is not installed at {rasa_executable()} (run `make install`)")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        nobody = probe.getsockname()[1]
    settings = {"KANAL_RASA_TRACKER_STORE": f"redis://127.0.0.1:{nobody}/0"}

    with running_bot(tmp_path, settings=settings) as bot:
        sender = new_sender()
        first = say(bot, sender, "hello")
        second = say(bot, sender, "when is my payment")

    assert "Hello" in first[0]["text"]
    assert "/payments/dates" in second[0]["text"]
    assert "could not save" in (tmp_path / "rasa.log").read_text()
