"""Settings the service layer needs, as a plain value (built from config at the wiring point)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from router.domain.routing import Routing


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours of assisted service in the agency's time zone."""

    opens: time = time(8, 0)
    closes: time = time(16, 0)
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    timezone: str = "Europe/Copenhagen"
    always_open: bool = False

    def open_at(self, moment: datetime) -> bool:
        """Return True when a person can answer at this moment."""
        if self.always_open:
            return True
        local = moment.astimezone(ZoneInfo(self.timezone))
        return local.weekday() in self.weekdays and self.opens <= local.time() < self.closes

    def local(self, moment: datetime) -> datetime:
        """Return the moment in the agency's time zone."""
        return moment.astimezone(ZoneInfo(self.timezone))

    def next_opening(self, moment: datetime) -> datetime:
        """Return when people next answer: `moment` itself when open now."""
        if self.open_at(moment):
            return moment
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone)
        for days in range(8):
            day = (local + timedelta(days=days)).date()
            opening = datetime.combine(day, self.opens, tzinfo=zone)
            if day.weekday() in self.weekdays and opening > local:
                return opening
        return moment  # no opening day configured: as soon as possible


@dataclass(frozen=True)
class RouterSettings:
    """What the router needs to know about the agency."""

    policy_name: str = "denmark"
    business_hours: BusinessHours = field(default_factory=BusinessHours)
    sms_inactivity_minutes: int = 30
    chat_inactivity_minutes: int = 30
    repeat_window_days: int = 7
    average_handle_seconds: int = 240
    # The languages the agency serves (ISO 639-1); the first is used when unsure.
    languages: tuple[str, ...] = ("da", "en")
    # How long a written turn (chat, SMS) waits for the bot to be free before it goes to a
    # person (KANAL_BOT_WAIT_SECONDS); a spoken turn waits the bot's own, shorter, time.
    bot_wait_seconds: float = 10.0
    # Queues, capacities, aging and the offers' and presence's timers (the profile's
    # [routing] section, router/policy/queues.py).
    routing: Routing = field(default_factory=Routing)
