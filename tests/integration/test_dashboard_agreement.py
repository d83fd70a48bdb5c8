"""After `kanal demo traffic --days 30`, every number the dashboard shows is the API's and the
CSV exports' (issue 17, done when 1).

The demo drives a month of contacts through the real channels on its clock; then a manager
opens the dashboard, and each figure on the page (every table alternative's cell, the headline
figures, the bot's facts) is compared with `GET /api/v1/metrics/channel-shift` for the same
period, grouping and week, and the API's rows with `export.csv` and `conversations.csv`.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest

from analytics.api import _cell
from analytics.dashboard_figures import weeks
from analytics.fairness_panel import FAIRNESS_GROUPINGS
from router import create_app
from router.entrypoints.auth import create_token, create_user
from router.entrypoints.bootstrap import kanal_of
from router.entrypoints.demo_traffic import DemoClock, drive

pytestmark = pytest.mark.integration

END = datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}
API = "/api/v1/metrics/channel-shift"


class Figures(HTMLParser):
    """Every raw value the page carries: (table or list id, row's group, field) -> text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str | None, str], str] = {}
        self._where: list[str] = []
        self._group: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("table", "ul", "dl") and a.get("id"):
            self._where.append(a["id"])
        elif tag == "tr":
            self._group = a.get("data-group")
        elif "data-value" in a and self._where:
            self.cells[(self._where[-1], self._group, a.get("data-field", ""))] = a["data-value"]

    def handle_endtag(self, tag):
        if tag in ("table", "ul", "dl") and self._where:
            self._where.pop()
        elif tag == "tr":
            self._group = None


def same(shown: str, answered) -> bool:
    """Whether a cell's raw value is the API's figure."""
    if answered is None:
        return shown == ""
    if isinstance(answered, float) or "." in shown:
        return math.isclose(float(shown), float(answered), rel_tol=1e-9, abs_tol=1e-9)
    return int(shown) == answered


@pytest.fixture
def clock():
    return DemoClock(END - timedelta(days=31))


@pytest.fixture
def app(app_config, bot, clock):
    app = create_app(app_config, bot=bot, clock=clock)
    yield app
    kanal_of(app).close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_dashboard_figure_is_the_apis_and_the_exports(app, kanal, clock, client, staff):
    tally = drive(app, clock, days=30, contacts=40, end=END, seed=17, echo=lambda line: None)
    assert tally["webchat"] and tally["sms"] and tally["voice"] and tally["served"]
    create_user(kanal.uow, "boss", "correct horse", "manager")
    token = {"Authorization": "Bearer " + create_token(kanal.uow, "agreement", "boss")}

    def api(**query) -> dict:
        answer = client.get(API, query_string={**PERIOD, **query}, headers=token)
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    page = app.test_client()
    assert (
        page.post("/login", data={"username": "boss", "password": "correct horse"}).status_code
        == 302
    )
    shown = page.get("/dashboard", query_string={**PERIOD, "group_by": "channel"})
    assert shown.status_code == 200
    cells = Figures(shown.get_data(as_text=True)).cells

    by = {g: api(group_by=g) for g in ("channel", *(g for g, _ in FAIRNESS_GROUPINGS))}
    total = by["channel"]["total"]
    assert total["contacts"] == tally["webchat"] + tally["sms"] + tally["voice"]
    first, last = date.fromisoformat(PERIOD["from"]), date.fromisoformat(PERIOD["to"])
    week = {s.isoformat(): api(**{"from": s.isoformat(), "to": e.isoformat(),
                                  "group_by": "none"})["total"]
            for s, e in weeks(first, last)}  # fmt: skip
    days = (last - first).days + 1
    before = (first - timedelta(days=days), first - timedelta(days=1))
    matrix = api(compare_from=before[0].isoformat(), compare_to=before[1].isoformat())["migration"][
        "matrix"
    ]

    def expected(where: str, group: str | None, field: str):  # noqa: ANN202
        if where == "trend-table":
            return week[group][field]
        if where == "handoffs-table":
            return total["handoff_reasons"].get(group, 0)
        if where == "satisfaction-table":
            return total["satisfaction_scores"].get(group, 0)
        if where == "migration-table":
            return matrix.get(group, {}).get(field, 0)
        if where == "reminders-table":
            return by["channel"]["exemption_reminders"][field]
        if where == "occupancy-table":
            occupancy = by["channel"]["occupancy"]
            if group == "all":
                return occupancy[field]
            return next(d for d in occupancy["days"] if d["day"] == group)[field]
        report = (
            by[where.removeprefix("fairness-")] if where.startswith("fairness-") else by["channel"]
        )
        if group in (None, "all"):
            return report["total"][field]
        return next(r for r in report["rows"] if r["group"] == group)[field]

    wrong = [
        f"{where} {group} {field}: page {value!r}, API {expected(where, group, field)!r}"
        for (where, group, field), value in sorted(cells.items(), key=str)
        if not same(value, expected(where, group, field))
    ]
    assert not wrong, "\n".join(wrong)
    tables = {where for where, _g, _f in cells}
    assert {"kpis", "bot-facts", "trend-table", "channels-table", "funnel-table",
            "service-table", "callbacks-table", "satisfaction-table", "cost-table",
            "groups-table"} <= tables, tables  # fmt: skip
    assert len(cells) > 150

    # export.csv: the API's rows, cell by cell.
    exported = client.get("/api/v1/metrics/export.csv", query_string={**PERIOD}, headers=token)
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [r["group"] for r in rows] == [r["group"] for r in by["channel"]["rows"]]
    for row, answered in zip(rows, by["channel"]["rows"], strict=True):
        for name, text in row.items():
            assert text == _cell(answered[name]), (row["group"], name, text, answered[name])
    # conversations.csv: one row per contact, on its channel.
    conversations = client.get(
        "/api/v1/metrics/conversations.csv", query_string={**PERIOD}, headers=token
    )
    lines = list(csv.DictReader(io.StringIO(conversations.get_data(as_text=True))))
    per_channel = {r["group"]: r["contacts"] for r in by["channel"]["rows"]}
    assert {c: sum(1 for x in lines if x["channel"] == c) for c in per_channel} == per_channel
    assert len(lines) == total["contacts"]
    answered_surveys = sum(1 for x in lines if x.get("satisfaction"))
    assert answered_surveys == total["satisfaction_answers"]
