"""A citizen's whole SMS journey: bot, a request for a person, an agent's answer, delivered."""

import requests

from tests.integration import sms_support
from tests.integration.sms_support import new_number, wait_for

live = sms_support.live  # the running kanal these tests text


def test_sms_to_bot_to_person_to_agent_reply_delivered(live, bot, staff, add_citizen):
    number = new_number()
    add_citizen(phone=number, birth_year=1980)
    agent = staff("sms-agent")

    # 1. The citizen asks; the bot answers by SMS.
    assert live.text(number, "When is my payment?").status_code == 200
    first = wait_for(lambda: live.outbox(number), what="the bot's answer")
    assert "payment_date" in first[0]["body"]

    # 2. They ask for a person: the conversation joins the desk queue.
    live.text(number, "Can I talk to a person please")
    wait_for(lambda: len(live.outbox(number)) == 2, what="the handoff notice")
    assert "passing you to a person" in live.outbox(number)[1]["body"]
    contact = live.kanal.views.contact_on("sms", number)
    assert contact.state == "queued"

    # 3. An agent signs in at the desk, takes it and answers.
    desk = requests.Session()
    login = desk.post(
        live.base_url + "/login", data={"username": agent, "password": "correct horse"}
    )
    assert login.status_code == 200
    taken = desk.post(live.base_url + "/desk/claim")
    assert taken.url.endswith(f"/desk/contacts/{contact.id}")
    answer = "Hello, this is Maria. Your payment goes out on the last banking day."
    desk.post(live.base_url + f"/desk/contacts/{contact.id}/reply", data={"text": answer})

    # 4. The answer reaches the citizen's phone and is reported delivered, in both stores.
    def delivered_in_sandbox():
        rows = [r for r in live.outbox(number) if r["body"] == answer]
        return rows and rows[0]["status"] == "delivered"

    wait_for(delivered_in_sandbox, what="the agent's answer delivered at the sandbox")

    def delivered_at_desk():
        view = desk.get(live.base_url + f"/desk/contacts/{contact.id}/messages.json").json()
        mine = [m for m in view["messages"] if m["text"] == answer]
        return mine and mine[0]["delivery_status"] == "delivered"

    wait_for(delivered_at_desk, what="the desk to show the answer delivered")
    agent_message = [m for m in live.messages(number, "out") if m.author == "agent"][0]
    assert agent_message.segments == 1
    assert (
        agent_message.provider_id
        == [r for r in live.outbox(number) if r["body"] == answer][0]["sid"]
    )
    # Asking for a person skipped the bot, and it stays out while the agent has the conversation.
    live.text(number, "Thank you!")
    live.settle()
    assert [text for _, text in bot.turns] == ["When is my payment?"]
    view = desk.get(live.base_url + f"/desk/contacts/{contact.id}/messages.json").json()
    assert view["messages"][-1]["text"] == "Thank you!"
