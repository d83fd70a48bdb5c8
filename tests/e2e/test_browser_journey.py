"""The web-chat journey in a real browser: citizen's widget, agent's desk, both live.

The bot here is the scripted stand-in (tests/fakes.py); the journey with the real Rasa server is
tests/e2e/test_journey_rasa.py. This test is about what the citizen and the agent see and do.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.conftest import AGENT, serious_violations, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WAIT_MS = 10_000  # the desk polls every few seconds; the widget's stream pushes at once


def expect_text(locator, text, timeout=WAIT_MS):
    from playwright.sync_api import expect

    expect(locator).to_contain_text(text, timeout=timeout)


def no_serious_violations(page, what):
    found = serious_violations(page)
    assert not found, f"axe on {what}: " + "; ".join(found)


def test_citizen_chats_asks_for_a_person_and_an_agent_answers_live(live_kanal, chromium, shots):
    base = live_kanal.url
    citizen_ctx = chromium.new_context(viewport={"width": 1000, "height": 900})
    agent_ctx = chromium.new_context(viewport={"width": 1280, "height": 1000})
    try:
        citizen = citizen_ctx.new_page()
        agent = agent_ctx.new_page()

        # The citizen opens the chat and asks with the keyboard only.
        citizen.goto(f"{base}/chat")
        no_serious_violations(citizen, "/chat")
        citizen.keyboard.press("Tab")
        assert citizen.evaluate("document.activeElement.textContent") == (
            "Skip to the chat message box"
        )
        citizen.keyboard.press("Enter")
        assert _focused_is(citizen, "kchat-text"), "the skip link takes the keyboard to the box"
        citizen.keyboard.type("when will my pension be paid")
        citizen.keyboard.press("Enter")
        log = citizen.locator("#kchat-log")
        expect_text(log, "when will my pension be paid")
        expect_text(log, "https://example.org/payment_date")
        expect_text(citizen.locator("#kchat-state"), "digital assistant")
        assert _focused_is(citizen, "kchat-text"), "focus stays in the message box after sending"
        shots(citizen, "01-citizen-bot-answer")

        # The agent signs in and watches the empty queue.
        agent.goto(f"{base}/desk/")
        assert "/login" in agent.url
        no_serious_violations(agent, "/login")
        agent.get_by_label("Username").fill(AGENT[0])
        agent.get_by_label("Password").fill(AGENT[1])
        agent.get_by_role("button", name="Sign in").click()
        agent.wait_for_url(re.compile(r".*/desk/$"))
        expect_text(agent.locator("#waiting"), "Nobody is waiting.")
        no_serious_violations(agent, "/desk/")
        shots(agent, "02-desk-empty-queue")

        # The citizen asks for a person: the widget says so, the queue shows it without reload.
        citizen.keyboard.type("I want to talk to a person")
        citizen.keyboard.press("Enter")
        expect_text(citizen.locator("#kchat-state"), "Waiting for a person")
        expect_text(log, "passing you to a person")
        new_chat = citizen.get_by_role("button", name="Start a new conversation")
        assert new_chat.is_hidden(), "a waiting citizen is not offered to walk away by mistake"
        shots(citizen, "03-citizen-waiting")
        contact = live_kanal.kanal.views.contact_on("webchat", _session_id(citizen))
        reason = live_kanal.kanal.views.conversation(contact.id).decisions[-1].reason
        expect_text(agent.locator("#waiting"), reason)
        expect_text(agent.locator("#queue-live"), "1 new contact waiting")
        expect_text(agent.locator("#queue-count"), "1 contact waiting")
        shots(agent, "04-desk-new-arrival")

        # The agent takes the next item and sees the transcript and the decision's reason.
        agent.get_by_role("button", name="Take next").click()
        agent.wait_for_url(re.compile(rf".*/desk/contacts/{contact.id}$"))
        transcript = agent.locator("#transcript")
        expect_text(transcript, "when will my pension be paid")
        expect_text(transcript, "https://example.org/payment_date")
        expect_text(transcript, "I want to talk to a person")
        expect_text(agent.locator("aside"), reason)
        expect_text(agent.locator("aside"), "Not identified")
        expect_text(citizen.locator("#kchat-state"), "chatting with a person")
        no_serious_violations(agent, "the conversation page")

        # A new citizen message reaches the desk without a reload.
        citizen.keyboard.type("Are you there?")
        citizen.keyboard.press("Enter")
        expect_text(transcript, "Are you there?")
        shots(agent, "05-desk-conversation")

        # The agent answers; the answer appears in the widget without a reload.
        answer = "Your pension is paid on the last banking day of each month."
        agent.get_by_label("Your answer to the citizen").fill(answer)
        agent.get_by_role("button", name="Send reply").click()
        expect_text(agent.locator(".flash"), "Reply sent.")
        expect_text(log, answer)
        agent_line = citizen.locator("#kchat-log li.kchat-agent")
        expect_text(agent_line, "Advisor")
        no_serious_violations(citizen, "/chat during a conversation")
        shots(citizen, "06-citizen-agent-answer")

        # The agent resolves with a wrap-up code; the citizen sees the chat has ended.
        agent.get_by_label("Wrap-up code").select_option("answered")
        agent.get_by_label("Resolved", exact=True).check()
        agent.get_by_role("button", name="Resolve and close").click()
        agent.wait_for_url(re.compile(r".*/desk/$"))
        expect_text(agent.locator(".flash"), f"Contact {contact.id} resolved.")
        expect_text(citizen.locator("#kchat-state"), "This conversation has ended")
        assert citizen.locator("#kchat-text").is_disabled()
        assert new_chat.is_visible()
        shots(citizen, "07-citizen-closed")
        assert live_kanal.kanal.views.contact(contact.id).wrap_up == "answered"
    finally:
        citizen_ctx.close()
        agent_ctx.close()


def test_the_widget_is_usable_in_a_narrow_window_and_survives_a_reload(live_kanal, chromium, shots):
    ctx = chromium.new_context(viewport={"width": 360, "height": 740})
    try:
        page = ctx.new_page()
        page.goto(f"{live_kanal.url}/chat")
        page.get_by_label("Your message").fill("hello")
        page.get_by_role("button", name="Send").click()
        expect_text(page.locator("#kchat-log"), "[greet]")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the page scrolls sideways at 360 px ({width} px wide)"
        page.reload()
        expect_text(page.locator("#kchat-log"), "[greet]")  # the conversation is kept
        expect_text(page.locator("#kchat-state"), "digital assistant")
        no_serious_violations(page, "/chat at 360 px")
        shots(page, "08-citizen-narrow")
        page.get_by_role("button", name="Start a new conversation").click()
        assert page.locator("#kchat-log li").count() == 0
    finally:
        ctx.close()


def _focused_is(page, element_id: str) -> bool:
    return page.evaluate("document.activeElement && document.activeElement.id") == element_id


def _session_id(page) -> str:
    stored = page.evaluate("sessionStorage.getItem('kanal-chat-session')")
    return json.loads(stored)["id"]


def test_a_demo_citizen_registered_exempt_reaches_a_person_on_the_first_message(
    live_kanal, chromium, shots
):
    from datetime import UTC, date, datetime

    from router.domain.citizens import pseudonym_for
    from router.domain.model import Citizen, Exemption
    from router.entrypoints.demo import DEMO_CITIZENS
    from tests.conftest import SECRET

    inge = next(d for d in DEMO_CITIZENS if d.ground)
    with live_kanal.kanal.uow() as uow:
        citizen = uow.citizens.add(
            Citizen(
                pseudonym=pseudonym_for(SECRET, inge.key),
                name=inge.name,
                language=inge.language,
                birth_year=inge.birth_year,
                created_at=datetime.now(UTC),
            )
        )
        uow.citizens.add_exemption(
            Exemption(citizen_id=citizen.id, ground=inge.ground, valid_from=date(2024, 1, 1))
        )
        uow.commit()
    ctx = chromium.new_context()
    agent_ctx = chromium.new_context(viewport={"width": 1280, "height": 1000})
    try:
        page = ctx.new_page()
        page.goto(f"{live_kanal.url}/chat")
        no_serious_violations(page, "/chat with demo citizens")
        option = page.locator("#kchat-identity option", has_text=inge.name)
        page.get_by_label("Chat as").select_option(value=option.get_attribute("value"))
        page.get_by_label("Your message").fill("when will my pension be paid")
        page.keyboard.press("Enter")
        # Inge is registered as Danish: kanal answers in Danish and the widget follows it.
        expect_text(page.locator("#kchat-state"), "Venter på en medarbejder")
        expect_text(page.locator("#kchat-log"), "Jeg sender dig videre til en medarbejder")
        assert page.locator("#kanal-chat").get_attribute("lang") == "da"
        assert page.get_by_label("Din besked").is_visible()
        no_serious_violations(page, "/chat once the widget follows Danish")
        shots(page, "09-demo-citizen-exempt")
        contact = live_kanal.kanal.views.contact_on("webchat", _session_id(page))

        desk = agent_ctx.new_page()
        sign_in(desk, live_kanal.url)
        desk.get_by_role("button", name="Take next").click()
        desk.wait_for_url(re.compile(rf".*/desk/contacts/{contact.id}$"))
        facts = desk.locator("aside")
        expect_text(facts, inge.name)
        expect_text(
            facts, "Valid: cognitive or physical impairment, from 2024-01-01 with no end date"
        )
        expect_text(facts, "80 or over")
        no_serious_violations(desk, "the conversation page of an identified citizen")
        shots(desk, "10-desk-identified-exempt")
    finally:
        ctx.close()
        agent_ctx.close()
