"""Signing out of the desk ends its live token at once, on both databases: the stream
process refuses the token a desk page carried (401) instead of honouring it for twelve
hours, a stream still open on it ends, and the same happens when the agent's desk session
times out (presence); signing in again gives pages a token that works."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests

from router.service.assignments import Assignments
from tests.integration.test_desk import PASSWORD, queued_chat
from tests.live_streams import StreamServer, open_stream

pytestmark = pytest.mark.integration

TOKEN = re.compile(r'data-live-token="([^"]+)"')


@pytest.fixture
def streams(kanal):
    with StreamServer(kanal, keepalive_seconds=0.3) as server:
        yield server


def sign_in(app, username: str = "agent1"):
    desk = app.test_client()
    answer = desk.post("/login", data={"username": username, "password": PASSWORD})
    assert answer.status_code == 302
    return desk


def page_token(desk) -> str:
    """The live token the queue page carries, as desk.js reads it."""
    page = desk.get("/desk/").get_data(as_text=True)
    return TOKEN.search(page).group(1)


def status(url: str, token: str) -> int:
    """The stream's answer to a page opening it with `token` (the stream is closed again)."""
    headers = {"Authorization": f"Bearer {token}"}
    with requests.get(url, headers=headers, stream=True, timeout=10) as answer:
        return answer.status_code


def test_signing_out_ends_the_desk_pages_live_token_at_once(app, client, kanal, staff, streams):
    staff("agent1", "agent")
    contact = queued_chat(client, kanal)
    desk = sign_in(app)
    token = page_token(desk)
    queue = f"{streams.url}/desk/live/queue"
    conversation = f"{streams.url}/desk/live/contacts/{contact}"
    assert status(conversation, token) == 200
    still_open = open_stream(queue, token, timeout=10)
    assert still_open.next()["event"] == "queue"

    assert desk.post("/logout").status_code == 302
    with pytest.raises(EOFError):  # the open stream ends at its next keep-alive
        still_open.until(lambda e: False)
    assert status(queue, token) == 401
    assert status(conversation, token) == 401

    again = sign_in(app)
    fresh = page_token(again)
    assert fresh != token
    assert status(conversation, fresh) == 200
    assert status(queue, token) == 401  # signing in again does not revive the old one


def test_a_desk_session_that_times_out_ends_its_live_token(app, client, kanal, staff, streams):
    staff("agent1", "agent")
    queued_chat(client, kanal)
    desk = sign_in(app)
    assert desk.post("/desk/claim").status_code == 302  # asking for work: available
    token = page_token(desk)
    queue = f"{streams.url}/desk/live/queue"
    assert status(queue, token) == 200

    later = kanal.clock() + timedelta(minutes=10)  # past the 5 minutes of absence
    absent = Assignments(kanal.uow, kanal.settings.routing, lambda: later)
    assert absent.time_out_absent() == 1
    assert status(queue, token) == 401
