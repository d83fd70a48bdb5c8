"""What the dashboard shows for a period: every part asked of the report function in one call.

The page shows the same figures as `GET /api/v1/metrics/channel-shift` for the same period:
both call `analytics.report.channel_shift_reports`, which reads the daily rollup once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from analytics import metrics
from analytics.fairness_panel import FAIRNESS_GROUPINGS
from analytics.report import Query

DEFAULT_DAYS = 28  # the period shown when none is asked for: the last four weeks
MAX_DAYS = 366  # a longer period is refused (weekly trends of more than a year)


def default_period(timezone: str, now: datetime) -> tuple[date, date]:
    """The period shown when none is asked for: the last DEFAULT_DAYS days to today."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def weeks(first: date, last: date) -> list[tuple[date, date]]:
    """Split a period into weeks (Monday to Sunday), the first and last clipped to it."""
    out = []
    start = first
    while start <= last:
        end = min(start + timedelta(days=6 - start.weekday()), last)
        out.append((start, end))
        start = end + timedelta(days=1)
    return out


Report = dict  # the report function's answer: window, definitions, rows, total, migration


@dataclass
class Figures:
    """What the page shows for one period, each part as the report function answered it."""

    query: Query
    report: Report  # the chosen grouping, with the migration from the period before
    by_channel: Report
    weekly: list[tuple[date, date, dict]]  # each week's total
    fairness: dict[str, Report]

    @property
    def total(self) -> dict:
        return self.report["total"]


def previous(window: metrics.Window) -> metrics.Window:
    """The period of the same length just before a window (the migration's first period)."""
    days = (window.last_day - window.first_day).days + 1
    return replace(
        window,
        first_day=window.first_day - timedelta(days=days),
        last_day=window.first_day - timedelta(days=1),
    )


def gather(reports: Callable, query: Query, now: datetime) -> Figures:
    """Ask the report function for everything the page shows for the query's period, in one
    call (`channel_shift_reports`: from the daily rollup, one read for every part)."""
    window = query.window
    spans = weeks(window.first_day, window.last_day)
    groupings = ["channel", *(g for g, _label in FAIRNESS_GROUPINGS)]
    extra = [g for g in dict.fromkeys(groupings) if g != query.group_by]
    # The page shows no count of distinct citizens but the migration's: none are counted.
    query = replace(query, citizens=False)
    asked = [
        replace(query, compare=previous(window)),
        *(replace(query, group_by=g, compare=None) for g in extra),
        *(
            replace(
                query,
                window=replace(window, first_day=start, last_day=end),
                group_by="none",
                compare=None,
            )
            for start, end in spans
        ),
    ]
    answers = reports(asked, now)
    main = answers[0]
    grouped = {query.group_by: main, **dict(zip(extra, answers[1 : 1 + len(extra)], strict=True))}
    weekly = [
        (start, end, body["total"])
        for (start, end), body in zip(spans, answers[1 + len(extra) :], strict=True)
    ]
    return Figures(
        query=query,
        report=main,
        by_channel=grouped["channel"],
        weekly=weekly,
        fairness={g: grouped[g] for g, _label in FAIRNESS_GROUPINGS},
    )
