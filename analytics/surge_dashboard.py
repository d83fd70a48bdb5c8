"""The dashboard's "Surge mode" section: the figures (analytics/surge_log.py, from the event
log) for the page's days, and the chart drawn from them.

Surge mode is the whole service's, like occupancy: the section is the same whichever group
the page is narrowed to, and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from analytics import surge_log
from analytics.metrics import Window
from analytics.occupancy_log import span


def reader(engine: Engine) -> Callable[[Window, datetime], dict]:
    """Return the section's reader over the dashboard's read-only engine."""

    def read(window: Window, now: datetime) -> dict:
        with engine.connect() as conn:
            return surge_log.section(
                conn, span(window.first_day, window.last_day), window.timezone, now
            )

    return read


def chart(section: dict, _: Callable) -> dict:
    """Minutes in surge mode on each day that had one (the table gives the figures)."""
    days = section["days"]
    return {
        "kind": "bar",
        "labels": [d["day"] for d in days],
        "series": [
            {
                "label": _("Minutes in surge mode"),
                "values": [round(d["seconds"] / 60, 1) for d in days],
            }
        ],
    }


def duration(words, seconds: int | None) -> str:  # noqa: ANN001 - analytics.dashboard_words.Words
    """Say a duration as hours and minutes ("1 h 05 min") or minutes ("12 min")."""
    if seconds is None:
        return "–"
    minutes = round(seconds / 60)
    hours, rest = divmod(minutes, 60)
    if hours:
        return words._("{hours} h {minutes} min", hours=words.count(hours), minutes=f"{rest:02d}")
    return words._("{minutes} min", minutes=words.count(rest))
