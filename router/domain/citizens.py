"""Pure rules about citizens: pseudonyms, age bands and exemption validity."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime
from zoneinfo import ZoneInfo


def register_day(now: datetime, timezone: str | None) -> date:
    """Return the day it is in the agency's `timezone` (UTC's when none is given): the
    register's exemption dates and birth years are the agency's calendar days, so at 00:30
    in Copenhagen an exemption from that day applies though UTC still says the day before."""
    return now.astimezone(ZoneInfo(timezone)).date() if timezone else now.date()


def pseudonym_for(secret: str, natural_key: str) -> str:
    """Return the stable pseudonymous id of a citizen from a secret and a natural key."""
    digest = hmac.new(secret.encode(), natural_key.encode(), hashlib.sha256).hexdigest()
    return "c_" + digest[:20]


def age_band(birth_year: int | None, today: date) -> str | None:
    """Return the policy's age band for a birth year, or None when unknown."""
    if birth_year is None:
        return None
    age = today.year - birth_year
    if age < 15:
        return "under_15"
    if age < 65:
        return "15_64"
    if age < 80:
        return "65_79"
    return "80_plus"


def default_exemption_expiry(registered_on: date) -> date:
    """Return 1 November of the second calendar year after registration (Danish default)."""
    return date(registered_on.year + 2, 11, 1)
