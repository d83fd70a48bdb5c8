"""In Chromium: kanal's pages work under their Content-Security-Policy (no violation is
reported while a citizen chats and an agent answers), the desk cannot be framed, and an
agent who types a bot-only conversation's address is refused."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WAIT_MS = 10_000


def _watch(page, into: list[str]) -> None:
    page.on(
        "console",
        lambda m: into.append(m.text) if "Content Security Policy" in m.text else None,
    )


def test_the_pages_run_under_their_policy_and_the_desk_cannot_be_framed(live_kanal, chromium):
    base = live_kanal.url
    violations: list[str] = []
    citizen_ctx = chromium.new_context()
    agent_ctx = chromium.new_context()
    try:
        citizen = citizen_ctx.new_page()
        _watch(citizen, violations)
        citizen.goto(f"{base}/")
        citizen.goto(f"{base}/chat")
        citizen.locator("#kchat-text").fill("when is my pension paid")
        citizen.keyboard.press("Enter")
        citizen.locator("#kchat-log").get_by_text("payment_date").first.wait_for(timeout=WAIT_MS)
        citizen.locator("#kchat-text").fill("I want to talk to a person")
        citizen.keyboard.press("Enter")
        citizen.locator("#kchat-state").get_by_text("Waiting for a person").wait_for(
            timeout=WAIT_MS
        )

        agent = agent_ctx.new_page()
        _watch(agent, violations)
        sign_in(agent, base)
        agent.wait_for_url(re.compile(r".*/desk/$"))
        agent.get_by_role("button", name="Take next").click()
        agent.wait_for_url(re.compile(r".*/desk/contacts/\d+$"))
        agent.locator("#transcript").get_by_text("talk to a person").wait_for(timeout=WAIT_MS)
        assert violations == [], violations

        # Another citizen's chat stays with the bot: its address, typed by the agent, is refused.
        other = citizen_ctx.new_page()
        other.goto(f"{base}/chat")
        other.locator("#kchat-text").fill("when is my pension paid")
        other.keyboard.press("Enter")
        other.locator("#kchat-log").get_by_text("payment_date").first.wait_for(timeout=WAIT_MS)
        with live_kanal.kanal.uow() as uow:
            contacts = uow.contacts.list_by_state(("bot",))
        assert len(contacts) == 1
        refused = agent.goto(f"{base}/desk/contacts/{contacts[0].id}")
        assert refused.status == 403
        assert "never handed to a person" in agent.content()
        assert "when is my pension paid" not in agent.content()

        # Framed by another page, the desk is refused by the browser itself.
        framing = agent_ctx.new_page()
        framed: list[str] = []
        framing.on("console", lambda m: framed.append(m.text))
        framing.goto(f"{base}/healthz")
        framing.set_content(f'<iframe src="{base}/desk/"></iframe>')
        framing.wait_for_timeout(1500)
        frame = framing.frames[-1]
        assert frame is framing.main_frame or "Take next" not in (frame.content() or "")
        assert any("frame-ancestors" in t or "X-Frame-Options" in t for t in framed), framed
    finally:
        citizen_ctx.close()
        agent_ctx.close()
