"""The desk's journeys in headless Chromium, on one served kanal for the module: two agents
pressing Take next at the same moment never get the same conversation; a transfer reaches
the next person with its note; a supervisor's move and change of priority decide what an
agent takes next; an agent who types the address of another queue's conversation is refused
(403) and the attempt is in the audit log. axe-core (WCAG 2.1 AA) checks every kind of page
the journeys visit."""

from __future__ import annotations

import re

import pytest

from router.domain import events as ev
from tests.e2e.conftest import sign_in, staff_member
from tests.e2e.test_browser_desk import expect_text, no_violations, queued_chat

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CONVERSATION = re.compile(r".*/desk/contacts/(\d+)$")


def agent_with(live, username: str, skills: list[str], role: str = "agent") -> int:
    """A member of staff serving the queues of `skills` ([] : every queue)."""
    user_id = staff_member(live, username, role)
    live.kanal.assignments.set_profile(user_id, skills=skills, languages=[], capacity={})
    return user_id


def signed_in(chromium, live, username: str):
    """A browser context of its own, signed in as `username`; return (context, page)."""
    ctx = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 1000})
    page = ctx.new_page()
    sign_in(page, live.url, username)
    return ctx, page


def take_next(page) -> int:
    """Press Take next on the queue page; return the contact the agent was given."""
    page.get_by_role("button", name="Take next").click()
    page.wait_for_url(CONVERSATION)
    return int(CONVERSATION.match(page.url).group(1))


def item_of(live, contact_id: int):
    with live.kanal.uow() as uow:
        return uow.queue.open_for_contact(contact_id)


def test_two_agents_taking_next_at_once_never_get_the_same_conversation(desk_kanal, chromium):
    live = desk_kanal
    for name in ("twin1", "twin2"):
        agent_with(live, name, [])
    waiting = {queued_chat(live, "I want to talk to a person") for _ in range(6)}
    sessions = [signed_in(chromium, live, name) for name in ("twin1", "twin2")]
    pages = [page for _ctx, page in sessions]
    taken: dict[int, list[int]] = {0: [], 1: []}
    try:
        for turn in range(3):  # each may hold three chats: six presses, six contacts
            for page in pages:
                page.goto(f"{live.url}/desk/")
            if turn == 0:
                expect_text(pages[0].locator("#queue-count"), "6 contacts waiting")
                no_violations(pages[0], "the queue with six contacts waiting")
            # Both forms are sent at the same moment of the machine's clock (one Chromium).
            at = pages[0].evaluate("Date.now() + 400")
            for page in pages:
                page.evaluate(
                    """at => setTimeout(() => document.querySelector(
                        "form[action$='/desk/claim']").submit(), at - Date.now())""",
                    at,
                )
            for i, page in enumerate(pages):
                page.wait_for_url(CONVERSATION)
                contact_id = int(CONVERSATION.match(page.url).group(1))
                expect_text(page.locator(".flash"), f"You took contact {contact_id}")
                taken[i].append(contact_id)
        no_violations(pages[1], "a conversation taken in a race")
    finally:
        for ctx, _page in sessions:
            ctx.close()
    everything = taken[0] + taken[1]
    assert len(everything) == len(set(everything)) == 6, taken
    assert set(everything) == waiting
    with live.kanal.uow() as uow:
        for contact_id in everything:
            assigned = [
                e for e in uow.events.for_contact(contact_id) if e.type == ev.AGENT_ASSIGNED
            ]
            assert len(assigned) == 1, (contact_id, [e.data for e in assigned])


def test_a_transfer_lands_with_its_note_for_an_agent_and_for_a_queue(desk_kanal, chromium):
    live = desk_kanal
    agent_with(live, "alma", [])
    agent_with(live, "bent", [])
    pension = queued_chat(live, "when is my pension paid", "a person please")
    alma_ctx, alma = signed_in(chromium, live, "alma")
    bent_ctx, bent = signed_in(chromium, live, "bent")
    try:
        assert take_next(alma) == pension
        alma.get_by_label("Or to the agent (username)").fill("bent")
        alma.get_by_label("Note for the next person").fill(
            "Karen asked for the form by post; she hears badly on the phone."
        )
        no_violations(alma, "a conversation with the transfer form filled in")
        alma.locator("#transfer").get_by_role("button", name="Transfer").click()
        expect_text(alma.locator(".flash"), f"Contact {pension} is offered to bent.")

        bent.goto(f"{live.url}/desk/")
        assert take_next(bent) == pension  # the offer to bent comes first
        expect_text(bent.locator("#transfers"), "she hears badly on the phone")
        expect_text(bent.locator("#transfers"), "general → general")
        no_violations(bent, "a conversation with a transfer and its note")

        # bent hands it on to another queue with a note of his own; alma takes it there.
        bent.get_by_label("To the queue").select_option("pension")
        bent.get_by_label("Note for the next person").fill("Pension paid on the 1st: confirm.")
        bent.locator("#transfer").get_by_role("button", name="Transfer").click()
        expect_text(bent.locator(".flash"), f"Contact {pension} is waiting in the queue pension.")
        alma.goto(f"{live.url}/desk/")
        assert take_next(alma) == pension
        notes = alma.locator("#transfers li")
        expect_text(notes.nth(0), "she hears badly on the phone")
        expect_text(notes.nth(1), "general → pension: Pension paid on the 1st: confirm.")
    finally:
        alma_ctx.close()
        bent_ctx.close()


def test_the_supervisor_moves_an_item_and_raises_a_priority_and_it_decides_what_comes_next(
    desk_kanal, chromium
):
    live = desk_kanal
    staff_member(live, "sigrid", "supervisor", "Sigrid Supervisor")
    agent_with(live, "pia", ["pension"])  # serves the pension queue only
    agent_with(live, "paul", ["general"])  # serves the general queue only
    older, moved, newer = (queued_chat(live, "I want to talk to a person") for _ in range(3))
    assert {item_of(live, c).queue for c in (older, moved, newer)} == {"general"}
    boss_ctx, boss = signed_in(chromium, live, "sigrid")
    pia_ctx, pia = signed_in(chromium, live, "pia")
    paul_ctx, paul = signed_in(chromium, live, "paul")
    try:
        pia.goto(f"{live.url}/desk/")
        expect_text(pia.locator("#queue-count"), "0 contacts waiting")

        boss.goto(f"{live.url}/desk/supervisor")
        no_violations(boss, "the supervisor board with three contacts waiting")
        item = item_of(live, moved).id
        boss.get_by_label(f"Queue for contact {moved}").select_option("pension")
        boss.locator(f"#item-{item}").get_by_role("button", name="Move").click()
        expect_text(boss.locator(".flash"), f"Item {item} moved to pension.")
        expect_text(boss.locator(f"#item-{item}"), "pension")

        raised = item_of(live, newer).id
        boss.get_by_label(f"Priority for contact {newer}").select_option("5")
        boss.locator(f"#item-{raised}").get_by_role("button", name="Set priority").click()
        expect_text(boss.locator(".flash"), f"Item {raised} now has priority 5.")
        expect_text(boss.locator(f"#item-{raised} .prio-high"), "5")
        no_violations(boss, "the supervisor board after a move and a new priority")

        # The move: the pension agent now has it; the general agent never sees it.
        pia.goto(f"{live.url}/desk/")
        expect_text(pia.locator("#queue-count"), "1 contact waiting")
        assert take_next(pia) == moved
        # The priority: the newer contact goes first, then the one that waited longest.
        paul.goto(f"{live.url}/desk/")
        expect_text(paul.locator("#queue-count"), "2 contacts waiting")
        assert take_next(paul) == newer
        paul.goto(f"{live.url}/desk/")
        assert take_next(paul) == older
    finally:
        for ctx in (boss_ctx, pia_ctx, paul_ctx):
            ctx.close()


def test_an_agent_cannot_open_another_queues_conversation_and_the_attempt_is_audited(
    desk_kanal, chromium
):
    live = desk_kanal
    otto = agent_with(live, "otto", ["housing"])  # serves the housing queue only
    general = queued_chat(live, "I want to talk to a person", "my secret words")
    ctx, page = signed_in(chromium, live, "otto")
    try:
        page.goto(f"{live.url}/desk/")
        assert page.locator(f'#waiting tr[data-contact="{general}"]').count() == 0
        refused = page.goto(f"{live.url}/desk/contacts/{general}")
        assert refused.status == 403
        expect_text(page.locator("h1"), "Not allowed")
        expect_text(page.locator("main"), "another queue's conversation")
        assert "my secret words" not in page.content()
        no_violations(page, "the refusal (403)")
        json_refused = page.goto(f"{live.url}/desk/contacts/{general}/messages.json")
        assert json_refused.status == 403
    finally:
        ctx.close()
    with live.kanal.uow() as uow:
        mine = [e for e in uow.audit.between() if e.user_id == otto and e.contact_id == general]
    assert [(e.action, e.allowed, e.reason, e.route) for e in mine] == [
        ("conversation", False, "another queue's conversation", f"GET /desk/contacts/{general}"),
        (
            "conversation_json",
            False,
            "another queue's conversation",
            f"GET /desk/contacts/{general}/messages.json",
        ),
    ]


def test_the_supervisor_board_updates_itself_and_lists_low_ratings(desk_kanal, chromium):
    from router.domain.commands import ClaimNext, Resolve

    live = desk_kanal
    staff_member(live, "sigrid", "supervisor", "Sigrid Supervisor")
    agent = agent_with(live, "rita", [])
    rated = queued_chat(live, "I want to talk to a person")
    assert live.kanal.desk.claim_next(ClaimNext(agent_id=agent, skills=())).contact_id == rated
    live.kanal.desk.resolve(
        Resolve(agent_id=agent, contact_id=rated, wrap_up="answered", outcome="resolved")
    )
    live.kanal.surveys.rate_call(rated, 1)
    ctx, boss = signed_in(chromium, live, "sigrid")
    try:
        boss.goto(f"{live.url}/desk/supervisor")
        expect_text(boss.locator(f"#rating-{rated}"), "1 of 5")
        boss.locator(f"#rating-{rated} a").wait_for()
        expect_text(boss.locator("#board"), "Nobody is waiting right now.")
        boss.evaluate("window.sameBoard = true")  # gone if the page were loaded again

        arrived = queued_chat(live, "I want to talk to a person")
        row = boss.locator(f"#item-{item_of(live, arrived).id}")
        expect_text(row, f"Contact {arrived}")  # pushed: the stream, then the board's part
        assert boss.evaluate("window.sameBoard") is True
        no_violations(boss, "the supervisor board drawn again live, with a low rating")

        # A choice made and not yet sent is never drawn over: the board waits for it.
        boss.get_by_label(f"Priority for contact {arrived}").select_option("3")
        boss.locator("h1").click()  # focus leaves the board; the choice stays unsent
        later = queued_chat(live, "I want to talk to a person")
        boss.wait_for_timeout(2000)
        assert boss.locator(f"#item-{item_of(live, later).id}").count() == 0
        assert boss.get_by_label(f"Priority for contact {arrived}").input_value() == "3"
        row.get_by_role("button", name="Set priority").click()
        expect_text(boss.locator(".flash"), "now has priority 3")
        expect_text(boss.locator(f"#item-{item_of(live, later).id}"), f"Contact {later}")
    finally:
        ctx.close()
