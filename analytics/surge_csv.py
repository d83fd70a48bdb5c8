"""Surge mode as CSV (`GET /api/v1/metrics/surges.csv`): the figures of the dashboard's
section and of `GET /api/v1/metrics/surges`, in one table a spreadsheet opens.

One row per surge (`row` = surge), then one per day (`row` = day; a surge over midnight counts
on both days), then the whole period (`row` = total); a column a kind of row does not have is
empty. `surges` is the surges started that day on a day's row, the surges in the period on
the total's. Times are in the agency's time zone; an `ended_at` left empty: still on.
"""

from __future__ import annotations

from collections.abc import Iterator

COLUMNS = (
    "row",
    "started_at",
    "ended_at",
    "day",
    "surges",
    "lasted_seconds",
    "seconds",
    "started_wait_seconds",
    "answered",
    "longest_wait_seconds",
    "mean_wait_seconds",
    "callbacks_offered",
    "callbacks_booked",
    "callbacks_made",
)


def rows(section: dict) -> Iterator[dict]:
    """The section's surges, days and whole (analytics/surge_periods.summary) as CSV rows."""
    for period in section["periods"]:
        yield {"row": "surge", **period}
    for day in section["days"]:
        yield {"row": "day", "surges": day["surges_started"], **day}
    yield {"row": "total", **section["total"]}
