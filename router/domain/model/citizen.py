"""The citizen register's people: a citizen, their exemptions from digital self-service and
their consent to be messaged on a channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from router.domain import events as ev
from router.domain.events import Happened
from router.domain.model.aggregate import Aggregate, IllegalTransition

EXEMPTION_GROUNDS = (
    "impairment",
    "no_computer",
    "emigrated",
    "homeless",
    "language",
    "no_digital_id",
)


@dataclass
class Citizen:
    """A person in the citizen register, known elsewhere only by `pseudonym`."""

    pseudonym: str
    phone: str | None = None
    name: str | None = None
    language: str = "en"
    birth_year: int | None = None
    created_at: datetime | None = None
    id: int | None = None


@dataclass
class Exemption(Aggregate):
    """A registered exemption from digital self-service (docs/domain.md §2.5)."""

    citizen_id: int
    ground: str
    valid_from: date
    valid_until: date | None = None
    registered_by: str = ""
    created_at: datetime | None = None
    # The end date the citizen was last reminded of (one reminder per end date, §2.5).
    reminded_for: date | None = None
    id: int | None = None

    def is_valid_on(self, day: date) -> bool:
        """Return True when the exemption applies on `day` (inclusive bounds)."""
        if day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until

    def needs_reminder(self, today: date, days: int) -> bool:
        """Return True when the exemption ends within `days` of `today` (and has not ended)
        and the citizen was not yet reminded of that end date."""
        if self.valid_until is None or self.reminded_for == self.valid_until:
            return False
        return self.is_valid_on(today) and self.valid_until <= today + timedelta(days=days)

    def remind(
        self, now: datetime, today: date, days: int, *, sent: bool, why: str | None = None
    ) -> list[Happened]:
        """Record the reminder of the end date: texted (`sent`), or not and why. Once per
        end date: a renewal with a new end date can be reminded again."""
        if not self.needs_reminder(today, days):
            raise IllegalTransition("this exemption has no reminder due")
        self.reminded_for = self.valid_until
        data = {"exemption_id": self.id, "ground": self.ground,
                "valid_until": self.valid_until.isoformat(), "sent": sent, "why": why}  # fmt: skip
        return [self._happened(ev.EXEMPTION_REMINDED, now, **data)]


@dataclass
class Consent:
    """Whether a channel address may be messaged (SMS opt-out/opt-in)."""

    channel: str
    address: str
    opted_in: bool
    changed_at: datetime
    keyword: str | None = None
    id: int | None = None
