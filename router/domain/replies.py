"""Canned replies: an agency's prepared answers per need, in the citizen's language.

A reply's text may name placeholders the desk fills in from what kanal knows, so the agent
never asks for it: `{first_name}` (the citizen register's name), `{next_payment_date}` (the
next benefit payment, by the agency's rule below) and `{agency}`. A placeholder kanal cannot
fill stays as written, for the agent to replace before sending.
"""

from __future__ import annotations

import calendar
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

ANY_NEED = "*"
PLACEHOLDERS = frozenset({"first_name", "next_payment_date", "agency"})


@dataclass(frozen=True)
class CannedReply:
    """One prepared answer: for a need ("payment_date", "payment_date:pension" or "*")."""

    need: str
    titles: Mapping[str, str]  # language -> title
    texts: Mapping[str, str]  # language -> text with placeholders

    def __post_init__(self) -> None:
        for language, text in self.texts.items():
            unknown = _names(text) - PLACEHOLDERS
            if unknown:
                raise ValueError(
                    f"reply for {self.need!r} ({language}) names unknown placeholders "
                    f"{sorted(unknown)}; kanal fills in {sorted(PLACEHOLDERS)}"
                )
        if not self.texts:
            raise ValueError(f"reply for {self.need!r} has no text")

    def fits(self, need: str | None) -> bool:
        """Return True when the reply is for this need (or for a need's base, or any need)."""
        if self.need == ANY_NEED:
            return True
        if not need:
            return False
        return self.need in (need, need.partition(":")[0])

    def language_for(self, wanted: Iterable[str]) -> str:
        """Return the first wanted language the reply is written in, else its first one."""
        return next((lang for lang in wanted if lang in self.texts), next(iter(self.texts)))


def replies_for(replies: Iterable[CannedReply], need: str | None) -> list[CannedReply]:
    """Return the replies for a need: the most specific first, "any need" ones last."""
    fitting = [r for r in replies if r.fits(need)]
    return sorted(fitting, key=lambda r: (r.need == ANY_NEED, ":" not in r.need))


def fill(text: str, values: Mapping[str, str]) -> str:
    """Fill in the placeholders kanal knows; leave the others as written ("{first_name}")."""
    out = []
    for literal, name, _spec, _conv in string.Formatter().parse(text):
        out.append(literal)
        if name is not None:
            known = values.get(name)
            out.append(known if known else "{" + name + "}")
    return "".join(out)


def unfilled(text: str) -> set[str]:
    """Return the placeholders still in a text (the agent must replace them)."""
    return _names(text)


def next_payment_date(today: date) -> date:
    """Return the next benefit payment: the last banking day (Monday to Friday) of the month,
    today's month while it is still to come, else next month's (Udbetaling Danmark's rule for
    pensions; public holidays are not counted)."""
    payday = _last_weekday(today.year, today.month)
    if payday < today:
        following = today.replace(day=28) + timedelta(days=4)
        payday = _last_weekday(following.year, following.month)
    return payday


def _last_weekday(year: int, month: int) -> date:
    day = date(year, month, calendar.monthrange(year, month)[1])
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _names(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
