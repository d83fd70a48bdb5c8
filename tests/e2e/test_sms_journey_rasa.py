"""The SMS journey with the real Rasa server, through Twilio's signed webhooks and the sandbox."""

import pytest
import requests

from tests.integration import sms_support
from tests.integration.sms_support import new_number, wait_for

pytestmark = pytest.mark.rasa

live = sms_support.live  # the running kanal these tests text


@pytest.fixture
def bot():
    """No stand-in: create_app builds the real Rasa client from KANAL_RASA_URL."""
    return None


@pytest.fixture
def app_config(app_config, rasa_url):
    """Use the session's real Rasa server instead of the scripted bot."""
    # A generous bot timeout: on a busy test machine a slow turn must not read as a bot failure.
    config = {**app_config, "KANAL_RASA_URL": rasa_url, "KANAL_BOT_TIMEOUT": 10.0}
    return config


def test_payment_question_then_person_then_agent_answer_delivered(live, staff):
    number = new_number()
    agent = staff("sms-agent")

    live.text(number, "when is my payment")
    first = wait_for(lambda: live.outbox(number), timeout=20, what="the bot's answer")
    assert "http" in first[0]["body"], "the bot's answer names the digital route"

    live.text(number, "I want to talk to a person")
    wait_for(
        lambda: live.kanal.views.contact_on("sms", number).state == "queued",
        timeout=20,
        what="the conversation in the queue",
    )
    contact = live.kanal.views.contact_on("sms", number)

    desk = requests.Session()
    desk.post(live.base_url + "/login", data={"username": agent, "password": "correct horse"})
    assert desk.post(live.base_url + "/desk/claim").url.endswith(f"/desk/contacts/{contact.id}")
    answer = "Hello, this is Maria. Your payment goes out on the last banking day."
    desk.post(live.base_url + f"/desk/contacts/{contact.id}/reply", data={"text": answer})

    def delivered():
        rows = [r for r in live.outbox(number) if r["body"] == answer]
        return rows and rows[0]["status"] == "delivered"

    wait_for(delivered, timeout=20, what="the agent's answer delivered at the sandbox")

    def recorded():
        mine = [m for m in live.messages(number, "out") if m.author == "agent"]
        return mine and mine[0].delivery_status == "delivered"

    # The sandbox marks its own row first, then calls kanal back.
    wait_for(recorded, timeout=20, what="kanal to record the delivery")
