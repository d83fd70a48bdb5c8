"""The month's channel-shift report over 50,000 contacts, as the API answers it.

    python -m benchmarks.channel_shift [--quick] [--sqlite-only] [--baseline=REF]

A month of traffic (50,000 contacts: web chat and SMS with the bot, phone calls offered the
link, queued, abandoned, called back) is written as events into a fresh database, then the
month's report is read the way `GET /api/v1/metrics/channel-shift` reads it, alternately:

- baseline: the report as the issue measured it: `analytics/queries.py` as it is on the
  `--baseline=REF` commit (default ae71b23, read with `git show`), its `cohort_and_repeats`,
  then this tree's `channel_shift`;
- events: this tree's report computed from the events at once (`channel_shift_report` with
  `rollup=False`: every figure of the managers' view);
- kanal: this tree's report as the API answers it once the scheduler keeps the daily rollup
  (`channel_shift_report`, which reads `analytics.rollups`).

The rollup is built once before the runs (its time is `rollup_build_s`, the scheduler's first
run) and refreshed once after a late event (`rollup_refresh_s`). The ratio kanal ÷ baseline
of the median times is what the rollup saves. Results: benchmarks/results/channel_shift.json.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import types
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from analytics import metrics, rollup_tables, rollups
from analytics.reader import reader_engine
from analytics.report import Query, channel_shift_report
from benchmarks import results
from router.adapters.orm import contact_events, metadata
from router.domain import events as ev

RESULTS = Path(__file__).resolve().parents[1] / "results" / "channel_shift.json"
MONTH = metrics.Window(date(2026, 3, 1), date(2026, 3, 31), "Europe/Copenhagen")
NEEDS = ("payment_date", "pension_amount", "address_change", "tax_card", "housing_benefit")


def month_of_events(contacts: int, seed: int = 7) -> list[dict]:
    """Return the events of `contacts` contacts opened in March 2026, as the service writes."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    rows: list[dict] = []
    callback_id = 0

    def add(type_, at, channel, cid, citizen, need, **data):  # noqa: ANN001, ANN003, ANN202
        rows.append(dict(type=type_, at=at, channel=channel, contact_id=cid, citizen=citizen,
                         need=need, data=data))  # fmt: skip

    for cid in range(1, contacts + 1):
        at = start + timedelta(seconds=rng.randrange(30 * 24 * 3600))
        citizen = f"p{rng.randrange(contacts // 2)}" if rng.random() < 0.8 else None
        need = rng.choice(NEEDS)
        channel = rng.choices(("webchat", "sms", "voice"), (0.45, 0.15, 0.40))[0]
        add(ev.CONTACT_OPENED, at, channel, cid, citizen, None)
        if citizen:
            add(ev.CITIZEN_IDENTIFIED, at, channel, cid, citizen, None, exempt=rng.random() < 0.1,
                grounds=[], age_band=rng.choice(("15_64", "65_79", "80_plus")))  # fmt: skip
        t = at + timedelta(seconds=5)
        add(ev.MESSAGE_RECEIVED, t, channel, cid, citizen, need, message_id=cid)
        add(ev.DECISION_MADE, t, channel, cid, citizen, need, rule_id="r", action="bot")
        if channel != "voice":
            add(ev.BOT_ANSWERED, t, channel, cid, citizen, need, intent=need, confidence=0.9)
            if rng.random() < 0.25:
                add(ev.HANDED_OFF, t, channel, cid, citizen, need, reason="x", rule_id="asked")
                add(ev.QUEUED, t, channel, cid, citizen, need, queue_item_id=cid, skill=need)
            end = t + timedelta(minutes=5)
            add(ev.RESOLVED, end, channel, cid, citizen, need, completed=True, digital=True)
            add(ev.CLOSED, end, channel, cid, citizen, need, why="resolved")
            continue
        if rng.random() < 0.5:  # offered the link
            add(ev.DEFLECTION_OFFERED, t, channel, cid, citizen, need, route="sms", link=True)
            if rng.random() < 0.6:
                add(ev.DEFLECTION_ACCEPTED, t, channel, cid, citizen, need, route="sms",
                    message_id=cid)  # fmt: skip
                add(ev.FOLLOWUP_SCHEDULED, t, channel, cid, citizen, need, followup_id=cid)
                if rng.random() < 0.5:
                    done = t + timedelta(hours=rng.uniform(1, 60))
                    add(ev.DIGITAL_COMPLETED, done, "self_service", None, citizen, need,
                        source="self_service", followups_closed=1)  # fmt: skip
                end = t + timedelta(seconds=40)
                add(ev.CALL_ENDED, end, channel, cid, citizen, need, status="completed")
                add(ev.CLOSED, end, channel, cid, citizen, need, why="inactive")
                continue
        add(ev.QUEUED, t, channel, cid, citizen, need, queue_item_id=cid, skill=need)
        roll = rng.random()
        end = t + timedelta(seconds=rng.randrange(2, 600))
        if roll < 0.15:
            add(ev.CALL_ENDED, end, channel, cid, citizen, need, status="abandoned",
                queue_result="hangup")  # fmt: skip
            add(ev.CLOSED, end, channel, cid, citizen, need, why="inactive")
        elif roll < 0.3:
            callback_id += 1
            add(ev.CALLBACK_BOOKED, end, channel, cid, citizen, need, callback_id=callback_id,
                reason="waited_too_long")  # fmt: skip
            add(ev.CALL_ENDED, end, channel, cid, citizen, need, status="completed",
                queue_result="callback")  # fmt: skip
            later = end + timedelta(minutes=10)
            add(ev.CALLBACK_PLACED, later, channel, cid, citizen, need, callback_id=callback_id,
                attempt=1, outcome="accepted")  # fmt: skip
            if rng.random() < 0.7:
                add(ev.CALLBACK_ANSWERED, later, channel, cid, citizen, need,
                    callback_id=callback_id, attempt=1)  # fmt: skip
            else:
                add(ev.CALLBACK_FAILED, later, channel, cid, citizen, need,
                    callback_id=callback_id, attempts=1, status="busy")  # fmt: skip
        else:
            add(ev.AGENT_ASSIGNED, end, channel, cid, citizen, need, wait_seconds=60)
            add(ev.CALL_ENDED, end + timedelta(minutes=5), channel, cid, citizen, need,
                status="completed", queue_result="bridged")  # fmt: skip
            add(ev.RESOLVED, end + timedelta(minutes=5), channel, cid, citizen, need,
                completed=True, digital=False)  # fmt: skip
            add(ev.CLOSED, end + timedelta(minutes=5), channel, cid, citizen, need, why="done")
    rows.sort(key=lambda r: r["at"])
    return rows


def load(url: str, rows: list[dict]):  # noqa: ANN201
    engine = create_engine(url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as conn:
        for i in range(0, len(rows), 20_000):
            conn.execute(insert(contact_events), rows[i : i + 20_000])
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE contact_events"))
    return engine


def baseline_queries(ref: str) -> types.ModuleType:
    """Return `analytics/queries.py` as it is on the commit `ref`, as a module."""
    source = subprocess.run(
        ["git", "show", f"{ref}:analytics/queries.py"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType("baseline_queries")
    exec(compile(source, f"{ref}:analytics/queries.py", "exec"), module.__dict__)  # noqa: S102
    return module


BASELINE: types.ModuleType | None = None


def baseline(conn) -> object:  # noqa: ANN001
    cohort, repeats = BASELINE.cohort_and_repeats(conn, MONTH)
    return metrics.channel_shift(cohort, repeats, "channel")


def timed(engine, writer, runs: int) -> dict:  # noqa: ANN001
    query = Query(MONTH, "channel")
    started = time.perf_counter()
    rollups.refresh(engine, writer, MONTH.timezone)
    build = time.perf_counter() - started

    def baseline_report():  # noqa: ANN202
        with engine.connect() as conn:
            return baseline(conn)

    def events_report():  # noqa: ANN202
        return channel_shift_report(engine, query, rollup=False)

    def rollup_report():  # noqa: ANN202
        return channel_shift_report(engine, query)

    times: dict[str, list[float]] = {"baseline": [], "events": [], "kanal": []}
    answers = {}
    for _ in range(runs):
        for name, report in (
            ("baseline", baseline_report),
            ("events", events_report),
            ("kanal", rollup_report),
        ):
            started = time.perf_counter()
            answers[name] = report()
            times[name].append(time.perf_counter() - started)
    assert answers["kanal"]["window"]["source"] == "rollup"
    assert answers["kanal"]["total"] == answers["events"]["total"], "rollup ≠ recomputation"
    # A late event (a contact closed long after it opened) and the scheduler's next run.
    with writer.begin() as conn:
        conn.execute(
            insert(contact_events),
            [{"type": ev.CLOSED, "at": MONTH.end, "channel": "voice", "contact_id": 1,
              "citizen": None, "need": None, "data": {"why": "late"}}],
        )  # fmt: skip
    started = time.perf_counter()
    refreshed = rollups.refresh(engine, writer, MONTH.timezone)
    refresh = time.perf_counter() - started
    rollup_tables.drop_tables(writer)
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {
        "baseline_s": round(medians["baseline"], 3),
        "events_s": round(medians["events"], 3),
        "kanal_s": round(medians["kanal"], 4),
        "ratio": round(medians["kanal"] / medians["baseline"], 4),
        "rollup_build_s": round(build, 2),
        "rollup_refresh_s": round(refresh, 2),
        "rollup_refresh_days": refreshed["days"],
        "runs": {k: [round(x, 4) for x in v] for k, v in times.items()},
        "month_total": answers["kanal"]["total"],
    }


def main(argv: list[str]) -> int:
    global BASELINE
    quick = "--quick" in argv
    ref = next((a.split("=", 1)[1] for a in argv if a.startswith("--baseline=")), "ae71b23")
    BASELINE = baseline_queries(ref)
    contacts = 5_000 if quick else 50_000
    runs = 3 if quick else 5
    rows = month_of_events(contacts)
    out = {
        "about": {
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "contacts": contacts,
            "events": len(rows),
            "window": "2026-03-01..2026-03-31, group_by=channel",
            "quick": quick,
            "baseline": f"analytics/queries.py at {ref}",
        }
    }
    with tempfile.TemporaryDirectory() as tmp:
        engine = load(f"sqlite:///{tmp}/month.db", rows)
        engine.dispose()
        writer = create_engine(f"sqlite:///{tmp}/month.db")
        reader = reader_engine(writer)
        out["sqlite"] = timed(reader, writer, runs)
        reader.dispose()
        writer.dispose()
        print("sqlite", {k: v for k, v in out["sqlite"].items() if k != "month_total"})
    pg = os.environ.get("KANAL_TEST_POSTGRES_URL")
    if pg and "--sqlite-only" not in argv:
        admin = create_engine(pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS bench_channel_shift"))
            conn.execute(text("CREATE DATABASE bench_channel_shift"))
        url = pg.rsplit("/", 1)[0] + "/bench_channel_shift"
        engine = load(url, rows)
        try:
            out["postgresql"] = timed(engine, engine, runs)
            print("postgresql", {k: v for k, v in out["postgresql"].items() if k != "month_total"})
        finally:
            engine.dispose()
            with admin.connect() as conn:
                conn.execute(text("DROP DATABASE IF EXISTS bench_channel_shift"))
            admin.dispose()
    print(f"written: {results.write('channel_shift', out, quick=quick)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
