"""Rasa stopped, hung, or answering nothing in the middle of citizens' conversations.

Eight citizens are talking to the bot through the chat API when Rasa fails; their next
messages, sent at once, reach assisted service (queued for a person) without waiting for Rasa
longer than the bot's budget; an outage (refused at once; hung, once Rasa has answered nothing
for four budgets) opens the bot's circuit and, when Rasa is back, the circuit closes by itself (the
probe) and new citizens get the bot again. An empty answer is a failed turn but not an outage:
the circuit stays closed. Every message a citizen sent is stored once and answered.
"""

from __future__ import annotations

import threading
import time

import pytest

from router import create_app
from router.entrypoints.bootstrap import kanal_of
from tests.faults.support import BOT_ANSWER, FakeRasa, Tally, wait_for

pytestmark = pytest.mark.faults

CITIZENS = 8
BOT_TEXT = BOT_ANSWER["messages"][0]["text"]


def start(client) -> tuple[str, dict]:
    response = client.post("/api/v1/chat/sessions", json={})
    assert response.status_code == 201
    data = response.get_json()
    return data["session_id"], {"Authorization": f"Bearer {data['token']}"}


def say(app, session: tuple[str, dict], text: str) -> tuple[dict, float]:
    started = time.monotonic()
    response = app.test_client().post(
        f"/api/v1/chat/sessions/{session[0]}/messages", json={"text": text}, headers=session[1]
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json(), time.monotonic() - started


def all_say(app, sessions, text: str) -> list[tuple[dict, float]]:
    """Every citizen sends a message at the same moment; return their answers in order."""
    answers: list = [None] * len(sessions)

    def one(i: int) -> None:
        answers[i] = say(app, sessions[i], f"{text} ({i})")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(a is not None for a in answers)
    return answers


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.long)], indirect=True
)
@pytest.mark.parametrize("fault", ["stopped", "hung", "empty"])
def test_rasa_failing_mid_conversation_sends_citizens_to_people_and_loses_nothing(
    app_config, fault
):
    rasa = FakeRasa()
    port = rasa.server_address[1]
    config = {
        **app_config,
        "KANAL_RASA_URL": rasa.url,
        "KANAL_BOT_TIMEOUT": 0.5,
        "KANAL_BOT_FAILURES": 3,
        "KANAL_BOT_RESET_SECONDS": 0.5,
        "KANAL_BOT_CONCURRENCY": 4,
    }
    app = create_app(config)  # the real bot client, as deployed
    kanal = kanal_of(app)
    client = app.test_client()
    sent: list[tuple[str, str]] = []
    try:
        sessions = [start(client) for _ in range(CITIZENS)]
        before = all_say(app, sessions, "When is my pension paid?")
        assert [a["state"] for a, _ in before] == ["bot"] * CITIZENS
        assert all(a["messages"][-1]["text"] == BOT_TEXT for a, _ in before)
        sent += [(s[0], f"When is my pension paid? ({i})") for i, s in enumerate(sessions)]

        if fault == "stopped":
            rasa.stop()
        else:
            rasa.mode = {"hung": "hang", "empty": "empty"}[fault]
        during = all_say(app, sessions, "And the child benefit?")
        sent += [(s[0], f"And the child benefit? ({i})") for i, s in enumerate(sessions)]
        # Hung, Rasa has not answered any of these yet: the citizens did not wait for it.
        assert [a["state"] for a, _ in during] == ["queued"] * CITIZENS
        if fault == "hung":
            # A timeout is an outage once Rasa has answered nothing for 4 budgets (2 s):
            # until then it may be slow. Newcomers write after that.
            time.sleep(kanal.bot.down_after)
            late = [start(client) for _ in range(4)]
            answers = [say(app, s, f"Hello? ({i})") for i, s in enumerate(late)]
            sent += [(s[0], f"Hello? ({i})") for i, s in enumerate(late)]
            assert [a["state"] for a, _ in answers] == ["queued"] * 4
        bot_state = client.get("/readyz").get_json()["checks"]["bot"]
        if fault == "empty":
            assert bot_state["circuit"] == "closed", "an empty answer is not an outage"
        else:
            assert bot_state["state"] == "circuit-open"

        if fault == "stopped":
            rasa = FakeRasa(port)
        rasa.release.set()
        rasa.mode = "ok"
        wait_for(lambda: kanal.bot.breaker.closed, 10, "the circuit to close by itself")
        newcomers = [start(client) for _ in range(2)]
        after = [
            say(app, s, f"When is my pension paid? (new {i})") for i, s in enumerate(newcomers)
        ]
        sent += [(s[0], f"When is my pension paid? (new {i})") for i, s in enumerate(newcomers)]
        assert [a["state"] for a, _ in after] == ["bot", "bot"]

        tally = Tally(f"bot {fault}")
        with kanal.uow() as uow:
            for session_id, text in sent:
                tally.expected.add((session_id, text))
                contact = kanal.views.contact_on("webchat", session_id)
                messages = uow.messages.for_contact(contact.id)
                for n, message in enumerate(messages):
                    if message.direction == "in" and message.text == text:
                        tally.copies[(session_id, text)] += 1
                        assert any(m.direction == "out" for m in messages[n + 1 :]), "answered"
    finally:
        rasa.stop()
        kanal.close()
    waits = [w for _, w in during]
    circuit = "stayed closed" if fault == "empty" else "opened, then closed by itself"
    tally.check(
        f"{CITIZENS} citizens sent to people, longest wait {max(waits):.2f} s "
        f"(bot budget 0.5 s); the circuit {circuit}"
    )
