"""The policy's callback for a citizen writing in, for real: a web-chat citizen whose
profile rule says callback gets a callback job that the sandbox places to the phone number
the register has for them, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import requests

from channels.webchat_session import identity_token
from router.domain.citizens import pseudonym_for
from tests.conftest import SECRET
from tests.integration import sms_support
from tests.integration.sms_support import new_number, wait_for
from tests.integration.test_callbacks import agent_taking_calls, sandbox_calls

live = sms_support.live

# A profile whose rule calls back a citizen who asks for a person (in opening hours, so the
# scheduler places the call at once); one the bot fails twice, or exempt, is called back too
# (kanal runs no profile that traps a citizen).
PROFILE = """
name = "callback-test"
description = "Asking for a person books a callback."

[[rule]]
id = "person-called-back"
when = { asked_for_person = true }
action = "callback"
reason = "You asked for a person: a person will call you."

[[rule]]
id = "bot-failed-called-back"
when = { bot_failures = { at_least = 2 } }
action = "callback"
reason = "The digital assistant could not help you: a person will call you."

[[rule]]
id = "exempt-called-back"
when = { exempt = true }
action = "callback"
reason = "Registered exemption: a person will call you."

[default]
action = "self_service"
reason = "The digital assistant answers first."
"""


@pytest.fixture
def app_config(app_config, tmp_path):
    profile = tmp_path / "callback-test.toml"
    profile.write_text(PROFILE, encoding="utf-8")
    return {**app_config, "KANAL_POLICY": str(profile)}


def register(kanal, phone: str | None) -> str:
    from datetime import UTC, datetime

    from router.domain.model import Citizen

    with kanal.uow() as uow:
        citizen = uow.citizens.add(
            Citizen(pseudonym=pseudonym_for(SECRET, phone or "no-phone"), phone=phone,
                    language="en", created_at=datetime.now(UTC))
        )  # fmt: skip
        uow.commit()
        return citizen.pseudonym


def chat(live, pseudonym: str | None, text: str) -> tuple[str, dict]:
    body = {"identity": identity_token(SECRET, pseudonym)} if pseudonym else {}
    started = requests.post(live.base_url + "/api/v1/chat/sessions", json=body, timeout=5)
    assert started.status_code == 201, started.text
    session = started.json()
    answer = requests.post(
        f"{live.base_url}/api/v1/chat/sessions/{session['session_id']}/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {session['token']}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return session["session_id"], answer.json()


def test_a_chat_citizen_the_policy_calls_back_is_called_by_the_sandbox(live):
    kanal = live.kanal
    agent = agent_taking_calls(kanal)
    number = new_number()
    sid, body = chat(live, register(kanal, number), "I want to talk to a person")
    told = body["messages"][-1]["text"]
    assert told.startswith("You asked for a person: a person will call you.")
    assert "call you on the phone number we have registered for you as soon as" in told
    contact = kanal.views.contact_on("webchat", sid)
    with kanal.uow() as uow:
        [callback] = uow.callbacks.for_contact(contact.id)
    assert (callback.reason, callback.state) == ("policy", "booked")
    assert kanal.dialling.run(callback.id) == "placed"  # the job, as the scheduler runs it
    wait_for(
        lambda: (
            sandbox_calls(live, number) and sandbox_calls(live, number)[0]["status"] == "completed"
        ),
        what="the callback answered and finished",
    )
    call = sandbox_calls(live, number)[0]
    assert call["connected_to"] == f"client:agent-{agent}"
    with kanal.uow() as uow:
        assert uow.callbacks.get(callback.id).state == "answered"
        assert uow.contacts.get(contact.id).agent_id == agent

    def calls():
        with kanal.uow() as uow:
            return [(c.direction, c.call_sid, c.status) for c in uow.calls.for_contact(contact.id)]

    # The outbound call is one of the contact's calls, with how it ended (the sandbox's
    # status callback may arrive just after its outbox says completed).
    wait_for(lambda: calls() and calls()[0][2] == "completed", what="the call's row completed")
    assert calls() == [("outbound", call["sid"], "completed")]


def test_a_chat_citizen_without_a_phone_number_waits_for_a_person_in_writing(live):
    kanal = live.kanal
    sid, body = chat(live, register(kanal, None), "I want to talk to a person")
    assert body["state"] == "queued"
    told = body["messages"][-1]["text"]
    assert "We can't call you back: we have no phone number for you." in told
    contact = kanal.views.contact_on("webchat", sid)
    with kanal.uow() as uow:
        assert uow.callbacks.for_contact(contact.id) == []
        assert uow.queue.open_for_contact(contact.id) is not None
