"""The daily rollup answers what a full recomputation from the event log answers, late events
included, on SQLite and PostgreSQL (analytics/rollups.py, docs/domain.md §4.6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, delete, insert

from analytics import metrics, rollup_tables, rollups
from analytics.reader import reader_engine
from analytics.report import Query, channel_shift_report, channel_shift_reports
from router.adapters.orm import contact_events
from router.domain import events as ev

pytestmark = pytest.mark.integration

TZ = "Europe/Copenhagen"
DAY0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 07:00 in Copenhagen, a Monday
CITIZENS = ("c_anna", "c_bo", None)
NEEDS = ("payment_date", "payment_date", "tax_card", None)


@pytest.fixture
def engines(database_url):
    writer = create_engine(database_url)
    reader = reader_engine(writer)
    yield reader, writer
    rollup_tables.drop_tables(writer)  # PostgreSQL's test database outlives the test
    if reader is not writer:
        reader.dispose()
    writer.dispose()


class Log:
    """Events of a story, appended in the order they happened."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, type_, at, channel, contact_id, citizen, need, **data) -> None:  # noqa: ANN001
        self.rows.append(
            {"type": type_, "at": at, "channel": channel, "contact_id": contact_id,
             "citizen": citizen, "need": need, "data": data}
        )  # fmt: skip


def story(log: Log, cid: int, spec: dict) -> None:
    """Write one contact's events from a drawn spec."""
    at = DAY0 + timedelta(minutes=spec["minute"])
    channel, citizen, need = spec["channel"], spec["citizen"], spec["need"]
    add = log.add
    add(ev.CONTACT_OPENED, at, channel, cid, citizen, None)
    if citizen:
        add(ev.CITIZEN_IDENTIFIED, at, channel, cid, citizen, None, exempt=spec["exempt"],
            grounds=[], age_band=spec["age_band"])  # fmt: skip
    t = at + timedelta(minutes=1)
    add(ev.DECISION_MADE, t, channel, cid, citizen, need, rule_id="r", action="bot",
        profile="denmark")  # fmt: skip
    for answered in spec["bot_turns"]:
        kind = ev.BOT_ANSWERED if answered else ev.BOT_FAILED
        add(kind, t, channel, cid, citizen, need, intent=need or "nlu_fallback")
    end = t + timedelta(minutes=spec["length"])
    how = spec["how"]
    if how == "bot":
        if not spec["bot_turns"]:
            add(ev.BOT_ANSWERED, t, channel, cid, citizen, need, intent=need)
        add(ev.RESOLVED, end, channel, cid, citizen, need, by="bot", wrap_up="self_service",
            completed=need is not None, digital=channel != "voice")  # fmt: skip
        add(ev.CLOSED, end, channel, cid, citizen, need, why="bot_finished", language="da")
    elif how in ("agent", "abandon", "waiting", "callback"):
        if spec["bot_turns"]:
            add(ev.HANDED_OFF, t, channel, cid, citizen, need, rule_id="asked", reason="x")
        add(ev.QUEUED, t, channel, cid, citizen, need, queue_item_id=cid, skill="general")
        waited = t + timedelta(seconds=spec["wait"])
        if how == "agent":
            add(ev.AGENT_ASSIGNED, waited, channel, cid, citizen, need, queue_item_id=cid,
                agent_id=1, wait_seconds=int(spec["wait"]))  # fmt: skip
            done = waited + timedelta(minutes=spec["length"])
            add(ev.RESOLVED, done, channel, cid, citizen, need, by="agent",
                wrap_up=spec["wrap_up"], completed=spec["wrap_up"] != "referred",
                digital=channel != "voice")  # fmt: skip
            add(ev.CLOSED, done, channel, cid, citizen, need, why="resolved", language="en")
        elif how == "abandon" and channel == "voice":
            add(ev.CALL_ENDED, waited, channel, cid, citizen, need, status="abandoned")
            add(ev.CLOSED, waited, channel, cid, citizen, need, why="inactivity")
        elif how == "abandon":
            add(ev.CLOSED, waited, channel, cid, citizen, need, why="inactivity",
                state_before="queued")  # fmt: skip
        elif how == "callback":
            booked = waited
            add(ev.CALLBACK_BOOKED, booked, channel, cid, citizen, need, callback_id=cid,
                reason="waited_too_long")  # fmt: skip
            if channel == "voice":
                add(ev.CALL_ENDED, booked, channel, cid, citizen, need, status="completed",
                    queue_result="callback")  # fmt: skip
            # Placed and answered the next day: a late event on yesterday's contact.
            later = booked + timedelta(hours=spec["callback_hours"])
            add(ev.CALLBACK_PLACED, later, channel, cid, citizen, need, callback_id=cid,
                attempt=1)  # fmt: skip
            kind = ev.CALLBACK_ANSWERED if spec["callback_answered"] else ev.CALLBACK_FAILED
            add(kind, later, channel, cid, citizen, need, callback_id=cid, status="busy")
    elif how == "deflected" and channel == "voice":
        add(ev.DEFLECTION_OFFERED, t, channel, cid, citizen, need, route="sms")
        add(ev.DEFLECTION_ACCEPTED, t, channel, cid, citizen, need, route="sms")
        add(ev.CALL_ENDED, t, channel, cid, citizen, need, status="completed")
        add(ev.CLOSED, t, channel, cid, citizen, need, why="inactivity")
        if spec["completed_after_hours"] is not None:
            done = t + timedelta(hours=spec["completed_after_hours"])
            add(ev.DIGITAL_COMPLETED, done, "self_service", None, citizen, need,
                source="self_service")  # fmt: skip
    if spec["score"] is not None and how in ("bot", "agent"):
        add(ev.SATISFACTION, end + timedelta(hours=1), channel, cid, citizen, need,
            score=spec["score"])  # fmt: skip


contact_spec = st.fixed_dictionaries(
    {
        "minute": st.integers(0, 3 * 24 * 60),
        "channel": st.sampled_from(("webchat", "sms", "voice")),
        "citizen": st.sampled_from(CITIZENS),
        "need": st.sampled_from(NEEDS),
        "exempt": st.booleans(),
        "age_band": st.sampled_from(("15_64", "80_plus")),
        "bot_turns": st.lists(st.booleans(), max_size=3),
        "how": st.sampled_from(("bot", "agent", "abandon", "waiting", "callback", "deflected")),
        "length": st.integers(1, 600),
        # Waits to the millisecond: the rollup keeps whole seconds (rounded up for answered
        # contacts, down for abandons) and the exact sum, and must answer as the events do.
        "wait": st.integers(0, 400_000).map(lambda ms: ms / 1000),
        "wrap_up": st.sampled_from(("answered", "referred", "digital_route_shown")),
        "callback_hours": st.integers(1, 40),
        "callback_answered": st.booleans(),
        "completed_after_hours": st.one_of(st.none(), st.integers(0, 60)),
        "score": st.one_of(st.none(), st.integers(1, 5)),
    }
)


def history(specs: list[dict]) -> list[dict]:
    log = Log()
    for cid, spec in enumerate(specs, 1):
        story(log, cid, spec)
    log.rows.sort(key=lambda r: r["at"])
    return log.rows


def report(engine, first: date, last: date, group_by: str, rollup: bool) -> dict:  # noqa: ANN001
    window = metrics.Window(first, last, TZ)
    body = channel_shift_report(engine, Query(window, group_by), rollup=rollup)
    return {"rows": body["rows"], "total": body["total"], "source": body["window"]["source"]}


def figures(bodies: list[dict]) -> list[dict]:
    """The figures of several reports, without the parts that say where they came from."""
    return [{k: body.get(k) for k in ("rows", "total", "migration")} for body in bodies]


def append(engine, rows: list[dict]) -> None:  # noqa: ANN001
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(contact_events), rows)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(contact_spec, min_size=1, max_size=12),
    cut_hours=st.integers(0, 4 * 24),
    first=st.integers(0, 7),
    days=st.integers(0, 7),
    group_by=st.sampled_from(metrics.GROUPINGS),
    compare_first=st.integers(0, 7),
    narrowed=st.sampled_from([{}, {"exempt": "exempt"}, {"channel": "voice"}]),
)
def test_the_rollup_answers_what_a_full_recomputation_answers(
    engines, monkeypatch, specs, cut_hours, first, days, group_by, compare_first, narrowed
):
    reader, writer = engines
    # The second refresh reads only the late events (no overlap): it recomputes only the
    # contacts they can change.
    monkeypatch.setattr(rollups, "OVERLAP_EVENTS", 0)
    rollup_tables.drop_tables(writer)
    with writer.begin() as conn:
        conn.execute(delete(contact_events))
    events = history(specs)
    cut = DAY0 + timedelta(hours=cut_hours)
    # The rollup is refreshed with what happened by `cut`, then the rest arrives late (repeat
    # contacts, callbacks answered the next day, completions, satisfaction answers).
    append(writer, [e for e in events if e["at"] < cut])
    rollups.refresh(reader, writer, TZ)
    append(writer, [e for e in events if e["at"] >= cut])
    rollups.refresh(reader, writer, TZ)
    start = date(2026, 3, 1) + timedelta(days=first)
    end = start + timedelta(days=days)
    from_rollup = report(reader, start, end, group_by, rollup=True)
    recomputed = report(reader, start, end, group_by, rollup=False)
    assert from_rollup["source"] == "rollup" and recomputed["source"] == "events"
    assert from_rollup["rows"] == recomputed["rows"]
    assert from_rollup["total"] == recomputed["total"]
    # The dashboard's questions in one call: the channel migration from another period,
    # another grouping narrowed to one group, and a day of the period alone.
    window = metrics.Window(start, end, TZ)
    since = date(2026, 3, 1) + timedelta(days=compare_first)
    asked = [
        Query(window, group_by, compare=metrics.Window(since, since + timedelta(days=2), TZ)),
        Query(window, "channel", filters=narrowed),
        Query(metrics.Window(end, end, TZ), "none"),
    ]
    rolled = channel_shift_reports(reader, asked)
    assert [body["window"]["source"] for body in rolled] == ["rollup"] * 3
    assert figures(rolled) == figures(channel_shift_reports(reader, asked, rollup=False))


def test_a_late_repeat_takes_yesterdays_containment_away(engines):
    reader, writer = engines
    log = Log()
    # Monday: Anna's chat is answered by the bot and closes: contained.
    story(log, 1, {"minute": 60, "channel": "webchat", "citizen": "c_anna",
                   "need": "payment_date", "exempt": False, "age_band": "15_64",
                   "bot_turns": [True], "how": "bot", "length": 5, "score": None})  # fmt: skip
    append(writer, log.rows)
    rollups.refresh(reader, writer, TZ)
    monday = report(reader, date(2026, 3, 2), date(2026, 3, 2), "none", rollup=True)
    assert monday["total"]["bot_contained"] == 1 and monday["total"]["bot_containment"] == 1.0
    # Wednesday: she calls about the same need; Monday's figure changes.
    later = Log()
    story(later, 2, {"minute": 2 * 24 * 60, "channel": "voice", "citizen": "c_anna",
                     "need": "payment_date", "exempt": False, "age_band": "15_64",
                     "bot_turns": [], "how": "waiting", "wait": 0, "length": 5,
                     "score": None})  # fmt: skip
    append(writer, later.rows)
    done = rollups.refresh(reader, writer, TZ)
    assert done["rebuilt"] is False and done["days"] >= 2  # Monday recomputed, and Wednesday
    monday = report(reader, date(2026, 3, 2), date(2026, 3, 2), "none", rollup=True)
    assert monday["total"]["bot_contained"] == 0 and monday["total"]["bot_repeat_contacts"] == 1
    assert monday["total"]["bot_containment"] == 0.0


def test_a_new_contact_recomputes_only_the_contacts_it_can_change(engines, monkeypatch):
    reader, writer = engines
    monkeypatch.setattr(rollups, "OVERLAP_EVENTS", 0)
    log = Log()
    for cid, (who, minute) in enumerate((("c_anna", 60), ("c_bo", 90), (None, 120)), 1):
        spec = {"minute": minute, "channel": "webchat", "citizen": who, "need": "tax_card",
                "exempt": False, "age_band": "15_64", "bot_turns": [True], "how": "bot",
                "length": 5, "score": None}  # fmt: skip
        story(log, cid, spec)
    append(writer, log.rows)
    assert rollups.refresh(reader, writer, TZ)["contacts"] == 3
    # The next day Bo writes again: his contact and his earlier one, not Anna's nor the
    # anonymous chat.
    later = Log()
    story(later, 4, {"minute": 24 * 60, "channel": "sms", "citizen": "c_bo",
                     "need": "tax_card", "exempt": False, "age_band": "15_64",
                     "bot_turns": [True], "how": "bot", "length": 5, "score": None})  # fmt: skip
    append(writer, later.rows)
    done = rollups.refresh(reader, writer, TZ)
    assert done["rebuilt"] is False and done["contacts"] == 2
    monday = report(reader, date(2026, 3, 2), date(2026, 3, 3), "channel", rollup=True)
    recomputed = report(reader, date(2026, 3, 2), date(2026, 3, 3), "channel", rollup=False)
    assert monday["rows"] == recomputed["rows"] and monday["total"] == recomputed["total"]
    assert monday["total"]["contacts"] == 4 and monday["total"]["bot_repeat_contacts"] == 1


def test_waits_of_a_day_or_more_rank_as_the_events_do(engines):
    reader, writer = engines
    log = Log()
    # Waits past 65,535 seconds (18 hours) do not fit the 16 bits the rollup sorts most by.
    for cid, wait in enumerate((70_000, 5, 90_000, 5, 65_535), 1):
        story(log, cid, {"minute": 60 + cid, "channel": "voice", "citizen": "c_bo",
                         "need": "tax_card", "exempt": False, "age_band": "15_64",
                         "bot_turns": [], "how": "agent", "wait": wait, "length": 5,
                         "wrap_up": "answered", "score": None})  # fmt: skip
    append(writer, log.rows)
    rollups.refresh(reader, writer, TZ)
    asked = (reader, date(2026, 3, 2), date(2026, 3, 4), "channel")
    from_rollup, recomputed = report(*asked, rollup=True), report(*asked, rollup=False)
    assert from_rollup["source"] == "rollup"
    assert from_rollup["rows"] == recomputed["rows"]
    assert from_rollup["total"] == recomputed["total"]
    assert from_rollup["total"]["answer_p90_seconds"] == 90_000


def test_without_a_rollup_the_report_reads_the_events(engines):
    reader, _writer = engines
    body = report(reader, date(2026, 3, 2), date(2026, 3, 2), "channel", rollup=True)
    assert body["source"] == "events" and body["rows"] == []


def test_other_settings_rebuild_the_rollup(engines):
    reader, writer = engines
    log = Log()
    story(log, 1, {"minute": 60, "channel": "sms", "citizen": "c_bo", "need": "tax_card",
                   "exempt": True, "age_band": "80_plus", "bot_turns": [True], "how": "bot",
                   "length": 5, "score": 4})  # fmt: skip
    append(writer, log.rows)
    assert rollups.refresh(reader, writer, TZ)["rebuilt"] is True
    assert rollups.refresh(reader, writer, TZ)["rebuilt"] is False
    # A report with another repeat window does not use a rollup made with 7 days.
    window = metrics.Window(date(2026, 3, 2), date(2026, 3, 2), TZ, timedelta(days=3))
    body = channel_shift_report(reader, Query(window, "none"))
    assert body["window"]["source"] == "events"
    assert rollups.refresh(reader, writer, TZ, repeat_days=3)["rebuilt"] is True
    body = channel_shift_report(reader, Query(window, "none"))
    assert body["window"]["source"] == "rollup" and body["total"]["user_satisfaction"] == 1.0


def test_the_scheduler_job_keeps_the_rollup_the_api_answers_from(client, kanal):
    from router.domain.commands import ReceiveMessage, StartChat
    from router.entrypoints.auth import create_token, create_user
    from router.entrypoints.jobs import JOBS, refresh_metric_rollups

    assert ("metric_rollups", refresh_metric_rollups, 60) in JOBS
    create_user(kanal.uow, "boss", "correct horse", "manager")
    headers = {"Authorization": "Bearer " + create_token(kanal.uow, "dashboard", "boss")}
    contact_id = kanal.turns.start_chat(StartChat(secret_hash="x" * 64), address="s1")
    kanal.turns.receive(
        ReceiveMessage(channel="webchat", address="s1", text="pension?", contact_id=contact_id)
    )
    today = kanal.clock().astimezone(ZoneInfo(TZ)).date().isoformat()
    query = {"from": today, "to": today, "group_by": "none"}
    try:
        live = client.get("/api/v1/metrics/channel-shift", query_string=query, headers=headers)
        assert live.get_json()["window"]["source"] == "events"
        refresh_metric_rollups(kanal)
        body = client.get(
            "/api/v1/metrics/channel-shift", query_string=query, headers=headers
        ).get_json()
        assert body["window"]["source"] == "rollup" and body["window"]["as_of"]
        assert body["total"] == live.get_json()["total"]
        assert body["total"]["contacts"] == 1 and body["total"]["bot_in_progress"] == 1
    finally:
        rollup_tables.drop_tables(kanal.engine)
