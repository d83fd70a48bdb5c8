"""A Danish citizen, end to end with the real Rasa bot: by chat and by SMS, "hvornår bliver min
pension udbetalt" gets the Danish answer with the Danish digital route, and kanal's own texts
in Danish; an English writer still gets English.

The Danish answers come from the bot's Danish training data and the Danish texts of
bots/rasa/digital_routes.yml; this test reads the expected answer from that file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from router import create_app
from router.domain.segments import count_segments
from router.entrypoints.bootstrap import kanal_of
from tests.integration import sms_support
from tests.integration.sms_support import new_number, wait_for

pytestmark = pytest.mark.rasa

ROUTES = Path(__file__).resolve().parents[2] / "bots" / "rasa" / "digital_routes.yml"
DANISH_QUESTION = "hvornår bliver min pension udbetalt"

live = sms_support.live  # the running kanal these tests text


def in_language(value, language: str) -> str:
    """A routes-file value: one string for every language, or a mapping by language."""
    if isinstance(value, dict):
        assert language in value, f"digital_routes.yml has no {language!r} text: {value}"
        return value[language]
    return value


def route_answer(need: str, benefit: str | None, language: str) -> tuple[str, str]:
    """Return (url, answer) the routes file gives for a need (and benefit) in a language."""
    route = yaml.safe_load(ROUTES.read_text(encoding="utf-8"))["routes"][need]
    route = (route.get("benefits") or {}).get(benefit, route) if benefit else route
    url = in_language(route["url"], language)
    return url, in_language(route["text"], language).format(url=url)


def _bot_speaks_danish() -> bool:
    route = yaml.safe_load(ROUTES.read_text(encoding="utf-8"))["routes"]["payment_date"]
    return isinstance(route.get("text"), dict) and "da" in route["text"]


# Until the bot's Danish (training data and route texts) is merged, only the English test runs.
needs_danish_bot = pytest.mark.skipif(
    not _bot_speaks_danish(), reason="bots/rasa/digital_routes.yml has no Danish texts yet"
)


@pytest.fixture
def bot():
    """No stand-in: create_app builds the real Rasa client from KANAL_RASA_URL."""
    return None


@pytest.fixture
def app_config(app_config, rasa_url):
    # The agency's production languages, Danish first; a generous timeout on a busy machine.
    return {
        **app_config,
        "KANAL_RASA_URL": rasa_url,
        "KANAL_BOT_TIMEOUT": 10.0,
        "KANAL_LANGUAGES": "da,en",
    }


@pytest.fixture
def chat_app(app_config):
    app = create_app(app_config)
    yield app
    kanal_of(app).close()


def chat(client):
    data = client.post("/api/v1/chat/sessions").get_json()
    sid, auth = data["session_id"], {"Authorization": f"Bearer {data['token']}"}

    def say(text):
        response = client.post(
            f"/api/v1/chat/sessions/{sid}/messages", json={"text": text}, headers=auth
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return say


@needs_danish_bot
def test_a_danish_chat_gets_the_danish_answer_route_and_kanal_texts(chat_app):
    say = chat(chat_app.test_client())
    url, answer = route_answer("payment_date", "pension", "da")
    body = say(DANISH_QUESTION)
    assert body["language"] == "da"
    bot_text = " ".join(m["text"] for m in body["messages"] if m["author"] == "bot")
    assert answer in bot_text
    assert url in bot_text
    handed = say("jeg vil gerne tale med en medarbejder")
    assert handed["state"] == "queued"
    assert "Jeg sender dig videre til en medarbejder" in handed["messages"][-1]["text"]


def test_an_english_chat_still_gets_english(chat_app):
    say = chat(chat_app.test_client())
    _url, answer = route_answer("payment_date", "pension", "en")
    body = say("when will my pension be paid")
    assert body["language"] == "en"
    bot_text = " ".join(m["text"] for m in body["messages"] if m["author"] == "bot")
    assert answer in bot_text


@needs_danish_bot
def test_a_danish_sms_gets_the_danish_answer_in_gsm7(live):
    number = new_number()
    url, answer = route_answer("payment_date", "pension", "da")
    live.text(number, DANISH_QUESTION)
    replies = wait_for(lambda: live.outbox(number), timeout=20, what="the bot's answer")
    assert answer in replies[0]["body"]
    assert url in replies[0]["body"]
    # The outbox shows the message as Twilio took it; kanal files its segments just after.
    [sent] = wait_for(
        lambda: [m for m in live.messages(number, "out") if m.author == "bot" and m.segments],
        timeout=10,
        what="the answer's segments filed",
    )
    counted = count_segments(sent.text)
    assert counted.encoding == "GSM-7"  # æ ø å are GSM-7: Danish costs no more than English
    assert sent.segments == counted.segments
