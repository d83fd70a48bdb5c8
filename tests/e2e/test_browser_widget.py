"""The chat widget's push path in a browser: the stream reconnects, polling stands in."""

from __future__ import annotations

import json
import re
import time

import pytest

from router.domain.commands import AgentReply, ClaimNext
from router.entrypoints.auth import create_user
from tests.e2e.conftest import LiveKanal
from tests.fakes import ScriptedBot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WAIT_MS = 10_000


def expect_text(locator, text, timeout=WAIT_MS):
    from playwright.sync_api import expect

    expect(locator).to_contain_text(text, timeout=timeout)


def escalate(page, base):
    page.goto(f"{base}/chat")
    page.get_by_label("Your message").fill("I want to talk to a person")
    page.keyboard.press("Enter")
    expect_text(page.locator("#kchat-state"), "Waiting for a person")
    return json.loads(page.evaluate("sessionStorage.getItem('kanal-chat-session')"))["id"]


def answer(live, session_id, text):
    """Claim the citizen's contact and answer it through the router, as the desk does."""
    kanal = live.kanal
    agent = create_user(kanal.uow, "agent9", "correct horse", "agent").id
    contact = kanal.views.contact_on("webchat", session_id)
    assert kanal.desk.claim_next(ClaimNext(agent_id=agent)).contact_id == contact.id
    kanal.desk.reply(AgentReply(agent_id=agent, contact_id=contact.id, text=text))
    return contact.id


def test_the_widget_polls_when_the_stream_is_unavailable(live_kanal, chromium):
    ctx = chromium.new_context()
    polled = []
    try:
        page = ctx.new_page()
        page.route(re.compile(r".*/stream(\?.*)?$"), lambda route: route.abort())
        page.on("request", lambda r: polled.append(r.url) if "/messages?after=" in r.url else None)
        session_id = escalate(page, live_kanal.url)

        answer(live_kanal, session_id, "Polling brought this answer.")

        expect_text(page.locator("#kchat-log"), "Polling brought this answer.")
        expect_text(page.locator("#kchat-state"), "chatting with a person")
        assert polled, "the widget asked for messages after a cursor"
    finally:
        ctx.close()


def test_the_stream_reconnects_after_the_last_message_it_saw(live_kanal, chromium):
    from router.entrypoints.streams.app import STREAMS

    live_kanal.streams.app[STREAMS].seconds = 1.5  # the stream process ends streams quickly
    ctx = chromium.new_context()
    streams = []
    try:
        page = ctx.new_page()
        page.on("request", lambda r: streams.append(r.url) if "/stream" in r.url else None)
        session_id = escalate(page, live_kanal.url)
        last_id = max(
            int(i)
            for i in page.locator("#kchat-list li").evaluate_all(
                "items => items.map(li => li.dataset.id)"
            )
        )
        page.wait_for_timeout(3000)  # at least one stream ends and the widget comes back

        answer(live_kanal, session_id, "The reconnected stream brought this.")

        expect_text(page.locator("#kchat-log"), "The reconnected stream brought this.")
        assert len(streams) >= 2
        assert all(url.startswith(live_kanal.stream_url) for url in streams), streams
        assert any(url.endswith(f"after={last_id}") for url in streams[1:]), streams
        assert page.locator("#kchat-list li").count() == len(
            set(page.locator("#kchat-list li").evaluate_all("items => items.map(li => li.id)"))
        ), "no message is shown twice"
    finally:
        ctx.close()


def test_a_danish_browser_gets_the_danish_widget_and_it_follows_the_conversation(
    live_kanal, chromium, shots
):
    from tests.e2e.conftest import serious_violations

    ctx = chromium.new_context(locale="da-DK")
    try:
        page = ctx.new_page()
        page.goto(f"{live_kanal.url}/chat")
        assert page.locator("html").get_attribute("lang") == "da"
        expect_text(page.locator("#kchat-state"), "Skriv en besked for at begynde.")
        assert serious_violations(page) == []
        page.get_by_label("Din besked").fill("hvornår bliver min pension udbetalt")
        page.keyboard.press("Enter")
        expect_text(page.locator("#kchat-log"), "https://example.org/payment_date")
        expect_text(page.locator("#kchat-state"), "Du chatter med vores digitale assistent")
        expect_text(page.locator("#kchat-log .kchat-who").first, "Dig")
        shots(page, "11-widget-danish")

        # Another citizen on a Danish browser writes English: the widget follows kanal.
        page.get_by_role("button", name="Start en ny samtale").click()
        page.get_by_label("Din besked").fill("I want to talk to a person")
        page.keyboard.press("Enter")
        expect_text(page.locator("#kchat-state"), "Waiting for a person")
        expect_text(page.locator("#kchat-log"), "passing you to a person")
        assert page.locator("#kanal-chat").get_attribute("lang") == "en"
        assert page.get_by_label("Your message").is_visible()
        assert serious_violations(page) == []
    finally:
        ctx.close()


def test_the_language_chosen_on_the_page_is_kept_and_starts_the_conversation(live_kanal, chromium):
    ctx = chromium.new_context(locale="da-DK")
    try:
        page = ctx.new_page()
        page.goto(f"{live_kanal.url}/chat")
        page.get_by_role("link", name="English").click()  # the language switch
        # The switch loads the page again: type only once its widget has started.
        page.wait_for_url("**/chat?lang=en")
        page.wait_for_load_state("networkidle")
        expect_text(page.locator("#kchat-state"), "Write a message to start.")
        page.get_by_label("Your message").fill("12345678")  # no language of its own
        page.keyboard.press("Enter")
        expect_text(page.locator("#kchat-state"), "You are chatting with our digital assistant")
        expect_text(page.locator("#kchat-log"), "12345678")
        session_id = json.loads(page.evaluate("sessionStorage.getItem('kanal-chat-session')"))["id"]
        assert live_kanal.kanal.views.contact_on("webchat", session_id).language == "en"
    finally:
        ctx.close()


def test_the_satisfaction_question_after_the_chat_ends_is_five_named_buttons(live_kanal, chromium):
    from playwright.sync_api import expect

    from router.domain import events as ev
    from tests.e2e.conftest import serious_violations

    ctx = chromium.new_context()
    try:
        page = ctx.new_page()
        page.goto(f"{live_kanal.url}/chat")
        page.get_by_label("Your message").fill("When is my pension paid?")
        page.keyboard.press("Enter")
        expect_text(page.locator("#kchat-log"), "payment_date")
        page.get_by_label("Your message").fill("bye")
        page.keyboard.press("Enter")
        expect_text(page.locator("#kchat-state"), "This conversation has ended")

        group = page.get_by_role(
            "group", name="Overall, how did you feel about the service you received today?"
        )
        expect(group).to_be_visible(timeout=WAIT_MS)
        labels = [b.inner_text() for b in group.get_by_role("button").all()]
        assert labels == [
            "Very satisfied", "Satisfied", "Neither satisfied or dissatisfied", "Dissatisfied",
            "Very dissatisfied",
        ]  # fmt: skip
        found = serious_violations(page)
        assert not found, "axe on the survey: " + "; ".join(found)

        group.get_by_role("button", name="Satisfied", exact=True).click()
        expect_text(page.locator(".kchat-survey-thanks"), "Thank you for your answer")
        session_id = json.loads(page.evaluate("sessionStorage.getItem('kanal-chat-session')"))["id"]
        contact = live_kanal.kanal.views.contact_on("webchat", session_id)
        with live_kanal.kanal.uow() as uow:
            scores = [
                e.data["score"]
                for e in uow.events.for_contact(contact.id)
                if e.type == ev.SATISFACTION
            ]
        assert scores == [4]
    finally:
        ctx.close()


class SlowBot(ScriptedBot):
    """The bot busy with other citizens: its answer comes after a few seconds."""

    def turn(self, conversation_id, text, *, language=None, wait=None):
        time.sleep(2.5)
        return super().turn(conversation_id, text, language=language, wait=wait)


def test_a_slow_answer_is_announced_and_the_bots_answer_follows(tmp_path, chromium):
    ctx = chromium.new_context()
    try:
        with LiveKanal(tmp_path, SlowBot()) as live:
            page = ctx.new_page()
            page.goto(f"{live.url}/chat")
            page.get_by_label("Your message").fill("When is my pension paid?")
            page.keyboard.press("Enter")
            waiting = page.locator("#kchat-wait")
            expect_text(waiting, "The answer is on its way", timeout=2_000)
            assert waiting.get_attribute("role") == "status"  # read out by screen readers
            expect_text(page.locator("#kchat-log"), "[payment_date]")
            assert waiting.text_content() == ""
    finally:
        ctx.close()
