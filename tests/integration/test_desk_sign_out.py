"""Signing out of the desk ends what was signed for that session at once, on both databases:
the stream process refuses the token a desk page carried (401) instead of honouring it for
twelve hours, a stream still open on it ends, and a copy of the page session's cookie taken
before the sign-out no longer opens a page (the sign-in page instead) nor the desk API; the
same happens when the agent's desk session times out (presence); signing in again works."""

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


def session_cookie(app, desk) -> str:
    """The page session's cookie as the browser holds it (what an attacker would copy)."""
    return desk.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def browser_with(app, cookie: str):
    """Another browser that replays a copied session cookie."""
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return other


def sent_to_sign_in(answer) -> bool:
    return answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_session_cookie_copied_before_signing_out_is_refused_after_it(app, client, kanal, staff):
    staff("agent1", "agent")
    contact = queued_chat(client, kanal)
    desk = sign_in(app)
    assert desk.post("/desk/claim").status_code == 302  # the agent holds the conversation
    copied = session_cookie(app, desk)
    conversation = f"/desk/contacts/{contact}"
    assert browser_with(app, copied).get(conversation).status_code == 200  # while signed in

    assert desk.post("/logout").status_code == 302
    replayed = browser_with(app, copied)
    assert sent_to_sign_in(replayed.get(conversation))
    assert sent_to_sign_in(replayed.get("/desk/"))
    answer = replayed.post(f"{conversation}/reply", data={"text": "Send me your bank details."})
    assert sent_to_sign_in(answer)
    assert replayed.post("/api/v1/desk/claim").status_code == 401  # the API's session way in
    texts = [m.text for m in kanal.views.messages(contact)]
    assert "Send me your bank details." not in texts

    again = sign_in(app)
    assert again.get(conversation).status_code == 200
    assert sent_to_sign_in(browser_with(app, copied).get(conversation))  # not revived


def test_a_desk_session_that_times_out_ends_its_page_session(app, client, kanal, staff):
    staff("agent1", "agent")
    contact = queued_chat(client, kanal)
    desk = sign_in(app)
    assert desk.post("/desk/claim").status_code == 302
    conversation = f"/desk/contacts/{contact}"
    assert desk.get(conversation).status_code == 200

    later = kanal.clock() + timedelta(minutes=10)  # the job's clock runs ahead of the web's
    absent = Assignments(kanal.uow, kanal.settings.routing, lambda: later)
    assert absent.time_out_absent() == 1
    assert sent_to_sign_in(desk.get(conversation))

    again = sign_in(app)  # at once, although the time-out is stamped ten minutes ahead
    assert again.get(conversation).status_code == 200


def test_a_deactivated_member_of_staff_loses_the_session_they_hold(app, client, kanal, staff):
    staff("agent1", "agent")
    contact = queued_chat(client, kanal)
    desk = sign_in(app)
    assert desk.post("/desk/claim").status_code == 302
    with kanal.uow() as uow:  # kanal has no command for it yet: an administrator's change
        uow.users.by_username("agent1").active = False
        uow.commit()
    assert sent_to_sign_in(desk.get(f"/desk/contacts/{contact}"))
    assert desk.post("/api/v1/desk/claim").status_code == 401


def test_signing_in_after_a_time_out_stamped_ahead_gives_a_live_token_that_works(
    app, client, kanal, staff, streams
):
    staff("agent1", "agent")
    queued_chat(client, kanal)
    desk = sign_in(app)
    assert desk.post("/desk/claim").status_code == 302
    later = kanal.clock() + timedelta(minutes=10)  # the job's clock runs ahead of the web's
    absent = Assignments(kanal.uow, kanal.settings.routing, lambda: later)
    assert absent.time_out_absent() == 1

    again = sign_in(app)  # the page session counts from after the time-out
    assert status(f"{streams.url}/desk/live/queue", page_token(again)) == 200


def test_signing_out_ends_a_session_begun_after_a_time_out_stamped_ahead(app, client, kanal, staff):
    staff("agent1", "agent")
    contact = queued_chat(client, kanal)
    desk = sign_in(app)
    assert desk.post("/desk/claim").status_code == 302
    later = kanal.clock() + timedelta(minutes=10)  # the job's clock runs ahead of the web's
    assert Assignments(kanal.uow, kanal.settings.routing, lambda: later).time_out_absent() == 1

    again = sign_in(app)  # counts from just after the time-out
    conversation = f"/desk/contacts/{contact}"
    assert again.get(conversation).status_code == 200
    copied = session_cookie(app, again)
    assert again.post("/logout").status_code == 302  # on the web's clock, behind the job's
    assert sent_to_sign_in(browser_with(app, copied).get(conversation))
    assert browser_with(app, copied).post("/api/v1/desk/claim").status_code == 401
