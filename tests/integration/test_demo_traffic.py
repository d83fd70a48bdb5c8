"""`kanal demo traffic` drives contacts through the real channels on a demo clock, and the
metrics API then reports every contact it drove, on the days it backdated them to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from router import create_app
from router.entrypoints.auth import create_token, create_user
from router.entrypoints.bootstrap import kanal_of
from router.entrypoints.demo_traffic import DemoClock, drive

pytestmark = pytest.mark.integration

END = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return DemoClock(END - timedelta(days=4))


@pytest.fixture
def app(app_config, bot, clock):
    app = create_app(app_config, bot=bot, clock=clock)
    yield app
    kanal_of(app).close()


def test_demo_traffic_lands_in_the_metrics_on_the_days_it_was_backdated_to(
    app, kanal, clock, client
):
    tally = drive(app, clock, days=3, contacts=24, end=END, seed=3, echo=lambda line: None)
    driven = tally["webchat"] + tally["sms"] + tally["voice"]
    assert driven == 24 and tally["webchat"] and tally["sms"] and tally["voice"]
    assert not (tally["chat_refused"] or tally["sms_refused"] or tally["calls_failed"])
    assert tally["served"] > 0  # agents answered through the desk service
    assert tally["satisfaction_answers"] > 0  # the survey's question, answered
    assert clock() == END
    create_user(kanal.uow, "boss", "correct horse", "manager")
    headers = {"Authorization": "Bearer " + create_token(kanal.uow, "dashboard", "boss")}
    query = {"from": "2026-03-02", "to": "2026-03-06", "group_by": "channel"}
    body = client.get("/api/v1/metrics/channel-shift", query_string=query, headers=headers)
    assert body.status_code == 200, body.get_json()
    rows = {row["group"]: row for row in body.get_json()["rows"]}
    assert {g: r["contacts"] for g, r in rows.items()} == {
        "webchat": tally["webchat"], "sms": tally["sms"], "voice": tally["voice"]
    }  # fmt: skip
    total = body.get_json()["total"]
    assert total["assisted"] >= tally["served"]
    assert sum(total["satisfaction_scores"].values()) == tally["satisfaction_answers"]
    # Nothing lands outside the days it was backdated to.
    before = {"from": "2026-02-01", "to": "2026-03-02", "group_by": "none"}
    early = client.get("/api/v1/metrics/channel-shift", query_string=before, headers=headers)
    assert early.get_json()["total"]["contacts"] == 0
