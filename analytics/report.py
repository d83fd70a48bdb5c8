"""The channel-shift report of a period: one function the JSON API, the CSV and the dashboard
share (`channel_shift_report`).

It reads the event log through analytics' read-only engine and answers a plain dict: the
window, the definitions, one row per group, the total and, when asked, the citizens' channel
migration from an earlier period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, select

from analytics import (
    exemption_reminders,
    metrics,
    occupancy,
    occupancy_log,
    occupancy_rollup,
    rollup_figures,
    rollup_kept,
    rollups,
)
from analytics.log import contact_events as E
from analytics.queries import window_facts
from router.domain import events as ev

# The groupings a report can also be narrowed to (`filters`: grouping → group).
FILTERS = tuple(g for g in metrics.GROUPINGS if g != "none")


@dataclass(frozen=True)
class Query:
    """What a manager asks: a window, a grouping, filters, thresholds and prices, and an
    earlier window to compare citizens' channels with."""

    window: metrics.Window
    group_by: str = "channel"
    filters: Mapping[str, str] = field(default_factory=dict)
    settings: metrics.Settings = field(default_factory=metrics.Settings)
    compare: metrics.Window | None = None
    # Count distinct citizens (`citizens`, `exempt_citizens`, `exemption_share`); a page
    # that shows none of them asks without, and those fields are null.
    citizens: bool = True


def settings_of(config: Mapping) -> metrics.Settings:
    """Return the report's thresholds and prices from kanal's configuration."""
    costs = dict(metrics.DEFAULT_COSTS)
    for kind in ("digital", "phone", "assisted_written"):
        value = config.get(f"KANAL_COST_{kind.upper()}")
        if value is not None:
            costs[kind] = float(value)
    return metrics.Settings(
        short_abandon_seconds=int(
            config.get("KANAL_SHORT_ABANDON_SECONDS", metrics.SHORT_ABANDON_SECONDS)
        ),
        service_level_seconds=int(
            config.get("KANAL_SERVICE_LEVEL_SECONDS", metrics.SERVICE_LEVEL_SECONDS)
        ),
        costs=costs,
    )


def _begin(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        # All statements read one snapshot, and nothing here can write.
        conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)


def rows_of(
    facts: list[metrics.ContactFacts], query: Query
) -> tuple[list[metrics.Row], metrics.Row]:
    """Return one row per group and the total of the contacts the filters keep."""
    kept = [c for c in facts if metrics.matches(c, query.filters)]
    return metrics.channel_shift(kept, group_by=query.group_by, settings=query.settings)


def facts_of(engine: Engine, window: metrics.Window) -> list[metrics.ContactFacts]:
    """Return the window's contacts, complete, read in one snapshot."""
    with engine.connect() as conn:
        _begin(conn)
        return window_facts(conn, window)


def channels_by_citizen(conn: Connection, window: metrics.Window) -> list[tuple[str, str]]:
    """Return (pseudonym, channel) for each identified contact opened in the window."""
    stmt = select(E.c.citizen, E.c.channel).where(
        E.c.type == ev.CONTACT_OPENED,
        E.c.at >= window.start,
        E.c.at < window.end,
        E.c.citizen.is_not(None),
    )
    return [(r.citizen, r.channel) for r in conn.execute(stmt)]


def migration(engine: Engine, first: metrics.Window, second: metrics.Window) -> dict:
    """Return the citizens' channel migration from the first period to the second."""
    with engine.connect() as conn:
        _begin(conn)
        a, b = channels_by_citizen(conn, first), channels_by_citizen(conn, second)
    return _migration_body(first, second, metrics.channel_migration(a, b))


def _migration_body(first: metrics.Window, second: metrics.Window, matrix: dict) -> dict:
    return {
        "from_period": {"from": first.first_day.isoformat(), "to": first.last_day.isoformat()},
        "to_period": {"from": second.first_day.isoformat(), "to": second.last_day.isoformat()},
        "citizens": sum(sum(row.values()) for row in matrix.values()),
        "matrix": matrix,
    }


def without_citizens(row: metrics.Row) -> metrics.Row:
    """Return the row with its distinct citizens left uncounted (as the rollup answers a
    query that does not ask for them)."""
    return replace(row, citizens=None, exempt_citizens=None, exemption_share=None)


def describe(query: Query, now: datetime | None = None) -> dict:
    """Return the answer's `window`: the period, its bounds, thresholds and whether its
    figures may still change."""
    window = query.window
    return {
        **window.describe(now or datetime.now(UTC)),
        "short_abandon_seconds": query.settings.short_abandon_seconds,
        "service_level_seconds": query.settings.service_level_seconds,
        "costs": dict(query.settings.costs),
        "group_by": query.group_by,
        "filters": dict(query.filters),
    }


def answer(
    query: Query,
    rows: list[metrics.Row],
    total: metrics.Row,
    now: datetime | None = None,
    migration_: dict | None = None,
    source: Mapping | None = None,
) -> dict:
    """Return the report as the API answers it (and the dashboard and CSV read it)."""
    window = query.window
    body = {
        "window": {**describe(query, now), **(source or {"source": "events", "as_of": None})},
        "definitions": metrics.definitions(
            window.repeat_window.days,
            window.followup_window / timedelta(hours=1),
            query.settings.short_abandon_seconds,
            query.settings.service_level_seconds,
        ),
        "rows": [r.as_dict() for r in rows],
        "total": total.as_dict(),
    }
    if migration_ is not None:
        body["migration"] = migration_
    return body


def _as_of(mark: Mapping) -> dict:
    as_of = mark["refreshed_at"]
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    return {"source": "rollup", "as_of": as_of.isoformat()}


def _rollup_mark(engine: Engine, query: Query) -> dict | None:
    w = query.window
    return rollups.usable(
        engine, w.timezone, w.repeat_window.days, w.followup_window / timedelta(hours=1)
    )


def _days(window: metrics.Window) -> tuple:
    return window.first_day, window.last_day


def from_rollup(engine: Engine, queries: list[Query], mark: Mapping, now: datetime) -> list[dict]:
    """Answer the queries from the daily rollup, reading each set of filters' rows once."""
    periods: dict[tuple, rollup_figures.Period] = {}
    source = _as_of(mark)
    answers = []
    with engine.connect() as conn:
        _begin(conn)
        for query in queries:
            kind = (tuple(sorted(query.filters.items())), query.citizens)
            if kind not in periods:
                same = [
                    q for q in queries if (tuple(sorted(q.filters.items())), q.citizens) == kind
                ]
                first = min(q.window.first_day for q in same)
                last = max(q.window.last_day for q in same)
                periods[kind] = rollup_kept.period(conn, first, last, dict(kind[0]), kind[1], mark)
                # Everyone's figures of every window at once (the weeks in one pass).
                periods[kind].totals([_days(q.window) for q in same])
            w = query.window
            rows, total = rollup_figures.rows_of(
                periods[kind], query.group_by, w.first_day, w.last_day, query.settings
            )
            moved = None
            if query.compare is not None:
                matrix = rollup_kept.migration(conn, _days(query.compare), _days(w), mark)
                moved = _migration_body(query.compare, w, matrix)
            answers.append(answer(query, rows, total, now, moved, source))
    return answers


def channel_shift_reports(
    engine: Engine, queries: list[Query], now: datetime | None = None, rollup: bool = True
) -> list[dict]:
    """Return the channel-shift report of each query (`channel_shift_report`), reading the
    daily rollup once for all of them when one is kept: the dashboard's many figures (its
    groupings, each week's trend, the migration) come from one read."""
    now = now or datetime.now(UTC)
    if not queries:
        return []
    if rollup:
        mark = _rollup_mark(engine, queries[0])
        if mark is not None and all(_rollup_mark_fits(q, queries[0]) for q in queries):
            return with_occupancy(engine, queries, from_rollup(engine, queries, mark, now), now)
    answers = [_from_events(engine, q, now) for q in queries]
    return with_occupancy(engine, queries, answers, now, rollup=False)


def with_occupancy(
    engine: Engine, queries: list[Query], answers: list[dict], now: datetime, rollup: bool = True
) -> list[dict]:
    """Add each answer's agency-wide sections: `occupancy` (and the total's occupancy), read
    once for all the windows, from the occupancy rollup when one fits, else from the events;
    and `exemption_reminders`, from the events. Both are empty in a report narrowed to a
    group: staffed time and reminders belong to no contact's group."""
    first = min(q.window.first_day for q in queries)
    last = max(q.window.last_day for q in queries)
    timezone = queries[0].window.timezone
    reminded: dict[tuple, dict] = {}
    with engine.connect() as conn:
        _begin(conn)
        if rollup and occupancy_rollup.usable(conn, timezone):
            days = occupancy_rollup.read(conn, first, last)
        else:
            days = occupancy_log.days_of(conn, occupancy_log.span(first, last), timezone, now)
        for w in {q.window for q in queries if not q.filters}:
            reminded[w.first_day, w.last_day] = exemption_reminders.read(
                conn, w.start, w.end, timezone, now
            )
    for query, body in zip(queries, answers, strict=True):
        w = query.window
        kept = [d for d in days if w.first_day <= d.day <= w.last_day]
        section = occupancy.summary(kept, applies=not query.filters)
        body["occupancy"] = section
        body["total"]["occupancy"] = section["occupancy"]
        body["exemption_reminders"] = reminded.get(
            (w.first_day, w.last_day), exemption_reminders.empty()
        )
    return answers


def _rollup_mark_fits(query: Query, first: Query) -> bool:
    a, b = query.window, first.window
    return (a.timezone, a.repeat_window, a.followup_window) == (
        b.timezone,
        b.repeat_window,
        b.followup_window,
    )


def _from_events(engine: Engine, query: Query, now: datetime) -> dict:
    rows, total = rows_of(facts_of(engine, query.window), query)
    if not query.citizens:
        rows = [without_citizens(r) for r in rows]
        total = without_citizens(total)
    moved = migration(engine, query.compare, query.window) if query.compare else None
    return answer(query, rows, total, now, moved, None)


def channel_shift_report(
    engine: Engine, query: Query, now: datetime | None = None, rollup: bool = True
) -> dict:
    """Return the whole channel-shift report of a period and filters, as a plain dict:
    `window`, `definitions`, `rows` (one per group of `query.group_by`), `total` and, with
    `query.compare`, `migration`. Every figure is computed from the event log: from the
    daily rollup when the scheduler keeps one (`window.source` "rollup", as of
    `window.as_of`), else from the events at once (`window.source` "events")."""
    return channel_shift_reports(engine, [query], now, rollup)[0]
