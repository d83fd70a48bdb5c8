"""The web-chat journey with the real Rasa server, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from channels.webchat_session import identity_token
from router import create_app
from router.domain.commands import AgentReply, ClaimNext
from router.entrypoints.bootstrap import kanal_of
from tests.conftest import SECRET

pytestmark = pytest.mark.rasa


@pytest.fixture
def app(app_config, rasa_url):
    config = {**app_config, "KANAL_RASA_URL": rasa_url}
    app = create_app(config)  # the real Rasa bot at KANAL_RASA_URL
    yield app
    kanal_of(app).close()


def start(client, **body):
    data = client.post("/api/v1/chat/sessions", json=body or None).get_json()
    return data["session_id"], {"Authorization": f"Bearer {data['token']}"}


def say(client, sid, auth, text):
    response = client.post(
        f"/api/v1/chat/sessions/{sid}/messages", json={"text": text}, headers=auth
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_pension_question_then_person_then_agent_answer(client, kanal, staff):
    staff("agent1")
    with kanal.uow() as uow:
        agent_id = uow.users.by_username("agent1").id
    sid, auth = start(client)

    answer = say(client, sid, auth, "when will my pension be paid")
    assert answer["state"] == "bot"
    bot_text = " ".join(m["text"] for m in answer["messages"] if m["author"] == "bot")
    assert "http" in bot_text, "the bot's answer names the digital route"

    escalated = say(client, sid, auth, "I want to talk to a person")
    assert escalated["state"] == "queued"

    contact = kanal.views.contact_on("webchat", sid)
    with kanal.uow() as uow:
        trail = uow.decisions.for_contact(contact.id)
        events = [e.type for e in uow.events.for_contact(contact.id)]
    assert trail[0].inputs["need"] is None and trail[1].inputs["need"] == "payment_date:pension"
    assert trail[-1].inputs["asked_for_person"] is True
    assert trail[-1].action == "assisted"
    assert "bot_answered" in events and "handed_off" in events

    claimed = kanal.desk.claim_next(ClaimNext(agent_id=agent_id))
    assert claimed.contact_id == contact.id
    kanal.desk.reply(AgentReply(agent_id=agent_id, contact_id=contact.id, text="Paid on the 28th."))
    seen = client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=auth).get_json()
    assert seen["state"] == "assigned"
    assert seen["messages"][-1]["author"] == "agent"
    assert seen["messages"][-1]["text"] == "Paid on the 28th."


def test_exempt_citizen_goes_to_the_queue_with_rule_and_reason(client, kanal, add_citizen):
    pseudonym = add_citizen(exempt_ground="no_computer")
    sid, auth = start(client, identity=identity_token(SECRET, pseudonym))
    answer = say(client, sid, auth, "when will my pension be paid")
    assert answer["state"] == "queued"
    contact = kanal.views.contact_on("webchat", sid)
    with kanal.uow() as uow:
        decision = uow.decisions.for_contact(contact.id)[-1]
    assert decision.profile == "denmark"
    assert decision.rule_id
    assert "no_computer" in decision.reason or "computer" in decision.reason.lower()
