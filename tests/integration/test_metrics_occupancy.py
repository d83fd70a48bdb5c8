"""Occupancy from the event log, from the events and from its daily rollup, late events
included, on SQLite and PostgreSQL (analytics/occupancy*.py, docs/domain.md §4.2).

The day is the one hand-computed in tests/unit/test_occupancy.py, written as the log has it:
presence changes (`presence_changed`, no contact) and contacts taken, transferred and closed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, delete, insert

from analytics import metrics, occupancy_rollup, rollup_tables, rollups
from analytics.reader import reader_engine
from analytics.report import Query, channel_shift_report
from router.adapters.orm import contact_events
from router.domain import events as ev

pytestmark = pytest.mark.integration

TZ = "Europe/Copenhagen"
ZONE = ZoneInfo(TZ)
SUNDAY, MONDAY = date(2026, 3, 1), date(2026, 3, 2)
NOW = datetime(2026, 3, 5, tzinfo=ZONE)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def presence(agent: int, at: datetime, to: str) -> dict:
    data = {"agent_id": agent, "from": "?", "to": to}
    return {"type": "presence_changed", "at": at, "channel": "desk", "contact_id": None,
            "citizen": None, "need": None, "data": data}  # fmt: skip


def contact(cid: int, channel: str, type_: str, at: datetime, **data) -> dict:  # noqa: ANN003
    return {"type": type_, "at": at, "channel": channel, "contact_id": cid, "citizen": None,
            "need": None, "data": data}  # fmt: skip


def taken(cid: int, channel: str, agent: int, queued: datetime, at: datetime) -> list[dict]:
    return [
        contact(cid, channel, ev.CONTACT_OPENED, queued - timedelta(minutes=1)),
        contact(cid, channel, ev.QUEUED, queued, queue_item_id=cid, queue="general"),
        contact(cid, channel, ev.AGENT_ASSIGNED, at, queue_item_id=cid, agent_id=agent),
    ]


def the_day() -> list[dict]:
    rows = [
        presence(1, local(MONDAY, 8), "available"),
        presence(1, local(MONDAY, 10), "busy"),
        presence(1, local(MONDAY, 12), "away"),
        presence(1, local(MONDAY, 12, 30), "available"),
        presence(1, local(MONDAY, 16), "offline"),
        presence(2, local(SUNDAY, 22), "available"),
        presence(2, local(MONDAY, 2), "offline"),
        # Two chats at once, 09:00-09:30 and 09:15-10:00.
        *taken(1, "webchat", 1, local(MONDAY, 8, 55), local(MONDAY, 9)),
        contact(1, "webchat", ev.CLOSED, local(MONDAY, 9, 30), why="resolved"),
        *taken(2, "webchat", 1, local(MONDAY, 9, 10), local(MONDAY, 9, 15)),
        contact(2, "webchat", ev.CLOSED, local(MONDAY, 10), why="resolved"),
        # A call held through the break, resolved with its wrap-up at 12:45.
        *taken(3, "voice", 1, local(MONDAY, 11, 29), local(MONDAY, 11, 30)),
        contact(3, "voice", ev.CALL_ENDED, local(MONDAY, 12, 40), status="completed"),
        contact(3, "voice", ev.CLOSED, local(MONDAY, 12, 45), why="resolved"),
        # Still held: counts until the agent went offline.
        *taken(4, "sms", 1, local(MONDAY, 15, 45), local(MONDAY, 15, 50)),
        # The night shift's contact, transferred at 01:00 to agent 3 (never staffed).
        *taken(5, "webchat", 2, local(SUNDAY, 22, 59), local(SUNDAY, 23)),
        contact(5, "webchat", ev.QUEUED, local(MONDAY, 1), queue_item_id=50, queue="pension"),
        contact(5, "webchat", ev.AGENT_ASSIGNED, local(MONDAY, 1, 5), agent_id=3),
        contact(5, "webchat", ev.CLOSED, local(MONDAY, 1, 30), why="resolved"),
    ]
    return sorted(rows, key=lambda r: r["at"])


@pytest.fixture
def engines(database_url):
    writer = create_engine(database_url)
    reader = reader_engine(writer)
    with writer.begin() as conn:
        conn.execute(delete(contact_events))
    yield reader, writer
    occupancy_rollup.metadata.drop_all(writer, checkfirst=True)
    rollup_tables.drop_tables(writer)
    if reader is not writer:
        reader.dispose()
    writer.dispose()


def append(engine, rows: list[dict]) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        conn.execute(insert(contact_events), rows)


def report(engine, first: date, last: date, rollup: bool, **filters) -> dict:  # noqa: ANN001, ANN003
    query = Query(metrics.Window(first, last, TZ), "channel", filters=filters)
    return channel_shift_report(engine, query, now=NOW, rollup=rollup)


def test_the_report_gives_each_days_occupancy_from_the_events(engines):
    reader, writer = engines
    append(writer, the_day())

    body = report(reader, SUNDAY, MONDAY, rollup=False)

    days = body["occupancy"]["days"]
    assert [(d["staffed_seconds"], d["handling_seconds"]) for d in days] == [
        (7_200, 3_600),
        (34_200, 10_500),
    ]
    assert [d["occupancy"] for d in days] == [0.5, 0.307]
    assert body["occupancy"]["occupancy"] == body["total"]["occupancy"] == 0.3406
    assert {r["group"] for r in body["rows"]} == {"sms", "voice", "webchat"}
    assert all(r["occupancy"] is None for r in body["rows"])  # staffed time has no channel
    narrowed = report(reader, SUNDAY, MONDAY, rollup=False, channel="voice")
    assert narrowed["occupancy"]["occupancy"] is None and narrowed["total"]["occupancy"] is None


def test_the_rollup_answers_the_same_and_late_events_correct_it(engines):
    reader, writer = engines
    events = the_day()
    cut = local(MONDAY, 12, 40)  # the call is still held, agent 1 back from the break
    append(writer, [e for e in events if e["at"] < cut])
    rollups.refresh(reader, writer, TZ, now=cut)
    assert occupancy_rollup.refresh(reader, writer, TZ, now=cut)["rebuilt"] is True
    early = report(reader, MONDAY, MONDAY, rollup=True)
    assert early["window"]["source"] == "rollup"
    # By 12:40: agent 1 staffed 08:00-12:00 and 12:30-12:40, handling 1 h + 30 + 10 min.
    assert early["occupancy"]["days"][0]["staffed_seconds"] == 7_200 + 4 * 3_600 + 600
    assert early["occupancy"]["days"][0]["handling_seconds"] == 3_600 + 3_600 + 2_400

    append(writer, [e for e in events if e["at"] >= cut])
    rollups.refresh(reader, writer, TZ, now=NOW)
    done = occupancy_rollup.refresh(reader, writer, TZ, now=NOW)
    assert done["rebuilt"] is False and done["days"] >= 1

    rolled = report(reader, SUNDAY, MONDAY, rollup=True)
    assert rolled["occupancy"] == report(reader, SUNDAY, MONDAY, rollup=False)["occupancy"]
    assert rolled["occupancy"]["occupancy"] == 0.3406


@pytest.fixture
def clock():
    from tests.integration.metrics_support import Clock

    return Clock(datetime(2026, 3, 2, 7, 0, tzinfo=ZONE).astimezone(ZONE))


@pytest.fixture
def app(app_config, bot, clock):
    from tests.integration.metrics_support import clocked_app

    yield from clocked_app(app_config, bot, clock)


def test_an_agents_morning_at_the_desk_gives_the_days_occupancy(kanal, clock):
    """Through the service: signed in 08:00, a chat taken 09:10 and resolved 09:40, signed
    out 10:00 (local time): 30 minutes of 2 hours."""
    from router.domain.commands import ClaimNext, Resolve
    from router.domain.presence import PresenceState
    from router.entrypoints.auth import create_user
    from tests.integration.metrics_support import Citizen

    agent = create_user(kanal.uow, "agent1", "correct horse", "agent").id
    clock.at(local(MONDAY, 8))
    kanal.assignments.set_presence(agent, PresenceState.AVAILABLE)
    clock.at(local(MONDAY, 9))
    Citizen(kanal.turns).chat("I want to talk to a person")
    clock.at(local(MONDAY, 9, 10))
    claimed = kanal.desk.claim_next(ClaimNext(agent_id=agent))
    clock.at(local(MONDAY, 9, 40))
    kanal.desk.resolve(Resolve(agent, claimed.contact_id, "answered", completed=True))
    clock.at(local(MONDAY, 10))
    kanal.assignments.sign_out(agent)

    query = Query(metrics.Window(MONDAY, MONDAY, TZ), "channel")
    body = channel_shift_report(kanal.analytics_engine, query, now=NOW, rollup=False)
    [day] = body["occupancy"]["days"]
    assert (day["staffed_seconds"], day["handling_seconds"]) == (7_200, 1_800)
    assert body["total"]["occupancy"] == 0.25
