"""The stream process (`kanal streams`): live chat and desk streams fed by LISTEN/NOTIFY on
PostgreSQL and by one shared poller on SQLite, never by a poll per open stream."""

from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import event

from router.domain.commands import AgentReply, ClaimNext
from router.entrypoints.auth import create_user
from router.entrypoints.live_tokens import desk_token
from tests.conftest import SECRET
from tests.live_streams import StreamServer, open_stream

pytestmark = pytest.mark.integration


@pytest.fixture
def streams(kanal):
    with StreamServer(kanal) as server:
        yield server


def chat(client, text: str | None = "talk to a person"):
    data = client.post("/api/v1/chat/sessions", json={}).get_json()
    sid, token = data["session_id"], data["token"]
    if text:
        response = client.post(
            f"/api/v1/chat/sessions/{sid}/messages",
            json={"text": text},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
    return sid, token


def write(client, sid: str, token: str, text: str) -> None:
    response = client.post(
        f"/api/v1/chat/sessions/{sid}/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200


def agent(kanal, name="agent1", role="agent") -> int:
    return create_user(kanal.uow, name, "correct horse", role).id


def test_the_chat_stream_shows_the_agents_reply(client, kanal, streams):
    sid, token = chat(client)
    events = open_stream(f"{streams.url}/api/v1/chat/sessions/{sid}/stream", token)
    try:
        assert events.until(lambda e: e["event"] == "state")["data"]["state"] == "queued"
        me = agent(kanal)
        contact_id = kanal.desk.claim_next(ClaimNext(agent_id=me)).contact_id
        assert events.until(lambda e: e["event"] == "state")["data"]["state"] == "assigned"
        kanal.desk.reply(AgentReply(agent_id=me, contact_id=contact_id, text="Hello, I am Agnes."))
        reply = events.until(lambda e: e["event"] == "message")
        assert reply["data"]["author"] == "agent"
        assert reply["data"]["text"] == "Hello, I am Agnes."
        assert reply["id"] == reply["data"]["id"]
    finally:
        events.close()


def test_the_desk_streams_tell_of_new_messages_and_of_the_queue(client, kanal, streams):
    me = agent(kanal)
    token = desk_token(SECRET, me)
    queue = open_stream(f"{streams.url}/desk/live/queue", token)
    try:
        assert queue.next()["event"] == "queue"  # at once: whatever changed since the page
        sid, chat_token = chat(client)
        assert queue.next()["event"] == "queue"  # a citizen started waiting
    finally:
        queue.close()
    contact_id = kanal.desk.claim_next(ClaimNext(agent_id=me)).contact_id
    shown = kanal.views.messages(contact_id)[-1].id
    page = open_stream(f"{streams.url}/desk/live/contacts/{contact_id}", token, after=shown)
    try:
        assert page.next()["data"] == {"state": "assigned"}
        write(client, sid, chat_token, "My housing benefit did not come")
        new = page.until(lambda e: e["event"] == "message")
        assert new["id"] > shown and new["data"] == {"id": new["id"], "author": "citizen"}
        text = kanal.views.messages(contact_id, shown)[0].text
        assert text == "My housing benefit did not come"  # the page reads it from the web
    finally:
        page.close()
    assert "live" in [e.action for e in kanal_audit(kanal) if e.contact_id == contact_id]


def kanal_audit(kanal):
    with kanal.uow() as uow:
        return uow.audit.between(None, None)


def test_a_stream_reopened_with_last_event_id_starts_after_it(client, kanal, streams):
    sid, token = chat(client)
    write(client, sid, token, "first after the greeting")
    url = f"{streams.url}/api/v1/chat/sessions/{sid}/stream"
    everything = open_stream(url, token)
    seen = [everything.next() for _ in range(3)]
    everything.close()
    assert [e["event"] for e in seen] == ["message"] * 3
    again = open_stream(url, token, after=seen[1]["id"])
    try:
        assert again.next()["id"] == seen[2]["id"]
        assert again.next()["event"] == "state"
    finally:
        again.close()
    by_query = requests.get(
        f"{url}?after={seen[2]['id']}",
        headers={"Authorization": f"Bearer {token}"},
        stream=True,
        timeout=(5, 20),
    )
    from tests.live_streams import Events

    first = Events(by_query)
    try:
        assert first.next()["event"] == "state"  # nothing after the newest message
    finally:
        first.close()


def refused(url: str, token: str | None, **headers) -> requests.Response:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(url, headers=headers, timeout=10)


def test_streams_refuse_whoever_may_not_see_them(client, kanal, streams):
    sid, token = chat(client)
    other_sid, other_token = chat(client)
    chat_url = f"{streams.url}/api/v1/chat/sessions/{sid}/stream"
    assert refused(chat_url, None).status_code == 401
    assert refused(chat_url, other_token).status_code == 401  # another session's token
    missing = refused(f"{streams.url}/api/v1/chat/sessions/s_nobody/stream", token)
    assert missing.status_code == 404 and "No such chat session" in missing.json()["error"]
    assert refused(chat_url, token, **{"Last-Event-ID": "x"}).status_code == 400

    me = agent(kanal)
    manager = agent(kanal, "manager1", "manager")
    queued = kanal.views.contact_on("webchat", sid).id
    bot_only_sid, _ = chat(client, "when is my pension paid")
    bot_only = kanal.views.contact_on("webchat", bot_only_sid).id
    desk = f"{streams.url}/desk/live"
    assert refused(f"{desk}/queue", None).status_code == 401
    assert refused(f"{desk}/queue", desk_token("not the secret", me)).status_code == 401
    assert refused(f"{desk}/queue", desk_token(SECRET, manager)).status_code == 403
    assert refused(f"{desk}/contacts/{queued}", desk_token(SECRET, manager)).status_code == 403
    assert refused(f"{desk}/contacts/{bot_only}", desk_token(SECRET, me)).status_code == 403
    assert refused(f"{desk}/contacts/999999", desk_token(SECRET, me)).status_code == 404
    refusals = [e for e in kanal_audit(kanal) if e.action == "live" and not e.allowed]
    assert {e.contact_id for e in refusals} >= {queued, bot_only}


def statements_while_quiet(kanal, seconds: float = 1.0) -> int:
    count = 0

    def counted(*args) -> None:
        nonlocal count
        count += 1

    engines = {id(e): e for e in (kanal.engine, kanal.read_engine)}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", counted)
    time.sleep(seconds)
    for engine in engines:
        event.remove(engine, "before_cursor_execute", counted)
    return count


def test_open_streams_do_not_each_poll_the_database(client, kanal, monkeypatch):
    from router.entrypoints.streams import app

    monkeypatch.setattr(app, "KEEPALIVE_SECONDS", 0.1)  # ten keep-alives a second, no reads
    with StreamServer(kanal, poll_seconds=0.25) as streams:
        _quiet_with_one_and_six_streams(client, kanal, streams)


def _quiet_with_one_and_six_streams(client, kanal, streams):
    sessions = [chat(client) for _ in range(6)]
    first = [
        open_stream(f"{streams.url}/api/v1/chat/sessions/{s}/stream", t) for s, t in sessions[:1]
    ]
    first[0].until(lambda e: e["event"] == "state")
    with_one = statements_while_quiet(kanal)
    rest = [
        open_stream(f"{streams.url}/api/v1/chat/sessions/{s}/stream", t) for s, t in sessions[1:]
    ]
    for events in rest:
        events.until(lambda e: e["event"] == "state")
    with_six = statements_while_quiet(kanal)
    for events in first + rest:
        events.close()
    # SQLite: the one shared poller's reads (about 4 a second, whatever the number of
    # streams; a poll per stream would add 5 or more); PostgreSQL: none (LISTEN).
    assert with_six <= with_one + 3, (with_one, with_six)
    if kanal.engine.dialect.name == "postgresql":
        assert with_six == 0


class Clock:
    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.now = datetime.now(UTC)

    def __call__(self):
        return self.now

    def later(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


def left_chats(kanal, clock):
    from datetime import timedelta

    from router.service.left_chats import LeftChats

    return LeftChats(kanal.uow, clock, channel="webchat", after=timedelta(seconds=120))


def test_a_waiting_chat_whose_citizen_left_is_abandoned_and_comes_back_when_they_write(
    client, kanal
):
    from router.domain import events as ev

    sid, token = chat(client)
    contact = kanal.views.contact_on("webchat", sid)
    waiting_since = kanal.views.queue()[0].enqueued_at
    clock = Clock()
    sweep = left_chats(kanal, clock)
    clock.later(60)
    assert sweep.sweep() == 0  # a minute: still there
    clock.later(90)
    assert sweep.sweep() == 1
    assert kanal.views.contact(contact.id).state == "closed"
    assert kanal.views.queue() == []
    with kanal.uow() as uow:
        closed = [e for e in uow.events.for_contact(contact.id) if e.type == ev.CLOSED]
    assert closed[-1].data["why"] == "abandoned"
    assert closed[-1].data["state_before"] == "queued"  # analytics' "left while queued"

    write(client, sid, token, "Sorry, I am back")
    assert kanal.views.contact(contact.id).state == "queued"
    back = kanal.views.queue()
    assert [e.contact_id for e in back] == [contact.id]
    assert back[0].enqueued_at == waiting_since  # in the place it had
    texts = [m.text for m in kanal.views.messages(contact.id)]
    assert texts[-1] == "Sorry, I am back"


def test_a_citizen_with_the_chat_stream_open_is_not_abandoned_and_a_stream_brings_one_back(
    client, kanal, streams
):
    from router.entrypoints.streams.app import HUB

    here_sid, here_token = chat(client)
    gone_sid, gone_token = chat(client)
    events = open_stream(f"{streams.url}/api/v1/chat/sessions/{here_sid}/stream", here_token)
    events.until(lambda e: e["event"] == "state")
    clock = Clock()
    sweep = left_chats(kanal, clock)
    clock.later(100)
    sweep.present(streams.app[HUB].citizens_here())  # the stream process's heartbeat
    events.close()
    clock.later(100)
    assert sweep.sweep() == 1
    here = kanal.views.contact_on("webchat", here_sid)
    gone = kanal.views.contact_on("webchat", gone_sid)
    assert (here.state, gone.state) == ("queued", "closed")

    back = open_stream(f"{streams.url}/api/v1/chat/sessions/{gone_sid}/stream", gone_token)
    try:
        assert back.until(lambda e: e["event"] == "state")["data"]["state"] == "queued"
    finally:
        back.close()
