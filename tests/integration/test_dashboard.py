"""The front door, where staff land after signing in, and the managers' dashboard.

The dashboard's figures are checked against the JSON API for the same period on a scripted
history of two weeks (Monday 2 to Sunday 15 March 2026), made through the real service on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from analytics.simulator import ASSUMPTIONS, MIN_SAMPLE
from router import create_app
from router.domain.commands import AgentReply, ClaimNext, ReceiveMessage, Resolve, StartChat
from router.entrypoints.auth import create_token, create_user
from router.entrypoints.bootstrap import kanal_of
from router.service.housekeeping import close_inactive
from router.service.translations import translator
from tests.integration.metrics_support import Clock, clocked_app

pytestmark = pytest.mark.integration

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Copenhagen
API = "/api/v1/metrics/channel-shift"
PASSWORD = "correct horse"


class Page(HTMLParser):
    """What a test reads off the dashboard: each table's cells by group and field."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, dict[str, str]]] = {}
        self.kpis: dict[str, str] = {}
        self.charts: dict | None = None
        self._table = self._group = None
        self._in_kpis = self._in_charts = False
        self._chart_text = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = {}
        elif tag == "tr" and self._table:
            self._group = a.get("data-group")
        elif tag == "td" and self._table and self._group and "data-field" in a:
            self.tables[self._table].setdefault(self._group, {})[a["data-field"]] = a["data-value"]
        elif tag == "ul" and a.get("id") == "kpis":
            self._in_kpis = True
        elif tag == "span" and self._in_kpis and "data-field" in a:
            self.kpis[a["data-field"]] = a["data-value"]
        elif tag == "script" and a.get("id") == "dashboard-charts":
            self._in_charts = True

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "tr":
            self._group = None
        elif tag == "ul":
            self._in_kpis = False
        elif tag == "script" and self._in_charts:
            self._in_charts = False
            self.charts = json.loads(self._chart_text)

    def handle_data(self, data):
        if self._in_charts:
            self._chart_text += data


def value(text: str):
    """A data-value as the API gives it: an int, a float, or None for an empty cell."""
    if text == "":
        return None
    return float(text) if "." in text else int(text)


@pytest.fixture
def clock():
    return Clock(MONDAY)


@pytest.fixture
def app(app_config, bot, clock):
    yield from clocked_app(app_config, bot, clock)


def sign_in(client, username: str, **query):
    return client.post(
        "/login", query_string=query, data={"username": username, "password": PASSWORD}
    )


@pytest.fixture
def people(kanal):
    for role in ("agent", "supervisor", "manager", "admin", "integration"):
        create_user(kanal.uow, role, PASSWORD, role)
    return {"Authorization": "Bearer " + create_token(kanal.uow, "dashboard test", "manager")}


@pytest.fixture
def history(kanal, clock, bot, add_citizen):
    """Two weeks of contacts on web chat, SMS and the phone, by citizens of several groups."""
    turns, desk = kanal.turns, kanal.desk
    agent = create_user(kanal.uow, "agent1", PASSWORD, "agent").id
    sessions = iter(range(10_000))
    sids = iter(range(10_000))

    def chat(pseudonym, *texts):
        session = f"s{next(sessions)}"
        contact = turns.start_chat(
            StartChat(secret_hash="x" * 64, citizen_pseudonym=pseudonym), address=session
        )
        for text in texts:
            turns.receive(
                ReceiveMessage(channel="webchat", address=session, text=text, contact_id=contact)
            )
        return contact

    def write(channel, phone, *texts):
        for text in texts:
            turns.receive(
                ReceiveMessage(
                    channel=channel, address=phone, text=text, provider_id=f"p{next(sids)}"
                )
            )

    def serve():
        claimed = desk.claim_next(ClaimNext(agent_id=agent))
        desk.reply(AgentReply(agent, claimed.contact_id, "Here is the answer."))
        desk.resolve(Resolve(agent, claimed.contact_id, "answered", completed=True))

    old = [add_citizen(phone=f"+452000010{i}", birth_year=1940) for i in range(3)]
    young = [add_citizen(phone=f"+452000020{i}", birth_year=1990) for i in range(3)]
    exempt_phone = "+4520000301"
    add_citizen(phone=exempt_phone, exempt_ground="impairment", birth_year=1950)
    for week in range(2):
        start = MONDAY + timedelta(days=7 * week)
        # Young citizens ask the bot and say goodbye: contained, completed digitally.
        for i, pseudonym in enumerate(young):
            clock.now = start + timedelta(minutes=i)
            chat(pseudonym, "When is my pension paid?", "bye")
        # Older citizens ask for a person; an agent answers them on the chat.
        for i, pseudonym in enumerate(old[: 1 + week]):
            clock.now = start + timedelta(minutes=10 + i)
            chat(pseudonym, "hello", "I want to talk to a person")
            serve()
        # An older citizen's SMS is not understood twice: handed off, still waiting.
        clock.now = start + timedelta(minutes=20)
        write("sms", f"+452000010{week}", "xyzzy", "qwerty")
        # The exempt citizen calls: straight to a person, who completes the need.
        clock.now = start + timedelta(minutes=30)
        write("voice", exempt_phone, "I need help with my pension")
        serve()
        # An anonymous chat that leaves without a word more: closed for inactivity.
        clock.now = start + timedelta(minutes=40)
        chat(None, "pension payment date?")
        clock.now = start + timedelta(minutes=80)
        close_inactive(kanal.uow, kanal.channels, clock())
        # The SMS waits until the agent takes it.
        serve()
    clock.now = MONDAY + timedelta(days=30)


def api(client, headers, first, last, group_by="channel", **more):
    response = client.get(
        API,
        query_string={"from": first, "to": last, "group_by": group_by, **more},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def dashboard(client, **query) -> Page:
    response = client.get("/dashboard", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return Page(response.get_data(as_text=True))


# -- the front door --------------------------------------------------------------------------


def test_the_front_door_leads_citizens_to_the_chat_and_staff_to_sign_in(client):
    page = client.get("/", query_string={"lang": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert 'href="/chat?lang=en"' in html and ">Chat with us<" in html
    assert 'href="/login?lang=en"' in html and ">Sign in<" in html
    # In development: the API document (and the sandbox outbox, in sandbox mode).
    assert 'href="/api/v1/openapi.json"' in html


def test_the_front_door_speaks_danish(client):
    html = client.get("/", query_string={"lang": "da"}).get_data(as_text=True)
    assert '<html lang="da">' in html
    assert ">Chat med os<" in html and ">Log ind<" in html
    assert 'href="/chat?lang=da"' in html
    # The browser's language decides when the address does not.
    html = client.get("/", headers={"Accept-Language": "da-DK,da;q=0.9"}).get_data(as_text=True)
    assert '<html lang="da">' in html


def test_the_sign_in_page_speaks_the_language_the_front_door_asked_for(client, people):
    assert ">Log ind i kanal<" in client.get("/login?lang=da").get_data(as_text=True)
    wrong = client.post("/login?lang=da", data={"username": "manager", "password": "nope"})
    assert wrong.status_code == 401
    assert "Forkert brugernavn eller adgangskode." in wrong.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "lands"),
    [
        ("manager", "/dashboard"),
        ("supervisor", "/desk/"),
        ("agent", "/desk/"),
        ("admin", "/desk/"),
        ("integration", "/"),
    ],
)
def test_staff_land_on_the_page_their_role_is_for(client, people, role, lands):
    response = sign_in(client, role)
    assert response.status_code == 302
    assert response.headers["Location"] == lands
    assert client.get(lands).status_code == 200


def test_a_manager_who_signs_in_from_the_danish_front_door_sees_the_danish_dashboard(
    client, people
):
    response = sign_in(client, "manager", lang="da")
    assert response.headers["Location"] == "/dashboard?lang=da"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<html lang="da">' in html and "Overblik over kanalskift" in html


def test_the_page_that_asked_for_sign_in_comes_first(client, people):
    response = sign_in(client, "manager", next="/api/v1/openapi.json")
    assert response.headers["Location"] == "/api/v1/openapi.json"


def test_signed_in_staff_see_their_pages_on_the_front_door(client, people):
    sign_in(client, "manager")
    html = client.get("/?lang=en").get_data(as_text=True)
    assert 'href="/dashboard?lang=en"' in html and 'href="/desk/"' not in html
    client.post("/logout")
    sign_in(client, "supervisor")
    html = client.get("/?lang=en").get_data(as_text=True)
    assert 'href="/dashboard?lang=en"' in html and 'href="/desk/"' in html


def test_a_manager_refused_the_desk_is_shown_the_way_back(client, people):
    sign_in(client, "manager")
    refused = client.get("/desk/")
    assert refused.status_code == 403
    assert 'href="/?lang=en"' in refused.get_data(as_text=True)


# -- the dashboard: who may open it ----------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("manager", 200), ("supervisor", 200), ("admin", 200), ("agent", 403), ("integration", 403)],
)
def test_the_dashboard_is_for_managers_and_supervisors(client, people, role, status):
    sign_in(client, role)
    assert client.get("/dashboard").status_code == status


def test_someone_not_signed_in_is_sent_to_sign_in_and_back(client, people):
    response = client.get("/dashboard?from=2026-03-02&to=2026-03-08")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    back = sign_in(client, "manager", next="/dashboard?from=2026-03-02&to=2026-03-08")
    assert back.headers["Location"] == "/dashboard?from=2026-03-02&to=2026-03-08"


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-03-09", "to": "2026-03-02"},
        {"from": "2026-13-01", "to": "2026-03-02"},
        {"from": "2024-01-01", "to": "2026-03-02"},
        {"from": "2026-03-02", "to": "2026-03-08", "group_by": "shoe_size"},
    ],
)
def test_a_period_or_grouping_the_page_cannot_show_answers_400_with_the_form(client, people, query):
    sign_in(client, "manager")
    response = client.get("/dashboard", query_string={**query, "lang": "en"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and '<form method="get"' in html


# -- the dashboard's figures are the API's ---------------------------------------------------


def same_figures(page: Page, client, headers, first, last, **narrowed) -> int:
    """Assert that every cell of the page is the API's for the same period; count them."""
    checked = 0
    for group_by, tables in (
        ("age_band", ("groups-table", "fairness-age_band")),
        ("channel", ("channels-table", "service-table", "cost-table")),
        ("exempt", ("fairness-exempt",)),
        ("language", ("fairness-language",)),
    ):
        body = api(client, headers, first, last, group_by, **narrowed)
        rows = {row["group"]: row for row in body["rows"]} | {"all": body["total"]}
        for table in tables:
            shown = page.tables[table]
            assert set(shown) - {"all"} == set(rows) - {"all"}, table
            for group, cells in shown.items():
                for field, text in cells.items():
                    assert value(text) == rows[group][field], (table, group, field)
                    checked += 1
    total = api(client, headers, first, last, **narrowed)["total"]
    for field, text in page.kpis.items():
        assert value(text) == total[field], field
        checked += 1
    return checked


def test_every_figure_on_the_dashboard_is_the_apis_for_the_same_period(client, people, history):
    sign_in(client, "manager")
    first, last = "2026-03-02", "2026-03-15"
    page = dashboard(client, **{"from": first, "to": last, "group_by": "age_band", "lang": "en"})
    assert same_figures(page, client, people, first, last) > 150
    total = api(client, people, first, last)["total"]
    # The weekly trend is each week's report.
    weekly = page.tables["trend-table"]
    assert list(weekly) == ["2026-03-02", "2026-03-09"]
    for monday, sunday in (("2026-03-02", "2026-03-08"), ("2026-03-09", "2026-03-15")):
        week = api(client, people, monday, sunday, "none")["total"]
        for field, text in weekly[monday].items():
            assert value(text) == week[field], (monday, field)
    # The charts draw the same figures.
    assert page.charts["volume"]["series"][0]["values"] == [
        api(client, people, m, s)["total"]["contacts"]
        for m, s in (("2026-03-02", "2026-03-08"), ("2026-03-09", "2026-03-15"))
    ]
    assert page.charts["handoffs"]["labels"] == list(total["handoff_reasons"])
    # The channel migration is the API's against the two weeks before.
    moved = api(
        client,
        people,
        first,
        last,
        compare_from="2026-02-16",
        compare_to="2026-03-01",
    )["migration"]["matrix"]
    shown = page.tables["migration-table"]
    assert {g: {k: value(v) for k, v in row.items()} for g, row in shown.items()} == {
        g: {k: row.get(k, 0) for k in shown[g]} for g, row in moved.items()
    }


def test_from_the_daily_rollup_the_page_shows_the_same_figures_and_says_so(
    client, people, history, kanal
):
    from analytics import rollup_tables
    from router.entrypoints.jobs import refresh_metric_rollups

    sign_in(client, "manager")
    query = {"from": "2026-03-02", "to": "2026-03-15", "group_by": "exempt", "lang": "en"}
    live = client.get("/dashboard", query_string=query).get_data(as_text=True)
    assert "Figures computed from the event log now" in live
    refresh_metric_rollups(kanal)
    try:
        rolled = client.get("/dashboard", query_string=query).get_data(as_text=True)
        assert "Figures from the daily rollup, as of 20" in rolled
        before, after = Page(live), Page(rolled)
        # Every table, headline and chart: the groupings, the weeks and the migration.
        assert after.tables == before.tables and len(after.tables) > 8
        assert after.kpis == before.kpis and after.charts == before.charts
        danish = client.get("/dashboard", query_string={**query, "lang": "da"})
        assert "Tallene er fra den daglige opsummering, opdateret" in danish.get_data(as_text=True)
    finally:
        rollup_tables.drop_tables(kanal.engine)


def test_narrowed_to_a_group_the_figures_are_the_apis_with_its_filter(client, people, history):
    sign_in(client, "manager")
    first, last = "2026-03-02", "2026-03-15"
    page = dashboard(
        client,
        **{"from": first, "to": last, "group_by": "age_band", "only": "exempt:not_exempt"},
    )
    assert value(page.kpis["contacts"]) == 11
    assert same_figures(page, client, people, first, last, exempt="not_exempt") > 100


def test_the_scripted_history_gives_the_figures_counted_by_hand(client, people, history):
    sign_in(client, "manager")
    page = dashboard(client, **{"from": "2026-03-02", "to": "2026-03-15", "lang": "en"})
    # Week one: 3 young chats, 1 older chat, 1 SMS, 1 call, 1 anonymous chat; week two has
    # one older chat more.
    assert value(page.kpis["contacts"]) == 7 + 8
    channels = page.tables["channels-table"]
    assert [value(channels[c]["contacts"]) for c in ("webchat", "sms", "voice")] == [11, 2, 2]
    # The bot had every contact but the calls; 3 asked for a person and 2 SMS failed twice.
    assert value(page.kpis["handoff_rate"]) == round(5 / 13, 4)
    # Contained: the young citizens' second week (their first was repeated within 7 days)
    # and the two anonymous chats.
    assert value(page.tables["groups-table"]["all"]["bot_containment"]) == round(5 / 13, 4)
    # Twelve needs (the young citizens' second week continues their first week's need), all
    # completed: five by self-service (the young citizens' and the anonymous chats), seven by
    # a person (chats, SMS and calls), which is not digital take-up.
    assert value(page.kpis["completion_rate"]) == 1.0
    assert value(page.kpis["digital_take_up"]) == round(5 / 12, 4)
    # Seven contacts queued for a person; the two SMS waited an hour (the agent served the
    # call and the chat first), the others were answered at once.
    assert value(page.tables["service-table"]["all"]["service_level"]) == round(5 / 7, 4)
    # Fairness: the non-exempt's containment (3 of 11) is 11 points below everyone's (5 of
    # 13): flagged. The 80-plus were all handed off, but 5 bot conversations are too few to
    # flag; the non-exempt's digital take-up (3 of 8) is 4 points from everyone's (5 of 12).
    html = client.get(
        "/dashboard", query_string={"from": "2026-03-02", "to": "2026-03-15", "lang": "en"}
    ).get_data(as_text=True)
    below = 'data-field="bot_containment" data-value="0.2727" class="flagged" data-flag="below"'
    assert below in html
    assert html.count('class="flagged"') == 1


def test_the_period_changes_the_figures(client, people, history):
    sign_in(client, "manager")
    first_week = dashboard(client, **{"from": "2026-03-02", "to": "2026-03-08", "lang": "en"})
    both = dashboard(client, **{"from": "2026-03-02", "to": "2026-03-15", "lang": "en"})
    empty = dashboard(client, **{"from": "2026-02-02", "to": "2026-02-08", "lang": "en"})
    assert value(first_week.kpis["contacts"]) == 7
    assert value(both.kpis["contacts"]) == 15
    assert value(empty.kpis["contacts"]) == 0
    assert empty.kpis["digital_take_up"] == ""  # no figure rather than 0 %


def test_the_dashboard_speaks_danish_with_danish_numbers(client, people, history):
    sign_in(client, "manager")
    response = client.get(
        "/dashboard", query_string={"from": "2026-03-02", "to": "2026-03-15", "lang": "da"}
    )
    html = response.get_data(as_text=True)
    assert '<html lang="da">' in html
    assert "Nøgletal mod mål" in html and "Ligebehandling" in html
    assert "Mål: mindst 80,0 %" in html
    page = Page(html)
    assert page.charts["funnel"]["labels"] == ["Tilbudt", "Accepteret", "Gennemført"]


def test_targets_come_from_the_configuration(app_config, bot, clock):
    app = create_app({**app_config, "KANAL_TARGETS": "digital_take_up=0.5"}, bot=bot, clock=clock)
    try:
        create_user(kanal_of(app).uow, "manager", PASSWORD, "manager")
        client = app.test_client()
        sign_in(client, "manager")
        html = client.get("/dashboard?lang=en").get_data(as_text=True)
        assert "Target: at least 50.0 %" in html
    finally:
        kanal_of(app).close()


# -- the policy simulator's page ---------------------------------------------------------------


def test_the_simulator_page_shows_the_apis_replay_side_by_side(client, people, history):
    sign_in(client, "manager")
    query = {"from": "2026-03-02", "to": "2026-03-15", "profile": "australia"}
    response = client.get("/dashboard/simulate", query_string={**query, "lang": "en"})
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    body = client.get("/api/v1/simulate", query_string=query, headers=people).get_json()
    side = page.tables["side-table"]
    assert set(side) >= {"contacts", "digital_take_up", "assisted_share", "service_level", "cost"}
    for field, cells in side.items():
        assert value(cells["recorded"]) == body["recorded"][field], field
        assert value(cells["projected"]) == body["projected"][field], field
    assert body["recorded"]["contacts"] == 15
    assert page.charts["simulated"]["series"][1]["values"] == [
        body["projected"][n] for n in ("digital_take_up", "assisted_share", "service_level")
    ]
    # In Danish the page states the API's assumptions (English) in Danish, one for one.
    danish = client.get("/dashboard/simulate", query_string={**query, "lang": "da"})
    listed = re.search(r'<ul id="sim-assumptions">(.*?)</ul>', danish.get_data(as_text=True), re.S)
    said = [html.unescape(a) for a in re.findall(r"<li>(.*?)</li>", listed.group(1), re.S)]
    assert len(said) == len(body["assumptions"]) and not set(said) & set(body["assumptions"])
    english = {translator("da")(a, min_sample=MIN_SAMPLE): a for a in ASSUMPTIONS}
    assert [english[a].format(min_sample=MIN_SAMPLE) for a in said] == body["assumptions"]


@pytest.mark.parametrize(
    ("role", "status"), [("manager", 200), ("supervisor", 200), ("agent", 403)]
)
def test_the_simulator_page_is_for_managers_and_supervisors(client, people, role, status):
    sign_in(client, role)
    assert client.get("/dashboard/simulate?profile=denmark").status_code == status


def test_a_profile_that_is_not_shipped_answers_400(client, people):
    sign_in(client, "manager")
    response = client.get("/dashboard/simulate?profile=../../etc/passwd&lang=en")
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)


def test_narrowing_to_a_channel_kanal_does_not_have_answers_400_and_offers_its_own(
    client, kanal, people
):
    sign_in(client, "manager")
    refused = client.get("/dashboard?only=channel:fax&lang=en")
    assert refused.status_code == 400 and 'role="alert"' in refused.get_data(as_text=True)
    # The channels offered are the running kanal's (its registry), the ones it accepts.
    page = client.get("/dashboard?lang=en").get_data(as_text=True)
    for name in kanal.channels.names():
        assert f'value="channel:{name}"' in page
        assert client.get(f"/dashboard?only=channel:{name}&lang=en").status_code == 200
