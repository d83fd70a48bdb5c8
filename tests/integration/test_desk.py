"""The agent desk through the browser's requests, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from channels.webchat_session import identity_token
from router import create_app
from router.domain.commands import ReceiveMessage
from router.entrypoints.bootstrap import kanal_of
from tests.conftest import SECRET
from tests.fakes import ScriptedBot

pytestmark = pytest.mark.integration

PASSWORD = "correct horse"


def chat(client, *texts, identity=None):
    """Open a chat session, send the texts and return (session id, auth headers, last body)."""
    body = {"identity": identity} if identity else None
    started = client.post("/api/v1/chat/sessions", json=body).get_json()
    sid, auth = started["session_id"], {"Authorization": f"Bearer {started['token']}"}
    last = None
    for text in texts:
        last = client.post(
            f"/api/v1/chat/sessions/{sid}/messages", json={"text": text}, headers=auth
        ).get_json()
    return sid, auth, last


def queued_chat(client, kanal, *texts, identity=None) -> int:
    """Put a chat in the queue and return its contact id."""
    sid, _auth, last = chat(client, *(texts or ("I want to talk to a person",)), identity=identity)
    assert last["state"] == "queued"
    return kanal.views.contact_on("webchat", sid).id


def sign_in(app, staff, username="agent1", role="agent"):
    """Return a test client signed in through the login form as a new member of staff."""
    staff(username, role)
    desk = app.test_client()
    response = desk.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return desk


def page(response) -> str:
    return response.get_data(as_text=True)


def test_the_desk_sends_a_stranger_to_the_sign_in_page(client):
    response = client.get("/desk/")
    assert response.status_code == 302
    assert "/login" in response.location


def test_a_manager_may_not_use_the_desk(app, staff):
    desk = sign_in(app, staff, "boss", "manager")
    assert desk.get("/desk/").status_code == 403
    assert desk.post("/desk/claim").status_code == 403


def test_the_queue_lists_priority_first_then_oldest_with_the_reason(
    app, client, kanal, staff, add_citizen
):
    first = queued_chat(client, kanal)
    second = queued_chat(client, kanal, "can I speak to a human")
    exempt = queued_chat(
        client,
        kanal,
        "hello",
        identity=identity_token(SECRET, add_citizen(exempt_ground="language")),
    )
    desk = sign_in(app, staff)

    html = page(desk.get("/desk/"))
    rows = re.findall(r'<tr data-contact="(\d+)">', html)
    assert rows == [str(exempt), str(first), str(second)]
    assert "3</strong> contacts waiting" in html
    assert "You asked for a person" in html  # the decision's plain-language reason
    assert "web chat" in html

    data = desk.get("/desk/queue.json").get_json()
    assert [e["contact_id"] for e in data["waiting"]] == [exempt, first, second]
    assert data["waiting"][0]["priority"] > data["waiting"][1]["priority"]
    assert all(e["reason"] and e["rule_id"] for e in data["waiting"])
    assert data["count"] == 3 and data["mine"] == []


def test_take_next_opens_the_longest_waiting_conversation_and_lists_it_as_mine(
    app, client, kanal, staff
):
    first = queued_chat(client, kanal)
    queued_chat(client, kanal)
    desk = sign_in(app, staff)

    response = desk.post("/desk/claim")
    assert response.status_code == 302
    assert response.location.endswith(f"/desk/contacts/{first}")
    html = page(desk.get(response.location))
    assert "with a person" in html
    assert "Send reply" in html

    data = desk.get("/desk/queue.json").get_json()
    assert [e["contact_id"] for e in data["mine"]] == [first]
    assert first not in [e["contact_id"] for e in data["waiting"]]


def test_take_next_on_an_empty_queue_says_nobody_is_waiting(app, staff):
    desk = sign_in(app, staff)
    response = desk.post("/desk/claim", follow_redirects=True)
    assert "Nobody is waiting right now." in page(response)


def test_the_conversation_shows_transcript_facts_and_decision_trail(
    app, client, kanal, staff, add_citizen
):
    pseudonym = add_citizen(
        exempt_ground="impairment", birth_year=1940, name="Karen Jensen", language="da"
    )
    contact_id = queued_chat(
        client, kanal, "when is my pension paid", identity=identity_token(SECRET, pseudonym)
    )
    desk = sign_in(app, staff)
    desk.post("/desk/claim")

    html = page(desk.get(f"/desk/contacts/{contact_id}"))
    assert "when is my pension paid" in html
    # Karen is registered as Danish: kanal told her so in Danish, whatever she wrote in.
    assert "Jeg sender dig videre til en medarbejder" in html
    assert pseudonym in html
    assert "Karen Jensen" in html
    assert "80 or over" in html
    assert "cognitive or physical impairment" in html and "with no end date" in html
    assert "Not identified" not in html
    with kanal.uow() as uow:
        decision = uow.decisions.for_contact(contact_id)[-1]
        rule_id, reason = decision.rule_id, decision.reason
    assert rule_id == "exempt-to-person"
    assert "rule “Exempt to person”" in html  # the rule in words, not its id
    assert reason.replace('"', "&#34;") in html


def test_an_anonymous_citizen_is_shown_as_not_identified(app, client, kanal, staff):
    contact_id = queued_chat(client, kanal)
    desk = sign_in(app, staff)
    assert "Not identified" in page(desk.get(f"/desk/contacts/{contact_id}"))


def test_an_agents_reply_reaches_the_citizens_chat(app, client, kanal, staff):
    sid, auth, _ = chat(client, "I want to talk to a person")
    contact_id = kanal.views.contact_on("webchat", sid).id
    desk = sign_in(app, staff)
    desk.post("/desk/claim")

    response = desk.post(
        f"/desk/contacts/{contact_id}/reply", data={"text": "Your pension is paid on the 1st."}
    )
    assert response.status_code == 302
    assert "Reply sent." in page(desk.get(f"/desk/contacts/{contact_id}"))

    seen = client.get(f"/api/v1/chat/sessions/{sid}/messages?after=0", headers=auth).get_json()
    assert seen["state"] == "assigned"
    assert seen["messages"][-1]["author"] == "agent"
    assert seen["messages"][-1]["text"] == "Your pension is paid on the 1st."


def test_a_nul_character_in_a_reply_is_dropped_not_a_server_error(app, client, kanal, staff):
    sid, auth, _ = chat(client, "I want to talk to a person")
    contact_id = kanal.views.contact_on("webchat", sid).id
    desk = sign_in(app, staff)
    desk.post("/desk/claim")
    response = desk.post(f"/desk/contacts/{contact_id}/reply", data={"text": "Paid\x00 today."})
    assert response.status_code == 302
    seen = client.get(f"/api/v1/chat/sessions/{sid}/messages?after=0", headers=auth).get_json()
    assert seen["messages"][-1]["text"] == "Paid today."


def test_new_citizen_messages_reach_the_desk_after_the_cursor(app, client, kanal, staff):
    sid, auth, _ = chat(client, "I want to talk to a person")
    contact_id = kanal.views.contact_on("webchat", sid).id
    desk = sign_in(app, staff)
    desk.post("/desk/claim")
    last = desk.get(f"/desk/contacts/{contact_id}/messages.json").get_json()["messages"][-1]["id"]

    client.post(
        f"/api/v1/chat/sessions/{sid}/messages", json={"text": "are you there?"}, headers=auth
    )

    data = desk.get(f"/desk/contacts/{contact_id}/messages.json?after={last}").get_json()
    assert [(m["author"], m["text"]) for m in data["messages"]] == [("citizen", "are you there?")]
    assert data["state"] == "assigned" and data["state_words"] == "with a person"


def test_a_reply_to_an_opted_out_number_is_not_sent_and_the_agent_is_warned(app, kanal, staff):
    phone = "+4520304050"
    kanal.turns.receive(
        ReceiveMessage(channel="sms", address=phone, text="I want a person", provider_id="SM1")
    )
    contact_id = kanal.views.contact_on("sms", phone).id
    desk = sign_in(app, staff)
    desk.post("/desk/claim")
    kanal.turns.receive(
        ReceiveMessage(channel="sms", address=phone, text="STOP", provider_id="SM2", kind="opt_out")
    )

    response = desk.post(f"/desk/contacts/{contact_id}/reply", data={"text": "We paid it today."})
    html = page(desk.get(response.location))

    assert "Your reply was NOT sent" in html
    assert "This number has opted out of SMS" in html
    blocked = re.search(r'class="msg author-agent blocked".*?</li>', html, re.S)
    assert blocked and "NOT SENT" in blocked.group(0) and "We paid it today." in blocked.group(0)


def test_resolve_closes_the_conversation_with_its_wrap_up(app, client, kanal, staff):
    sid, auth, _ = chat(client, "I want to talk to a person")
    contact_id = kanal.views.contact_on("webchat", sid).id
    desk = sign_in(app, staff)
    desk.post("/desk/claim")

    refused = desk.post(f"/desk/contacts/{contact_id}/resolve", data={"wrap_up": "whatever"})
    assert kanal.views.contact(contact_id).state == "assigned"
    assert "Choose a wrap-up code." in page(desk.get(refused.location))

    no_outcome = desk.post(f"/desk/contacts/{contact_id}/resolve", data={"wrap_up": "answered"})
    assert kanal.views.contact(contact_id).state == "assigned"
    assert "Choose an outcome" in page(desk.get(no_outcome.location))

    response = desk.post(
        f"/desk/contacts/{contact_id}/resolve",
        data={"wrap_up": "digital_route_shown", "outcome": "assisted_digital"},
    )
    assert response.location.endswith("/desk/")
    contact = kanal.views.contact(contact_id)
    assert (contact.state, contact.wrap_up) == ("closed", "digital_route_shown")
    with kanal.uow() as uow:
        resolved = [e.data for e in uow.events.for_contact(contact_id) if e.type == "resolved"]
    assert resolved[-1]["outcome"] == "assisted_digital" and resolved[-1]["completed"] is True
    seen = client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=auth).get_json()
    assert seen["state"] == "closed"
    assert "This contact is closed." in page(desk.get(f"/desk/contacts/{contact_id}"))


def test_an_agent_cannot_answer_a_conversation_another_agent_took(app, client, kanal, staff):
    contact_id = queued_chat(client, kanal)
    first = sign_in(app, staff, "agent1")
    second = sign_in(app, staff, "agent2")
    first.post("/desk/claim")

    html = page(second.get(f"/desk/contacts/{contact_id}"))
    assert "Another agent is handling this contact." in html
    assert "Send reply" not in html
    response = second.post(
        f"/desk/contacts/{contact_id}/reply", data={"text": "Hi"}, follow_redirects=True
    )
    assert "assigned to someone else" in page(response)
    assert [m.author for m in kanal.views.messages(contact_id)].count("agent") == 0


def test_an_empty_or_overlong_reply_is_refused_and_kept(app, client, kanal, staff):
    contact_id = queued_chat(client, kanal)
    desk = sign_in(app, staff)
    desk.post("/desk/claim")

    assert "Write a reply before sending." in page(
        desk.post(f"/desk/contacts/{contact_id}/reply", data={"text": "  "}, follow_redirects=True)
    )
    long = "x" * 2001
    response = desk.post(f"/desk/contacts/{contact_id}/reply", data={"text": long})
    assert response.status_code == 400
    assert "longer than 2000 characters" in page(response) and long in page(response)
    assert [m.author for m in kanal.views.messages(contact_id)].count("agent") == 0


def test_desk_forms_are_refused_without_the_csrf_token(app_config):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True}, bot=ScriptedBot())
    try:
        from router.entrypoints.auth import create_user

        create_user(kanal_of(app).uow, "agent1", PASSWORD, "agent")
        desk = app.test_client()
        login_page = page(desk.get("/login"))
        token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
        signed_in = desk.post(
            "/login", data={"username": "agent1", "password": PASSWORD, "csrf_token": token}
        )
        assert signed_in.status_code == 302
        assert desk.post("/desk/claim").status_code == 400
        queue_page = page(desk.get("/desk/"))
        token = re.search(r'name="csrf_token" value="([^"]+)"', queue_page).group(1)
        assert desk.post("/desk/claim", data={"csrf_token": token}).status_code == 302
    finally:
        kanal_of(app).close()


def test_the_desk_speaks_danish_when_the_agent_chooses_it(app, client, kanal, staff):
    contact_id = queued_chat(client, kanal, "I want to talk to a person")
    desk = sign_in(app, staff)
    assert "Take next" in page(desk.get("/desk/"))

    chosen = desk.post("/desk/language", data={"language": "da", "next": "/desk/"})
    assert chosen.location.endswith("/desk/")
    queue_page = page(desk.get("/desk/"))
    assert '<html lang="da">' in queue_page and "Tag næste" in queue_page
    # The policy's reason in the desk's language, from the rule's own words in the profile.
    assert "Du bad om en medarbejder: en medarbejder tager over." in queue_page
    refreshed = desk.get("/desk/queue.json").get_json()["waiting"][0]
    assert refreshed["reason_words"] == "Du bad om en medarbejder: en medarbejder tager over."
    desk.post("/desk/claim")
    html = page(desk.get(f"/desk/contacts/{contact_id}"))
    assert "Beslutningsspor" in html and "Afslutningskode" in html
    assert "Du bad om en medarbejder: en medarbejder tager over." in html
    assert "Løst digitalt med hjælp (assisteret digital)" in html
    assert "Henvendelse" in html and "Decision trail" not in html

    elsewhere = desk.post(
        "/desk/language", data={"language": "en", "next": "https://evil.example/"}
    )
    assert elsewhere.location.endswith("/desk/")  # back to the desk, never off the site
    assert "Take next" in page(desk.get("/desk/"))


def test_links_in_messages_are_clickable_and_markup_is_not(app, client, kanal, staff):
    contact_id = queued_chat(client, kanal, "I want a person <img src=x onerror=alert(1)>")
    desk = sign_in(app, staff)
    desk.post("/desk/claim")
    desk.post(
        f"/desk/contacts/{contact_id}/reply",
        data={"text": "Apply at https://example.org/apply?x=1&y=2. <script>alert(1)</script>"},
    )
    html = page(desk.get(f"/desk/contacts/{contact_id}"))
    assert (
        '<a href="https://example.org/apply?x=1&amp;y=2" rel="noopener noreferrer nofollow" '
        'target="_blank">https://example.org/apply?x=1&amp;y=2</a>.'
    ) in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
