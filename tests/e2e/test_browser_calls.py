"""The desk's calls in a real browser: an agent who takes calls takes a queued caller and
connects the call; staff act on a failed callback. Pages are checked with axe.

The caller here waits in kanal's queue and in the sandbox's Twilio queue `contact-<id>` as the
voice channel puts them (its inbound flow is tested with the phone simulator). When the voice
channel serves the agent leg's TwiML (`/twilio/voice/agent/<id>`), the journey also sees the
sandbox bridge the agent's leg to the waiting caller.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import requests

from router.domain.citizens import pseudonym_for
from router.domain.model import Citizen, Contact, ContactState, QueueItem
from tests.conftest import SECRET
from tests.e2e.conftest import AGENT, serious_violations, sign_in
from tests.integration.sms_support import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WAIT_MS = 10_000


def expect_text(locator, text, timeout=WAIT_MS):
    from playwright.sync_api import expect

    expect(locator).to_contain_text(text, timeout=timeout)


def no_serious_violations(page, what):
    found = serious_violations(page)
    assert not found, f"axe on {what}: " + "; ".join(found)


def caller_waiting(kanal, phone: str, name: str = "Karen Caller") -> int:
    """A registered citizen waiting on the phone for a person; return the contact id."""
    now = datetime.now(UTC)
    with kanal.uow() as uow:
        citizen = uow.citizens.add(
            Citizen(pseudonym=pseudonym_for(SECRET, phone), phone=phone, name=name,
                    language="da", birth_year=1948, created_at=now)
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


def test_an_agent_takes_a_queued_caller_and_connects_the_call(live_kanal, chromium, shots):
    base, kanal = live_kanal.url, live_kanal.kanal
    contact_id = caller_waiting(kanal, "+4520005001")
    call_sid = "CA" + "5" * 32
    joined = requests.post(
        f"{base}/sandbox/voice/queues/contact-{contact_id}/members",
        data={"CallSid": call_sid},
        timeout=5,
    )
    assert joined.status_code == 201
    ctx = chromium.new_context(viewport={"width": 1280, "height": 1000})
    try:
        agent = ctx.new_page()
        sign_in(agent, base)
        agent.get_by_role("button", name="Take calls").click()
        expect_text(agent.locator("#taking-calls"), "You take calls")
        expect_text(agent.locator("#waiting"), "phone")
        no_serious_violations(agent, "/desk/ with a caller waiting")
        shots(agent, "calls-01-queue")

        agent.get_by_role("button", name="Take next").click()
        agent.wait_for_url(re.compile(rf".*/desk/contacts/{contact_id}$"))
        expect_text(agent.locator("h1"), "phone")
        expect_text(agent.locator("aside"), "Karen Caller")
        assert agent.locator("#reply-text").count() == 0, "nobody writes to a caller"
        no_serious_violations(agent, "a phone conversation")
        agent.get_by_role("button", name="Connect call").click()
        expect_text(agent.locator("main"), "Your phone is ringing")
        shots(agent, "calls-02-connected")

        calls = wait_for(
            lambda: requests.get(
                f"{base}/sandbox/outbox.json", params={"kind": "calls"}, timeout=5
            ).json(),
            what="the agent's leg in the sandbox",
        )
        (call,) = calls
        assert call["to"] == "client:agent-1"
        assert call["url"] == f"{base}/twilio/voice/agent/{contact_id}"
        if any(
            r.rule.startswith("/twilio/voice/agent/") for r in live_kanal.app.url_map.iter_rules()
        ):
            state = wait_for(
                lambda: (
                    (s := requests.get(f"{base}/sandbox/voice/calls/{call_sid}", timeout=5).json())[
                        "state"
                    ]
                    == "bridged"
                    and s
                ),
                what="the caller bridged to the agent",
            )
            assert state["bridged_to"] == "client:agent-1"
        agent.goto(f"{base}/sandbox/outbox")
        expect_text(agent.locator("#calls"), "client:agent-1")
        no_serious_violations(agent, "/sandbox/outbox with a call")
    finally:
        ctx.close()


def test_staff_close_a_failed_callback_with_a_note(live_kanal, chromium, shots):
    base, kanal = live_kanal.url, live_kanal.kanal
    # Twilio's test number for an invalid phone: the call is refused at once (21217).
    contact_id = caller_waiting(kanal, "+15005550001", name="Frank Failed")
    with kanal.uow() as uow:
        uow.users.by_username(AGENT[0]).available_for_calls = True
        uow.commit()
    callback_id = kanal.callbacks.book(contact_id, reason="waited_too_long")
    assert kanal.dialling.run(callback_id) == "failed"
    ctx = chromium.new_context(viewport={"width": 1280, "height": 1000})
    try:
        page = ctx.new_page()
        sign_in(page, base)
        expect_text(page.locator("#taking-calls"), "1 failed callback to act on")
        page.get_by_role("link", name="Failed callbacks").first.click()
        expect_text(page.locator("#failed"), "waited too long in the queue")
        no_serious_violations(page, "/desk/callbacks/failed")
        shots(page, "calls-03-failed-callbacks")
        page.get_by_label(f"Note for closing callback {callback_id}").fill(
            "Number not valid; wrote a letter."
        )
        page.get_by_role("button", name="Close with this note").click()
        expect_text(page.locator("main"), f"Callback {callback_id} is closed with your note")
        expect_text(page.locator("main"), "No failed callbacks")
        page.goto(f"{base}/desk/contacts/{contact_id}")
        expect_text(page.locator("#callbacks"), "Number not valid; wrote a letter.")
        no_serious_violations(page, "a contact with a closed callback")
    finally:
        ctx.close()
