"""Figures kept between requests are never half of a rollup run (analytics/rollup_kept.py):
a mark's generation stands for one set of rows, and a report read while a run writes its rows
answers what was kept before it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, event, select

from analytics import rollup_kept, rollup_mark, rollup_rows, rollup_tables, rollups
from analytics.reader import reader_engine
from tests.integration.test_metric_rollups import TZ, Log, append, report, story

pytestmark = pytest.mark.integration

MONDAY = date(2026, 3, 2)


@pytest.fixture
def engines(database_url):
    writer = create_engine(database_url)
    reader = reader_engine(writer)
    rollup_kept.forget()
    yield reader, writer
    rollup_kept.forget()
    rollup_tables.drop_tables(writer)  # PostgreSQL's test database outlives the test
    if reader is not writer:
        reader.dispose()
    writer.dispose()


def chats(first_id: int, count: int, minute: int = 60) -> list[dict]:
    """Monday's chats answered by the bot, one citizen each."""
    log = Log()
    for n in range(count):
        cid = first_id + n
        spec = {"minute": minute + n, "channel": "webchat", "citizen": f"c_{cid}",
                "need": "tax_card", "exempt": False, "age_band": "15_64",
                "bot_turns": [True], "how": "bot", "length": 5, "score": None}  # fmt: skip
        story(log, cid, spec)
    return log.rows


def monday(reader) -> dict:  # noqa: ANN001
    return report(reader, MONDAY, MONDAY, "channel", rollup=True)


def _seen(reader) -> tuple[str | None, tuple]:  # noqa: ANN001
    """Return the mark's generation and the rollup's rows, as one transaction reads them."""
    with reader.connect() as conn:
        rollup_rows.begin_reading(conn)
        mark = rollup_mark.current_mark(conn)
        daily = rollup_tables.daily
        rows = conn.execute(select(daily).order_by(*daily.primary_key)).all()
    return (mark or {}).get("generation"), tuple(tuple(r) for r in rows)


@pytest.mark.parametrize("batch", [rollups.BATCH, 1], ids=["one transaction", "batches"])
def test_a_generation_stands_for_one_set_of_rows(engines, monkeypatch, batch):
    """Whatever a reader sees between the job's commits: a generation with the rows of
    another (new rows under the old mark) would be kept as the old generation's figures."""
    reader, writer = engines
    append(writer, chats(1, 2))
    rollups.refresh(reader, writer, TZ)
    monkeypatch.setattr(rollups, "BATCH", batch)
    seen: list[tuple[str | None, tuple]] = [_seen(reader)]
    looking = []  # a look is itself a connection given back: not looked at again

    def after_commit(*_):  # noqa: ANN002
        if not looking:
            looking.append(True)
            seen.append(_seen(reader))
            looking.pop()

    append(writer, chats(3, 3))
    # A connection is given back to the pool after its transaction ended: each commit.
    event.listen(writer.pool, "checkin", after_commit)
    try:
        done = rollups.refresh(reader, writer, TZ)
    finally:
        event.remove(writer.pool, "checkin", after_commit)
    seen.append(_seen(reader))
    assert done["contacts"] >= 3  # the new ones (and those the overlap reads again)
    rows_of: dict[str, set[tuple]] = {}
    for generation, rows in seen:
        if generation not in (None, rollup_mark.PENDING):
            rows_of.setdefault(generation, set()).add(rows)
    assert len(rows_of) == 2  # before and after the run
    assert all(len(sets) == 1 for sets in rows_of.values()), "a generation with two sets of rows"


def test_a_report_read_while_a_run_writes_its_rows_is_the_one_kept_before(engines, monkeypatch):
    reader, writer = engines
    append(writer, chats(1, 2))
    rollups.refresh(reader, writer, TZ)
    before = monday(reader)  # kept
    assert before["source"] == "rollup" and before["total"]["contacts"] == 2
    monkeypatch.setattr(rollups, "BATCH", 1)  # a run of several transactions
    during: list[dict] = []
    kept_during: list[int] = []
    contact_rows = rollups.contact_rows

    def between_batches(*args, **kwargs):  # noqa: ANN002, ANN003
        if len(during) < 2:  # the first batch is written, not the others
            during.append(monday(reader))
            if len(during) == 2:  # nothing kept: the rows of the run so far are read
                rollup_kept.forget()
                during.append(monday(reader))
                kept_during.append(len(rollup_kept._PERIODS))
        return contact_rows(*args, **kwargs)

    monkeypatch.setattr(rollups, "contact_rows", between_batches)
    append(writer, chats(3, 3))
    assert rollups.refresh(reader, writer, TZ)["contacts"] >= 3
    assert during[1]["total"] == before["total"]  # not 3 of the 5 contacts
    assert kept_during == [0]  # a read of half a run is not kept
    after = monday(reader)
    assert after["total"]["contacts"] == 5
    assert after == report(reader, MONDAY, MONDAY, "channel", rollup=False) | {"source": "rollup"}
