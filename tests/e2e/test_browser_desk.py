"""The desk in a real browser: axe-core finds no WCAG 2.1 AA violation on any desk page (in
English and Danish), and an agent works a chat by keyboard alone, in Danish, while the
citizen's widget shows the reply live with its link clickable and its time as 14:43."""

from __future__ import annotations

import re

import pytest

from channels.webchat_session import identity_token
from router.domain.citizens import pseudonym_for
from router.domain.model import Citizen
from tests.conftest import SECRET
from tests.e2e.conftest import AGENT, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WAIT_MS = 10_000
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CLOCK = re.compile(r"^\d{2}:\d{2}$")


def expect_text(locator, text, timeout=WAIT_MS):
    from playwright.sync_api import expect

    expect(locator).to_contain_text(text, timeout=timeout)


def wcag_violations(page) -> list[str]:
    """Run axe-core on the page for WCAG 2.1 A and AA; return every violation, whatever
    its impact, readable."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA},
                       "resultTypes": ["violations"]}
    )  # fmt: skip
    return [
        f"{v['id']} ({v.get('impact')}): {v['help']} at "
        f"{[', '.join(n['target']) for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def no_violations(page, what: str) -> None:
    found = wcag_violations(page)
    assert not found, f"axe (WCAG 2.1 AA) on {what}: " + "; ".join(found)


def queued_chat(live, *texts, identity=None) -> int:
    """A citizen's chat through the chat API, waiting for a person; return its contact id."""
    client = live.app.test_client()
    started = client.post("/api/v1/chat/sessions", json={"identity": identity} if identity
                          else None).get_json()  # fmt: skip
    auth = {"Authorization": f"Bearer {started['token']}"}
    for text in texts:
        client.post(f"/api/v1/chat/sessions/{started['session_id']}/messages",
                    json={"text": text}, headers=auth)  # fmt: skip
    return live.kanal.views.contact_on("webchat", started["session_id"]).id


def register(live, name: str, language: str) -> str:
    """Register a citizen and return the chat identity that signs them in."""
    from datetime import UTC, datetime

    pseudonym = pseudonym_for(SECRET, name)
    with live.kanal.uow() as uow:
        uow.citizens.add(Citizen(pseudonym=pseudonym, name=name, language=language,
                                 birth_year=1950, created_at=datetime.now(UTC)))  # fmt: skip
        uow.commit()
    return identity_token(SECRET, pseudonym)


def tab_to(page, matches, most: int = 60) -> None:
    """Press Tab until the focused element is the one `matches` names (id or visible text)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return e ? [e.id || '', (e.innerText || e.value || '').trim()] : ['', ''] }"
        )
        if matches in focused or any(matches == f or f.startswith(matches) for f in focused if f):
            return
    raise AssertionError(f"Tab never reached {matches!r}")


def test_every_desk_page_passes_axe_at_wcag_21_aa_in_english_and_danish(live_kanal, chromium):
    karen = register(live_kanal, "Karen Jensen", "da")
    earlier = queued_chat(live_kanal, "when is my pension paid", "a person please", identity=karen)
    live_kanal.kanal.desk.add_note(1, earlier, "She prefers mornings: https://example.org/x")
    queued_chat(live_kanal, "when is my pension paid", "a person please", identity=karen)
    queued_chat(live_kanal, "I want to talk to a person")
    ctx = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 1000})
    try:
        page = ctx.new_page()
        sign_in(page, live_kanal.url, on_form=lambda form: no_violations(form, "/login"))
        page.wait_for_url(re.compile(r".*/desk/$"))
        expect_text(page.locator("#queue-count"), "3 contacts waiting")
        no_violations(page, "the queue with three contacts waiting")

        page.get_by_role("button", name="Take next").click()
        page.wait_for_url(re.compile(rf".*/desk/contacts/{earlier}$"))
        expect_text(page.locator("#notes"), "She prefers mornings")
        expect_text(page.locator("#reply"), "Næste udbetalingsdato")  # Karen reads Danish
        no_violations(page, "a conversation with canned replies, notes and a decision trail")
        page.get_by_label("Wrap-up code").select_option("answered")
        page.get_by_label("Resolved", exact=True).check()
        page.get_by_role("button", name="Resolve and close").click()
        page.wait_for_url(re.compile(r".*/desk/$"))

        page.get_by_role("button", name="Take next").click()
        expect_text(page.locator("#history"), "Payment date")
        no_violations(page, "a conversation with an earlier contact")
        page.goto(f"{live_kanal.url}/desk/callbacks/failed")
        no_violations(page, "the failed callbacks")

        page.get_by_role("button", name="Dansk").click()
        expect_text(page.locator("h1"), "Mislykkede tilbageringninger")
        assert page.locator("html").get_attribute("lang") == "da"
        no_violations(page, "the failed callbacks in Danish")
        page.goto(f"{live_kanal.url}/desk/")
        expect_text(page.locator("#queue-count"), "1 henvendelse venter")
        no_violations(page, "the queue in Danish")
        page.locator("#mine a").first.click()
        expect_text(page.locator("#history"), "Udbetalingsdato")
        no_violations(page, "a conversation in Danish")
    finally:
        ctx.close()


def test_the_supervisor_board_passes_axe_in_english_and_danish(live_kanal, chromium):
    from datetime import timedelta

    from router.entrypoints.auth import create_user

    create_user(live_kanal.kanal.uow, "boss1", "correct horse", "supervisor", "Sigrid Supervisor")
    waiting = queued_chat(live_kanal, "I want to talk to a person")
    with live_kanal.kanal.uow() as uow:  # past the target: the row is highlighted
        item = uow.queue.open_for_contact(waiting)
        item.breach_sla(item.enqueued_at + timedelta(seconds=999), 120, 300)
        uow.commit()
    ctx = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 1000})
    try:
        page = ctx.new_page()
        sign_in(page, live_kanal.url, "boss1")
        page.goto(f"{live_kanal.url}/desk/supervisor")
        expect_text(page.locator("h1"), "Supervisor board")
        assert "sla-breached" in (page.locator(f"#item-{item.id}").get_attribute("class") or "")
        no_violations(page, "the supervisor board with a breach")
        page.get_by_label(f"Priority for contact {waiting}").select_option("5")
        page.get_by_role("button", name="Set priority").first.click()
        expect_text(page.locator(".flash"), "now has priority 5")
        page.get_by_role("button", name="Dansk").click()
        expect_text(page.locator("h1"), "Teamledertavle")
        no_violations(page, "the supervisor board in Danish")
    finally:
        ctx.close()


def test_an_agent_works_a_chat_by_keyboard_alone_in_danish_and_the_citizen_sees_it_live(
    live_kanal, chromium, shots
):
    base = live_kanal.url
    citizen_ctx = chromium.new_context(locale="da-DK")
    agent_ctx = chromium.new_context(locale="da-DK", viewport={"width": 1280, "height": 1000})
    try:
        citizen = citizen_ctx.new_page()
        citizen.goto(f"{base}/chat?lang=da")
        citizen.get_by_label("Din besked").fill("jeg vil tale med en person")
        citizen.keyboard.press("Enter")
        expect_text(citizen.locator("#kchat-state"), "Venter på en medarbejder")
        times = citizen.locator("#kchat-log time").all_inner_texts()
        assert times and all(CLOCK.match(t) for t in times), times  # 14:43, not 02:43 PM

        agent = agent_ctx.new_page()
        agent.goto(f"{base}/login")
        tab_to(agent, "username")
        agent.keyboard.type(AGENT[0])
        tab_to(agent, "password")
        agent.keyboard.type(AGENT[1])
        agent.keyboard.press("Enter")
        agent.wait_for_url(re.compile(r".*/desk/$"))
        assert agent.locator("html").get_attribute("lang") == "da"  # the browser's language
        expect_text(agent.locator("#queue-count"), "1 henvendelse venter")

        tab_to(agent, "Tag næste")
        agent.keyboard.press("Enter")
        agent.wait_for_url(re.compile(r".*/desk/contacts/\d+$"))
        expect_text(agent.locator("#transcript"), "jeg vil tale med en person")
        agent_times = agent.locator("#transcript time").all_inner_texts()
        assert agent_times and all(CLOCK.match(t) for t in agent_times), agent_times

        # A canned reply, by keyboard: it lands in the reply box, which the agent edits.
        tab_to(agent, "Brug: Andet?")
        agent.keyboard.press("Enter")
        assert agent.evaluate("document.activeElement.id") == "reply-text"
        agent.keyboard.type(" Se https://example.org/hjaelp.")
        tab_to(agent, "Send svar")
        agent.keyboard.press("Enter")
        expect_text(agent.locator(".flash"), "Svaret er sendt.")

        # The citizen's widget shows the answer live, its link clickable, its time 24-hour.
        line = citizen.locator("#kchat-log li.kchat-agent")
        expect_text(line, "Er der andet, jeg kan hjælpe dig med i dag")
        link = line.locator('a[href="https://example.org/hjaelp"]')
        assert link.inner_text() == "https://example.org/hjaelp"
        assert CLOCK.match(line.locator("time").inner_text())
        shots(citizen, "11-citizen-danish-reply-with-link")

        # Wrap-up by keyboard: a code, an outcome, resolve.
        tab_to(agent, "wrap-up")
        agent.keyboard.press("ArrowDown")
        assert agent.locator("#wrap-up").input_value() == "answered"
        agent.keyboard.press("Tab")
        agent.keyboard.press("Space")
        tab_to(agent, "Afslut og luk")
        shots(agent, "12-desk-danish-keyboard-wrap-up")
        agent.keyboard.press("Enter")
        agent.wait_for_url(re.compile(r".*/desk/$"))
        expect_text(agent.locator(".flash"), "er afsluttet")
        expect_text(citizen.locator("#kchat-state"), "Samtalen er slut")
        contact_id = int(agent.locator(".flash").inner_text().split()[1])
        with live_kanal.kanal.uow() as uow:
            resolved = [e.data for e in uow.events.for_contact(contact_id) if e.type == "resolved"]
        assert (resolved[-1]["wrap_up"], resolved[-1]["outcome"]) == ("answered", "resolved")
    finally:
        citizen_ctx.close()
        agent_ctx.close()


def test_an_offer_made_while_the_agent_watches_the_queue_is_drawn_without_a_reload(
    live_kanal, chromium
):
    kanal = live_kanal.kanal
    with kanal.uow() as uow:
        agent = uow.users.by_username(AGENT[0]).id
    ctx = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 1000})
    try:
        page = ctx.new_page()
        sign_in(page, live_kanal.url)
        page.wait_for_url(re.compile(r".*/desk/$"))
        page.evaluate("window.__same_page = true")  # gone if the page were loaded again
        kanal.assignments.set_presence(agent, "available")
        contact = queued_chat(live_kanal, "I want to talk to a person")
        assert kanal.assignments.offer_waiting()["offered"] >= 1
        expect_text(page.locator("#offers"), f"Contact {contact} is offered to you")
        expect_text(page.locator("#offers .offer-left"), "Time left:")
        assert page.evaluate("window.__same_page === true"), "the page was reloaded"
        no_violations(page, "the queue with an offer drawn live")
        offer = page.locator("li[data-offer]", has_text=f"Contact {contact} is offered to you")
        offer.get_by_role("button", name="Accept").click()
        page.wait_for_url(re.compile(rf".*/desk/contacts/{contact}$"))
        assert kanal.views.contact(contact).agent_id == agent
    finally:
        ctx.close()


def test_an_offer_is_accepted_by_keyboard_and_a_supervisor_reads_the_agents_day(
    live_kanal, chromium
):
    from router.entrypoints.auth import create_user

    kanal = live_kanal.kanal
    contact = queued_chat(live_kanal, "I want to talk to a person")
    with kanal.uow() as uow:
        agent = uow.users.by_username(AGENT[0]).id
    kanal.assignments.set_presence(agent, "available")
    assert kanal.assignments.offer_waiting()["offered"] == 1
    create_user(kanal.uow, "boss2", "correct horse", "supervisor", "Sigrid Supervisor")
    ctx = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 1000})
    try:
        page = ctx.new_page()
        sign_in(page, live_kanal.url)
        page.wait_for_url(re.compile(r".*/desk/$"))
        expect_text(page.locator("#offers"), f"Contact {contact} is offered to you")
        expect_text(page.locator("#offers .offer-left"), "Time left:")
        no_violations(page, "the queue with a contact offered to the agent")
        tab_to(page, "Accept")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf".*/desk/contacts/{contact}$"))
        assert kanal.views.contact(contact).agent_id == agent

        boss = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 1000})
        board = boss.new_page()
        sign_in(board, live_kanal.url, "boss2")
        board.goto(f"{live_kanal.url}/desk/supervisor")
        board.get_by_role("link", name=AGENT[0]).click()
        expect_text(board.locator("h1"), f"{AGENT[0]}'s day")
        expect_text(board.locator("#presence-changes"), "available")
        no_violations(board, "an agent's day")
        board.get_by_role("button", name="Dansk").click()
        expect_text(board.locator("h1"), f"{AGENT[0]}s dag")
        no_violations(board, "an agent's day in Danish")
        boss.close()
    finally:
        ctx.close()
