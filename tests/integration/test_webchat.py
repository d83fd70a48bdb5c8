"""The web-chat journey through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from channels.webchat_session import identity_token
from router import create_app
from router.domain.commands import AgentReply, ClaimNext
from router.entrypoints.bootstrap import kanal_of
from tests.conftest import SECRET


def start(client, **body):
    response = client.post("/api/v1/chat/sessions", json=body or None)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    return data["session_id"], {"Authorization": f"Bearer {data['token']}"}


def say(client, session_id, headers, text, **extra):
    return client.post(
        f"/api/v1/chat/sessions/{session_id}/messages",
        json={"text": text, **extra},
        headers=headers,
    )


def test_a_question_gets_the_bot_answer_naming_the_digital_route(client):
    sid, auth = start(client)
    response = say(client, sid, auth, "When will my pension be paid?")
    assert response.status_code == 200
    body = response.get_json()
    assert body["state"] == "bot"
    authors = [m["author"] for m in body["messages"]]
    assert authors == ["citizen", "bot"]
    assert "https://example.org/payment_date" in body["messages"][1]["text"]
    assert {"id", "author", "text", "at"} <= set(body["messages"][1])


def test_asking_for_a_person_puts_the_chat_in_the_queue_with_the_reason_recorded(client, kanal):
    sid, auth = start(client)
    body = say(client, sid, auth, "I want to talk to a person").get_json()
    assert body["state"] == "queued"
    assert "won't need to repeat" in body["messages"][-1]["text"]
    contact = kanal.views.contact_on("webchat", sid)
    with kanal.uow() as uow:
        decisions = uow.decisions.for_contact(contact.id)
        items = uow.queue.waiting()
        kinds = [e.type for e in uow.events.for_contact(contact.id)]
    assert decisions[-1].action == "assisted"
    assert decisions[-1].reason
    assert [i.contact_id for i in items] == [contact.id]
    assert kinds[:2] == ["contact_opened", "message_received"]
    assert "handed_off" in kinds and "queued" in kinds


def test_an_exempt_citizen_goes_to_a_person_on_the_first_message(client, kanal, add_citizen):
    pseudonym = add_citizen(exempt_ground="impairment")
    sid, auth = start(client, identity=identity_token(SECRET, pseudonym))
    body = say(client, sid, auth, "When is my pension paid?").get_json()
    assert body["state"] == "queued"
    contact = kanal.views.contact_on("webchat", sid)
    with kanal.uow() as uow:
        decision = uow.decisions.for_contact(contact.id)[-1]
        item = uow.queue.open_for_contact(contact.id)
    assert decision.action == "assisted"
    assert "impairment" in decision.reason.lower() or "exempt" in decision.reason.lower()
    assert decision.inputs["exemptions"] == ["impairment"]
    assert item.priority > 0
    assert kanal.bot.turns == [], "an exempt citizen's words must not be sent to the bot"


def test_a_forged_identity_is_refused(client, add_citizen):
    pseudonym = add_citizen()
    response = client.post("/api/v1/chat/sessions", json={"identity": pseudonym + ".forged"})
    assert response.status_code == 400
    assert "signed" in response.get_json()["error"]


def test_when_the_bot_is_down_the_citizen_reaches_a_person(client, bot):
    bot.down = True
    sid, auth = start(client)
    body = say(client, sid, auth, "When will my pension be paid?").get_json()
    assert body["state"] == "queued"


def test_two_failed_bot_turns_reach_a_person(client):
    sid, auth = start(client)
    first = say(client, sid, auth, "blorp fnord").get_json()
    assert first["state"] == "bot"
    second = say(client, sid, auth, "qwzx vvv").get_json()
    assert second["state"] == "queued"


def test_the_agent_answer_reaches_the_citizen(client, kanal, staff):
    staff("agent1")
    with kanal.uow() as uow:
        agent_id = uow.users.by_username("agent1").id
    sid, auth = start(client)
    said = say(client, sid, auth, "I want a human please").get_json()
    last_seen = said["messages"][-1]["id"]
    claimed = kanal.desk.claim_next(ClaimNext(agent_id=agent_id))
    assert claimed is not None
    kanal.desk.reply(
        AgentReply(agent_id=agent_id, contact_id=claimed.contact_id, text="Hello, Mette here.")
    )
    response = client.get(f"/api/v1/chat/sessions/{sid}/messages?after={last_seen}", headers=auth)
    body = response.get_json()
    assert body["state"] == "assigned"
    assert [(m["author"], m["text"]) for m in body["messages"]] == [("agent", "Hello, Mette here.")]


def test_a_message_sent_twice_with_the_same_client_id_is_stored_once(client, kanal):
    sid, auth = start(client)
    say(client, sid, auth, "When will my pension be paid?", client_id="m1")
    again = say(client, sid, auth, "When will my pension be paid?", client_id="m1")
    assert again.status_code == 200
    everything = client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=auth).get_json()
    assert [m["author"] for m in everything["messages"]] == ["citizen", "bot"]


@pytest.mark.parametrize(
    ("headers", "sid_ok", "body", "status", "words"),
    [
        ({"Authorization": "Bearer wrong"}, True, {"text": "hi"}, 401, "token"),
        ({}, True, {"text": "hi"}, 401, "token"),
        (None, False, {"text": "hi"}, 404, "No such chat session"),
        # The session is checked before the body: a stranger learns nothing of its faults.
        ({"Authorization": "Bearer wrong"}, True, {"text": "   "}, 401, "token"),
        (None, False, {"words": "hi"}, 404, "No such chat session"),
        (None, True, {"text": "   "}, 400, "empty"),
        (None, True, {"text": "x" * 2001}, 400, "2000"),
        (None, True, {"words": "hi"}, 400, "text"),
        (None, True, ["hi"], 400, "text"),
    ],
)
def test_bad_requests_get_a_clear_json_error(client, headers, sid_ok, body, status, words):
    sid, auth = start(client)
    url_sid = sid if sid_ok else "s_nosuchsession"
    response = client.post(
        f"/api/v1/chat/sessions/{url_sid}/messages",
        json=body,
        headers=auth if headers is None else headers,
    )
    assert response.status_code == status
    assert words in response.get_json()["error"]


def test_another_sessions_token_is_refused_and_nothing_is_stored(client):
    sid, auth = start(client)
    _other, other_auth = start(client)
    refused = say(client, sid, other_auth, "When will my pension be paid?")
    assert refused.status_code == 401
    assert "token" in refused.get_json()["error"]
    mine = client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=auth).get_json()
    assert mine["messages"] == []
    said = say(client, sid, auth, "When will my pension be paid?").get_json()
    assert [m["author"] for m in said["messages"]] == ["citizen", "bot"]


def test_another_sessions_token_is_refused_while_the_sessions_turn_holds_its_lock(app, kanal):
    # A turn of the session holds its contact for update (on SQLite, the write lock) while
    # the bot answers; a request with the wrong token is refused at once on a read.
    client = app.test_client()
    sid, auth = start(client)
    _other, other_auth = start(client)
    answers = []

    def post_with_the_wrong_token():
        answers.append(say(app.test_client(), sid, other_auth, "let me in").status_code)

    with kanal.uow() as uow:
        uow.contacts.latest_on("webchat", sid, for_update=True)  # the turn's lock, held
        poster = threading.Thread(target=post_with_the_wrong_token)
        poster.start()
        poster.join(timeout=10)  # liveness, not speed: before, it waited for the commit
        refused_while_held = list(answers)
    poster.join()
    assert refused_while_held == [401]
    mine = client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=auth).get_json()
    assert mine["messages"] == []


def test_a_body_over_64_kb_is_refused_with_413(client):
    sid, auth = start(client)
    response = client.post(
        f"/api/v1/chat/sessions/{sid}/messages",
        data='{"text": "' + "x" * 70_000 + '"}',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "64 KB" in response.get_json()["error"]


def test_the_stream_pushes_new_messages(client, kanal, staff):
    staff("agent1")
    sid, auth = start(client)
    say(client, sid, auth, "talk to a person")
    response = client.get(f"/api/v1/chat/sessions/{sid}/stream", headers=auth, buffered=False)
    assert response.mimetype == "text/event-stream"
    chunks = []
    for chunk in response.response:
        chunks.append(chunk if isinstance(chunk, str) else chunk.decode())
        if "event: state" in "".join(chunks):
            break
    response.close()
    text = "".join(chunks)
    assert "event: message" in text and "talk to a person" in text
    assert '"state": "queued"' in text


def test_streams_over_the_cap_get_503_so_the_widget_polls(app_config, bot):
    app = create_app({**app_config, "KANAL_MAX_STREAMS": 1}, bot=bot)
    client = app.test_client()
    sid, auth = start(client)
    say(client, sid, auth, "talk to a person")
    first = client.get(f"/api/v1/chat/sessions/{sid}/stream", headers=auth, buffered=False)
    assert first.status_code == 200
    second = client.get(f"/api/v1/chat/sessions/{sid}/stream", headers=auth, buffered=False)
    assert second.status_code == 503
    assert "poll" in second.get_json()["error"]
    first.close()  # the slot is given back when the citizen leaves
    third = client.get(f"/api/v1/chat/sessions/{sid}/stream", headers=auth, buffered=False)
    assert third.status_code == 200
    third.close()
    kanal_of(app).close()


def test_racing_deliveries_of_one_message_store_it_once(kanal):
    from concurrent.futures import ThreadPoolExecutor

    from router.domain.commands import ReceiveMessage, StartChat

    contact_id = kanal.turns.start_chat(StartChat(secret_hash="x"), address="s_race")
    command = ReceiveMessage(
        channel="webchat",
        address="s_race",
        text="hello",
        provider_id="s_race:m1",
        contact_id=contact_id,
    )
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: kanal.turns.receive(command), range(16)))
    assert sum(r is not None for r in results) == 1  # one turn; the others were retries
    assert [m.author for m in kanal.views.messages(contact_id)] == ["citizen", "bot"]
