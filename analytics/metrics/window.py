"""The window a report covers: calendar days in the agency's time zone, with the repeat and
the deflection follow-up windows that decide when its figures are final."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from analytics.metrics.service_level import SHORT_ABANDON_SECONDS

REPEAT_WINDOW_DAYS = 7  # docs/domain.md §4.1: repeat contact "within 7 days"
FOLLOWUP_WINDOW_HOURS = 48  # the deflection follow-up window (KANAL_DEFLECTION_FOLLOWUP_HOURS)


@dataclass(frozen=True)
class Window:
    """The calendar days a report covers, in the agency's time zone, as UTC instants."""

    first_day: date
    last_day: date
    timezone: str
    repeat_window: timedelta = timedelta(days=REPEAT_WINDOW_DAYS)
    followup_window: timedelta = timedelta(hours=FOLLOWUP_WINDOW_HOURS)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), ZoneInfo(self.timezone)).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """Return the first instant after the window (exclusive bound)."""
        next_day = self.last_day + timedelta(days=1)
        return datetime.combine(next_day, time(0), ZoneInfo(self.timezone)).astimezone(UTC)

    def final_after(self) -> datetime:
        """Return when no repeat contact can change the window's containment, nor another
        contact or a completion its deflections, any more."""
        return self.end + max(self.repeat_window, self.followup_window)

    def describe(self, now: datetime) -> dict:
        return {
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "timezone": self.timezone,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "repeat_window_days": self.repeat_window.days,
            "followup_window_hours": self.followup_window / timedelta(hours=1),
            "short_abandon_seconds": SHORT_ABANDON_SECONDS,
            "final_after": self.final_after().isoformat(),
            "provisional": now < self.final_after(),
        }
