"""Callbacks for real: storage on SQLite and PostgreSQL, the signed webhooks of outbound
calls, the durable job across a scheduler restart, and a callback the sandbox places."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import create_engine, inspect, text

from channels.twilio_signature import sign
from router import create_app
from router.domain.callbacks import Callback
from router.domain.followups import Followup
from router.domain.model import Contact, ContactState, QueueItem
from router.entrypoints import scheduler
from router.entrypoints.bootstrap import kanal_of
from tests.conftest import SECRET
from tests.fakes import RecordingCaller
from tests.integration import sms_support
from tests.integration.sms_support import new_number, wait_for

live = sms_support.live


@pytest.fixture
def app_config(app_config):
    return {**app_config, "KANAL_CALLBACK_ATTEMPTS": 2, "KANAL_CALLBACK_RECHECK_SECONDS": 1}


def waiting_call(kanal, phone: str, language: str = "en") -> int:
    """A registered citizen waiting on the phone for a person; return the contact id."""
    from router.domain.citizens import pseudonym_for
    from router.domain.model import Citizen

    now = datetime.now(UTC)
    with kanal.uow() as uow:
        citizen = uow.citizens.add(
            Citizen(pseudonym=pseudonym_for(SECRET, phone), phone=phone, language=language,
                    created_at=now)
        )  # fmt: skip
        contact = uow.contacts.add(
            Contact(channel="voice", address=phone, opened_at=now, state=ContactState.BOT,
                    citizen_id=citizen.id, need="payment_date", last_activity_at=now)
        )  # fmt: skip
        item = uow.queue.add(
            QueueItem(contact_id=contact.id, skill="payment_date", priority=0, enqueued_at=now)
        )
        contact.enqueue(item)
        uow.commit()
        return contact.id


def agent_taking_calls(kanal, username: str = "caller1") -> int:
    from router.entrypoints.auth import create_user

    user = create_user(kanal.uow, username, "correct horse", "agent")
    with kanal.uow() as uow:
        uow.users.get(user.id).available_for_calls = True
        uow.commit()
    return user.id


# -- storage ---------------------------------------------------------------------------------


def test_callbacks_and_followups_are_stored_and_found(kanal):
    agent = agent_taking_calls(kanal)
    contact_id = waiting_call(kanal, "+4520001001")
    now = datetime.now(UTC)
    with kanal.uow() as uow:
        booked = uow.callbacks.add(
            Callback(contact_id=contact_id, reason="asked", booked_at=now, next_attempt_at=now)
        )
        calling = uow.callbacks.add(
            Callback(contact_id=contact_id, reason="waited_too_long", booked_at=now,
                     state="calling", agent_id=agent, attempts=1)
        )  # fmt: skip
        uow.followups.add(
            Followup(contact_id=contact_id, citizen_id=1, need="payment_date",
                     due_at=now + timedelta(hours=48), scheduled_at=now)
        )  # fmt: skip
        offered = uow.followups.add(
            Followup(contact_id=contact_id, citizen_id=1, need="change_address",
                     due_at=now, scheduled_at=now, state="offered")
        )  # fmt: skip
        uow.contacts.get(contact_id).agent_id = agent
        uow.contacts.get(contact_id).state = "assigned"
        uow.commit()
    with kanal.uow() as uow:
        assert [c.id for c in uow.callbacks.for_contact(contact_id)] == [booked.id, calling.id]
        assert [c.id for c in uow.callbacks.in_states(("calling",))] == [calling.id]
        assert uow.callbacks.agents_calling() == {agent}
        assert uow.callbacks.get(calling.id, for_update=True).attempts == 1
        assert [u.id for u in uow.users.available_for_calls()] == [agent]
        assert uow.contacts.agents_holding("voice") == {agent}
        assert uow.contacts.agents_holding("sms") == set()
        waiting = uow.followups.scheduled_on_need("payment_date", citizen_id=1)
        assert [f.need for f in waiting] == ["payment_date"]
        assert uow.followups.scheduled_on_need("payment_date", contact_id=contact_id + 1) == []
        assert uow.followups.offered_to(1).id == offered.id
        assert uow.followups.get(offered.id, for_update=True).state == "offered"


# -- the webhooks of outbound calls -------------------------------------------------------------


def signed_post(client, app, path: str, form: dict, query: str = ""):
    url = app.config["KANAL_PUBLIC_URL"] + path + (f"?{query}" if query else "")
    headers = {"X-Twilio-Signature": sign(url, form, app.config["TWILIO_AUTH_TOKEN"])}
    return client.post(path + (f"?{query}" if query else ""), data=form, headers=headers)


def test_forged_or_unsigned_call_webhooks_are_refused(client, app):
    form = {"CallSid": "CA1", "CallStatus": "busy"}
    assert client.post("/twilio/voice/call-status?callback=1", data=form).status_code == 403
    forged = {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
    assert client.post("/twilio/voice/callback/1", data=form, headers=forged).status_code == 403


def test_malformed_status_callbacks_say_what_is_wrong(client, app):
    missing = signed_post(client, app, "/twilio/voice/call-status", {"CallSid": "CA1"})
    assert missing.status_code == 400 and "CallStatus" in missing.get_data(as_text=True)
    form = {"CallSid": "CA1", "CallStatus": "busy"}
    bad = signed_post(client, app, "/twilio/voice/call-status", form, "callback=x")
    assert bad.status_code == 400 and "`callback`" in bad.get_data(as_text=True)
    unknown = signed_post(client, app, "/twilio/voice/call-status", form, "callback=77")
    assert unknown.status_code == 404
    agent_leg = signed_post(client, app, "/twilio/voice/call-status", form, "contact=5")
    assert agent_leg.status_code == 204
    assert signed_post(client, app, "/twilio/voice/callback/77", form).status_code == 404
    no_sid = signed_post(client, app, "/twilio/voice/callback/77", {"CallStatus": "in-progress"})
    assert no_sid.status_code == 400 and "CallSid" in no_sid.get_data(as_text=True)


def test_an_answered_callback_says_who_calls_in_danish_and_dials_the_agent(app, client, kanal):
    agent = agent_taking_calls(kanal)
    contact_id = waiting_call(kanal, "+4520001002", language="da")
    kanal.dialling.dialler.caller = RecordingCaller()
    callback_id = kanal.callbacks.book(contact_id, reason="asked")
    assert kanal.dialling.run(callback_id) == "placed"
    answer = signed_post(
        client, app, f"/twilio/voice/callback/{callback_id}",
        {"CallSid": "CA" + "a" * 32, "CallStatus": "in-progress", "To": "+4520001002"},
    )  # fmt: skip
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    root = ET.fromstring(answer.get_data(as_text=True))
    say = root.find("Say")
    assert (say.get("language"), say.get("voice")) == ("da-DK", "Polly.Naja")
    assert "ringer dig op" in say.text
    assert root.find("Dial/Client").text == f"agent-{agent}"
    with kanal.uow() as uow:
        contact = uow.contacts.get(contact_id)
        assert (contact.state, contact.agent_id) == ("assigned", agent)


# -- the durable job ---------------------------------------------------------------------------


def stored_jobs(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(text("SELECT id FROM scheduler_jobs"))]
    finally:
        engine.dispose()


def forget_stored_jobs(url: str) -> None:
    """Empty the job store: the session's PostgreSQL database keeps it between tests."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            if inspect(conn).has_table("scheduler_jobs"):
                conn.execute(text("DELETE FROM scheduler_jobs"))
    finally:
        engine.dispose()


def test_a_callback_job_survives_a_scheduler_restart(app_config):
    """Booked while a scheduler runs, stopped before it is due, placed by the next one."""
    forget_stored_jobs(app_config["KANAL_DATABASE_URL"])
    first_caller = RecordingCaller()
    first = create_app(app_config, caller=first_caller)
    one = kanal_of(first)
    agent_taking_calls(one)
    contact_id = waiting_call(one, "+4520001003")
    running = scheduler.build(one, blocking=False)
    running.start()
    try:
        due = datetime.now(UTC) + timedelta(seconds=2)
        callback_id = one.callbacks.book(contact_id, reason="out_of_hours", at=due)
        assert any(key.startswith(f"callback-{callback_id}@") for key in stored_jobs(
            app_config["KANAL_DATABASE_URL"]))  # fmt: skip
    finally:
        running.shutdown(wait=True)
    time.sleep(2.5)  # due while no scheduler runs
    assert first_caller.placed == []
    one.close()
    stored = stored_jobs(app_config["KANAL_DATABASE_URL"])
    assert any(key.startswith(f"callback-{callback_id}@") for key in stored), "still stored"

    second_caller = RecordingCaller()
    again = create_app(app_config, caller=second_caller)
    two = kanal_of(again)
    restarted = scheduler.build(two, blocking=False)
    restarted.start()
    try:
        wait_for(lambda: second_caller.placed, timeout=15, what="the callback placed")
    finally:
        restarted.shutdown(wait=True)
        two.close()
    assert second_caller.placed[0][0] == "+4520001003"
    assert second_caller.placed[0][1].endswith(f"/twilio/voice/callback/{callback_id}")
    with two.uow() as uow:
        assert uow.callbacks.get(callback_id).state == "calling"


def test_a_callback_booked_by_the_web_process_reaches_the_running_scheduler(app_config):
    forget_stored_jobs(app_config["KANAL_DATABASE_URL"])
    web_caller, scheduler_caller = RecordingCaller(), RecordingCaller()
    web = kanal_of(create_app(app_config, caller=web_caller))
    process = kanal_of(create_app(app_config, caller=scheduler_caller))
    agent_taking_calls(web)
    contact_id = waiting_call(web, "+4520001004")
    running = scheduler.build(process, blocking=False)
    running.start()
    try:
        web.callbacks.book(contact_id, reason="asked")
        wait_for(lambda: scheduler_caller.placed, timeout=15, what="the scheduler to place it")
    finally:
        running.shutdown(wait=True)
        web.close()
        process.close()
    assert web_caller.placed == [], "the web process only stores the job"


# -- through the sandbox ---------------------------------------------------------------------------


def sandbox_calls(live, number: str) -> list[dict]:
    return requests.get(
        live.base_url + "/sandbox/outbox.json", params={"to": number, "kind": "calls"}, timeout=5
    ).json()


def test_the_sandbox_places_a_callback_that_reaches_the_agent(live):
    kanal = live.kanal
    agent = agent_taking_calls(kanal)
    number = new_number()
    contact_id = waiting_call(kanal, number)
    callback_id = kanal.callbacks.book(contact_id, reason="waited_too_long")
    assert kanal.dialling.run(callback_id) == "placed"
    wait_for(
        lambda: (
            sandbox_calls(live, number) and sandbox_calls(live, number)[0]["status"] == "completed"
        ),
        what="the call answered and finished",
    )
    call = sandbox_calls(live, number)[0]
    assert call["connected_to"] == f"client:agent-{agent}"
    assert "calling you back" in call["said"]
    with kanal.uow() as uow:
        assert uow.callbacks.get(callback_id).state == "answered"
        assert uow.contacts.get(contact_id).agent_id == agent
        types = [e.type for e in uow.events.for_contact(contact_id)]
    assert [t for t in types if t.startswith("callback") or t == "agent_assigned"] == [
        "callback_booked",
        "callback_placed",
        "agent_assigned",
        "callback_answered",
    ]


def test_a_busy_citizen_is_called_again_then_listed_as_failed(live):
    kanal = live.kanal
    agent_taking_calls(kanal)
    number = new_number()
    requests.post(
        live.base_url + "/sandbox/voice/answers", data={"To": number, "Answer": "busy"}, timeout=5
    )
    contact_id = waiting_call(kanal, number)
    callback_id = kanal.callbacks.book(contact_id, reason="asked")

    def state():
        with kanal.uow() as uow:
            return uow.callbacks.get(callback_id)

    assert kanal.dialling.run(callback_id) == "placed"
    wait_for(lambda: state().state == "booked" and state().attempts == 1, what="busy, retried")
    assert state().last_status == "busy"
    with kanal.uow() as uow:  # the retry's time has come
        uow.callbacks.get(callback_id).next_attempt_at = datetime.now(UTC)
        uow.commit()
    assert kanal.dialling.run(callback_id) == "placed"
    wait_for(lambda: state().state == "failed", what="listed as failed after 2 attempts")
    assert [c.id for c in kanal.callback_desk.failed()] == [callback_id]
    assert [c["status"] for c in sandbox_calls(live, number)] == ["busy", "busy"]
    # What analytics reads: the callback's life, countable from the event log alone.
    with kanal.analytics_engine.connect() as conn:
        counts = dict(
            conn.execute(
                text(
                    "SELECT type, COUNT(*) FROM contact_events "
                    "WHERE contact_id = :c AND type LIKE 'callback%' GROUP BY type"
                ),
                {"c": contact_id},
            ).all()
        )
    assert counts == {
        "callback_booked": 1,
        "callback_placed": 2,
        "callback_not_answered": 2,
        "callback_failed": 1,
    }
