"""The desk API (issue 15 item 4) on both databases: the same rules as the desk's pages,
authenticated by a desk member's API token."""

from __future__ import annotations

import pytest

from router.entrypoints.auth import create_token, create_user
from tests.integration.test_desk import chat, queued_chat

pytestmark = pytest.mark.integration

ROLES = ("agent", "supervisor", "manager", "admin", "integration")


@pytest.fixture
def token(kanal):
    def make(username, role="agent"):
        create_user(kanal.uow, username, "correct horse", role)
        return {"Authorization": f"Bearer {create_token(kanal.uow, username, username)}"}

    return make


def test_an_agent_claims_answers_transfers_and_another_resolves_through_the_api(
    client, kanal, token, add_citizen
):
    from channels.webchat_session import identity_token
    from tests.conftest import SECRET

    pseudonym = add_citizen(phone="+4512345678", name="Karen Jensen", exempt_ground="homeless")
    sid, auth, _ = chat(client, identity=identity_token(SECRET, pseudonym))
    client.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": "hello"}, headers=auth)
    ann, bo = token("ann"), token("bo")

    claimed = client.post("/api/v1/desk/claim", headers=ann)
    assert claimed.status_code == 200
    body = claimed.get_json()
    contact = body["conversation_id"]
    assert body["channel"] == "webchat" and body["queue"] == "general"
    assert body["citizen"]["pseudonym"] == pseudonym and body["citizen"]["exempt"] is True
    assert "Karen" not in claimed.get_data(as_text=True)  # no name, no phone number
    assert "+4512345678" not in claimed.get_data(as_text=True)
    assert [m["text"] for m in body["transcript"] if m["author"] == "citizen"] == ["hello"]
    assert client.post("/api/v1/desk/claim", headers=bo).status_code == 204

    url = f"/api/v1/desk/conversations/{contact}"
    sent = client.post(f"{url}/messages", json={"text": "Hello, I am Ann."}, headers=ann)
    assert sent.status_code == 201 and sent.get_json()["sent"] is True
    seen = client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=auth).get_json()
    assert "Hello, I am Ann." in [m["text"] for m in seen["messages"]]

    moved = client.post(f"{url}/transfer", json={"agent": "bo", "note": "Over to you"}, headers=ann)
    assert moved.status_code == 200, moved.get_json()
    assert client.post(f"{url}/messages", json={"text": "x"}, headers=ann).status_code == 403
    assert client.post("/api/v1/desk/claim", headers=bo).get_json()["conversation_id"] == contact
    assert kanal.assignments.transfers(contact)[0].note == "Over to you"

    done = client.post(
        f"{url}/resolve", json={"wrap_up": "answered", "outcome": "resolved"}, headers=bo
    )
    assert done.status_code == 200 and done.get_json() == {
        "conversation_id": contact, "state": "closed",
    }  # fmt: skip
    again = client.post(f"{url}/resolve", json={"wrap_up": "answered", "outcome": "resolved"},
                        headers=bo)  # fmt: skip
    assert again.status_code == 409
    with kanal.uow() as uow:
        actions = [(e.username, e.action, e.allowed) for e in uow.audit.between()]
    assert ("ann", "api_claim", True) in actions and ("bo", "api_resolve", True) in actions


def test_presence_through_the_api(client, kanal, token):
    ann = token("ann")
    answer = client.post("/api/v1/desk/presence", json={"status": "away"}, headers=ann)
    assert answer.status_code == 200 and answer.get_json()["status"] == "away"
    assert (
        client.post("/api/v1/desk/presence", json={"status": "busy"}, headers=ann).status_code
        == 200
    )
    answer = client.post("/api/v1/desk/presence", json={"status": "lunch"}, headers=ann)
    assert answer.status_code == 400 and answer.get_json()["field"] == "status"
    client.post("/api/v1/desk/presence", json={"status": "offline"}, headers=ann)
    refused = client.post("/api/v1/desk/presence", json={"status": "busy"}, headers=ann)
    assert refused.status_code == 409


def test_bad_bodies_are_answered_400_saying_what(client, kanal, token):
    contact = queued_chat(client, kanal)
    ann = token("ann")
    client.post("/api/v1/desk/claim", headers=ann)
    url = f"/api/v1/desk/conversations/{contact}"
    cases = [
        ("messages", None, None),
        ("messages", {"text": ""}, "text"),
        ("messages", {"text": "hi", "to": "x"}, "to"),
        ("transfer", {"note": "no target"}, "queue"),
        ("transfer", {"queue": "housing", "agent": "bo"}, "queue"),
        ("resolve", {"wrap_up": "answered"}, "outcome"),
        ("resolve", {"wrap_up": "shrugged", "outcome": "resolved"}, "wrap_up"),
    ]
    for path, body, field in cases:
        answer = client.post(f"{url}/{path}", json=body, headers=ann)
        assert answer.status_code == 400, (path, body)
        assert answer.get_json().get("field") == field, (path, body, answer.get_json())
    assert client.post(f"{url}/transfer", json={"queue": "nowhere"}, headers=ann).status_code == 404


def test_the_api_keeps_the_pages_rules_role_by_role(client, kanal, token):
    """role × desk API route → allowed/refused, and another queue's conversation is 403."""
    contact = queued_chat(client, kanal)
    tokens = {role: token(f"{role}1", role) for role in ROLES}
    allowed = {"agent", "supervisor", "admin"}
    for role, headers in tokens.items():
        answer = client.post("/api/v1/desk/presence", json={"status": "away"}, headers=headers)
        assert (answer.status_code == 200) == (role in allowed), (role, answer.status_code)
        url = f"/api/v1/desk/conversations/{contact}/messages"
        answer = client.post(url, json={"text": "hi"}, headers=headers)
        # Nobody holds it: the rule lets the desk roles see it, the desk refuses a reply.
        assert answer.status_code == 403, (role, answer.status_code)
        answer = client.post(f"/api/v1/desk/conversations/{contact}/call-back", headers=headers)
        # Roles outside the desk are refused; the desk's own roles may not call back what
        # they have not taken.
        expected = 409 if role in allowed else 403
        assert answer.status_code == expected, (role, answer.status_code)
    assert client.post("/api/v1/desk/claim").status_code == 401
    housing = token("bo")
    with kanal.uow() as uow:
        bo = uow.users.by_username("bo").id
    kanal.assignments.set_profile(bo, skills=["housing"])
    url = f"/api/v1/desk/conversations/{contact}/resolve"
    answer = client.post(url, json={"wrap_up": "answered", "outcome": "resolved"}, headers=housing)
    assert answer.status_code == 403
    assert client.post("/api/v1/desk/claim", headers=housing).status_code == 204
    with kanal.uow() as uow:
        refused = [(e.username, e.reason) for e in uow.audit.between() if not e.allowed]
    assert ("bo", "another queue's conversation") in refused
    assert ("manager1", "the role sees statistics, not conversations") not in refused  # 403 first


def test_an_agent_who_takes_a_contact_waiting_for_its_callback_calls_back_through_the_api(
    client, kanal, token, add_citizen
):
    """In a surge a chat is booked a callback; the agent who takes it calls the citizen back
    (the desk's Call back now): the citizen's phone rings, the callback is being made."""
    from datetime import UTC, datetime, timedelta

    from channels.webchat_session import identity_token
    from router.service.surges import SurgeWatch
    from tests.conftest import SECRET
    from tests.fakes import RecordingCaller

    kanal.dialling.dialler.caller = caller = RecordingCaller()
    queued_chat(client, kanal)  # waits: a surge starts 901 s later
    surge = SurgeWatch(kanal.uow, kanal.turns.profile, lambda: datetime.now(UTC) + timedelta(
        seconds=901), 240)  # fmt: skip
    assert surge.check().active
    pseudonym = add_citizen(phone="+4512345600")
    chat(client, "I want to talk to a person", "person",
         identity=identity_token(SECRET, pseudonym))  # fmt: skip
    ann = token("ann")
    first = client.post("/api/v1/desk/claim", headers=ann).get_json()["conversation_id"]
    refused = client.post(f"/api/v1/desk/conversations/{first}/call-back", headers=ann)
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "No callback is waiting on this contact."
    client.post(f"/api/v1/desk/conversations/{first}/resolve",
                json={"wrap_up": "answered", "outcome": "resolved"}, headers=ann)  # fmt: skip

    second = client.post("/api/v1/desk/claim", headers=ann).get_json()["conversation_id"]
    called = client.post(f"/api/v1/desk/conversations/{second}/call-back", headers=ann)

    assert called.status_code == 200, called.get_json()
    assert called.get_json() == {"conversation_id": second, "callback": "calling"}
    assert [to for to, _url, _status in caller.placed] == ["+4512345600"]
    with kanal.uow() as uow:
        (callback,) = uow.callbacks.for_contact(second)
    assert (callback.state, callback.reason) == ("calling", "surge")
    not_hers = client.post(f"/api/v1/desk/conversations/{second}/call-back", headers=token("bo"))
    assert not_hers.status_code == 409
    assert not_hers.get_json()["error"] == "Take this contact first: it is not assigned to you."
