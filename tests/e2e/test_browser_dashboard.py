"""The front door and the managers' dashboard in a real browser (Debian's Chromium).

A citizen finds the chat from `/`; a manager signs in from `/`, lands on the dashboard, sees
charts drawn by the Chart.js kanal serves and the tables beside them, changes the period and
the grouping, switches to Danish and prints; axe finds no serious violation on any of it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from router.domain.commands import AgentReply, ClaimNext, ReceiveMessage, Resolve, StartChat
from router.domain.surge import Surge, SurgeThresholds
from router.entrypoints.auth import create_user
from router.service.journal import record_for_service
from tests.e2e.conftest import SHOTS, serious_violations

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

MANAGER = ("manager1", "correct horse")
WAIT_MS = 10_000


def expect_text(locator, text):
    from playwright.sync_api import expect

    expect(locator).to_contain_text(text, timeout=WAIT_MS)


def no_serious_violations(page, what):
    """axe finds nothing on these pages: no violation of any impact, minor ones included."""
    from axe_playwright_python.sync_playwright import Axe

    found = serious_violations(page)
    assert not found, f"axe on {what}: " + "; ".join(found)
    others = [f"{v['id']} ({v['impact']})" for v in Axe().run(page).response["violations"]]
    assert not others, f"axe on {what}: " + "; ".join(others)


@pytest.fixture
def traffic(live_kanal):
    """Today's contacts: three chats the bot answers, one that asks for a person."""
    kanal = live_kanal.kanal
    agent = create_user(kanal.uow, "agent2", "correct horse", "agent").id
    create_user(kanal.uow, MANAGER[0], MANAGER[1], "manager", "Mona Manager")
    for n, texts in enumerate(
        (
            ("When is my pension paid?", "bye"),
            ("pension payment date?", "bye"),
            ("hello", "I want to talk to a person"),
            ("When is my pension paid?",),
        )
    ):
        session = f"browser-{n}"
        contact = kanal.turns.start_chat(StartChat(secret_hash="x" * 64), address=session)
        for text in texts:
            kanal.turns.receive(
                ReceiveMessage(channel="webchat", address=session, text=text, contact_id=contact)
            )
    claimed = kanal.desk.claim_next(ClaimNext(agent_id=agent))
    kanal.desk.reply(AgentReply(agent, claimed.contact_id, "Here is the answer."))
    kanal.desk.resolve(Resolve(agent, claimed.contact_id, "answered", completed=True))
    # A surge that ended a quarter of an hour ago: the surge mode section draws it.
    now = datetime.now(UTC)
    surge, limits = Surge(), SurgeThresholds(900, 300, 600)
    surge.watch(960, now - timedelta(minutes=30), limits, "denmark")
    surge.watch(120, now - timedelta(minutes=15), limits, "denmark")
    with kanal.uow() as uow:
        record_for_service(uow, surge, channel="all", at=now)
        uow.commit()


def kpi(page, field: str) -> str:
    return page.locator(f'#kpis [data-field="{field}"]').inner_text()


def test_a_citizen_finds_the_chat_from_the_front_door_in_danish(live_kanal, chromium, shots):
    ctx = chromium.new_context(locale="da-DK", viewport={"width": 400, "height": 800})
    try:
        page = ctx.new_page()
        page.goto(live_kanal.url + "/")
        assert page.locator("html").get_attribute("lang") == "da"
        expect_text(page.locator("h1"), "Hjælp og kontakt")
        no_serious_violations(page, "/ in Danish at 400 px")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"the front door scrolls sideways at 400 px ({width} px wide)"
        shots(page, "20-front-door-da")
        page.get_by_role("link", name="Chat med os").click()
        page.wait_for_url(re.compile(r".*/chat\?lang=da$"))
        expect_text(page.locator("h1"), "Stil os et spørgsmål")
    finally:
        ctx.close()


def test_a_manager_signs_in_from_the_front_door_and_reads_the_dashboard(
    live_kanal, chromium, shots, traffic
):
    ctx = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 1000})
    try:
        page = ctx.new_page()
        page.goto(live_kanal.url + "/")
        expect_text(page.locator("h1"), "Help and contact about your social security")
        no_serious_violations(page, "/")
        shots(page, "21-front-door-en")

        # Sign in: the manager lands on the dashboard, not on a 403.
        page.get_by_role("link", name="Sign in").click()
        page.get_by_label("Username").fill(MANAGER[0])
        page.get_by_label("Password").fill(MANAGER[1])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r".*/dashboard(\?lang=en)?$"))
        expect_text(page.locator("h1"), "Channel shift dashboard")

        # Charts drawn by the Chart.js kanal serves, each with its table: 10 with occupancy's
        # (the agent who served was signed in, available, from their Take next) and the
        # surge's.
        page.wait_for_function("Object.keys(Chart.instances).length === 10")
        for canvas in page.locator("canvas[data-chart]").all():
            assert canvas.get_attribute("role") == "img"
            assert canvas.get_attribute("aria-label")
        for table in ("trend-table", "channels-table", "handoffs-table", "funnel-table",
                      "occupancy-table", "surges-table", "surge-days-table"):  # fmt: skip
            assert page.locator(f"#{table} caption").count() == 1
        expect_text(page.locator("#surge-days-table tfoot"), "15 min")
        assert kpi(page, "contacts") == "4"
        expect_text(page.locator("#handoffs-table"), "person-requested")
        assert page.locator("#groups-table tbody tr").count() == 1  # web chat only
        no_serious_violations(page, "/dashboard")
        shots(page, "22-dashboard-en")

        # A period before any contact: the figures change to none.
        page.get_by_label("From", exact=True).fill("2025-01-06")
        page.get_by_label("To", exact=True).fill("2025-01-19")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(re.compile(r".*from=2025-01-06.*"))
        assert kpi(page, "contacts") == "0"
        assert kpi(page, "digital_take_up") == "–"
        expect_text(page.locator("#channels-table"), "No contacts in this period.")
        expect_text(page.locator("#no-surges"), "Surge mode was not on in this period.")
        assert page.locator("#trend-table tbody tr").count() == 2  # two weeks

        # Back to today, grouped by exemption: the groups table follows the grouping.
        page.goto(live_kanal.url + "/dashboard?lang=en")
        page.get_by_label("Group by").select_option("exempt")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(re.compile(r".*group_by=exempt.*"))
        expect_text(page.locator("#groups-h"), "Exemption")
        expect_text(page.locator("#groups-table tbody"), "not identified")

        # Danish, with the same period and grouping.
        page.get_by_role("link", name="Dansk").click()
        page.wait_for_url(re.compile(r".*lang=da.*"))
        assert page.locator("html").get_attribute("lang") == "da"
        expect_text(page.locator("h1"), "Overblik over kanalskift")
        expect_text(page.locator("#kpis"), "Mål: mindst 80,0 %")
        assert page.get_by_label("Gruppér efter").input_value() == "exempt"
        page.wait_for_function("Object.keys(Chart.instances).length === 10")
        expect_text(page.locator("#occupancy-table caption"), "Belægning pr. dag")
        expect_text(page.locator("#surges-h"), "Spidsbelastning")
        no_serious_violations(page, "/dashboard in Danish")
        shots(page, "23-dashboard-da")

        # The policy simulator, from the dashboard, in Danish.
        page.get_by_role(
            "link", name="Politiksimulator: denne periode under en anden profil"
        ).click()
        page.wait_for_url(re.compile(r".*/dashboard/simulate\?.*lang=da.*"))
        expect_text(page.locator("h1"), "Politiksimulator")
        page.get_by_label("Politikprofil").select_option("australia")
        page.get_by_role("button", name="Simulér").click()
        page.wait_for_url(re.compile(r".*profile=australia.*"))
        expect_text(page.locator("#side-table"), "Under australia")
        page.wait_for_function("Object.keys(Chart.instances).length === 1")
        no_serious_violations(page, "/dashboard/simulate in Danish")
        shots(page, "25-simulator-da")
        page.go_back()
        page.go_back()

        # Print: no navigation or filters, the tables stay.
        page.emulate_media(media="print")
        assert page.locator("form.filters").is_hidden()
        assert page.locator("header.top nav").is_hidden()
        assert page.locator("#fairness-exempt").is_visible()
        page.pdf(path=str(SHOTS / "24-dashboard-print.pdf"))
    finally:
        ctx.close()


def test_an_agent_is_refused_the_dashboard_and_shown_the_way_back(live_kanal, chromium):
    ctx = chromium.new_context(locale="en-GB")
    try:
        page = ctx.new_page()
        page.goto(live_kanal.url + "/dashboard")
        page.wait_for_url(re.compile(r".*/login\?next=.*"))
        page.get_by_label("Username").fill("agent1")
        page.get_by_label("Password").fill("correct horse")
        page.get_by_role("button", name="Sign in").click()
        expect_text(page.locator("h1"), "Not allowed")
        no_serious_violations(page, "the 403 page")
        page.get_by_role("link", name="Go to the pages your role is for").click()
        expect_text(page.locator("main"), "The desk: the queue and conversations")
    finally:
        ctx.close()
