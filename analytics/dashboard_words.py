"""The dashboard's words: numbers formatted and groups named in the page's language.

`N_` marks a message id for the catalogues (`pybabel extract` looks for it); the page
translates it where it is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from babel.numbers import format_decimal
from flask import url_for

from router.domain.channels import SMS, VOICE, WEBCHAT

LANGUAGE_NAMES = {"da": "Dansk", "en": "English", "sv": "Svenska", "de": "Deutsch"}


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Mark a message id for the catalogues; the page translates it where it is shown."""
    return message


GROUP_WORDS = {
    WEBCHAT: N_("web chat"),
    SMS: N_("SMS"),
    VOICE: N_("phone"),
    "exempt": N_("exempt"),
    "not_exempt": N_("not exempt"),
    "unidentified": N_("not identified"),
    "unknown": N_("unknown"),
    "unrecognised": N_("not recognised"),
    "under_15": N_("under 15"),
    "15_64": N_("15-64"),
    "65_79": N_("65-79"),
    "80_plus": N_("80 or over"),
    "all": N_("everyone"),
    "da": N_("Danish"),
    "en": N_("English"),
}


class Words:
    """Formats numbers and names groups in the page's language."""

    def __init__(self, _: Callable) -> None:
        self._ = _
        self.language = getattr(_, "language", "en")
        self._said: dict[tuple, str] = {}  # a page repeats many numbers; Babel is slow

    def _number(self, value: float, pattern: str | None = None) -> str:
        key = (value, pattern)
        if key not in self._said:
            self._said[key] = format_decimal(value, format=pattern, locale=self.language)
        return self._said[key]

    def count(self, value: float | None) -> str:
        return "–" if value is None else self._number(value)

    def percent(self, value: float | None) -> str:
        if value is None:
            return "–"
        return self._number(value * 100, "#,##0.0") + " %"

    def money(self, value: float | None) -> str:
        if value is None:
            return "–"
        return self._number(value, "#,##0.00")

    def seconds(self, value: float | None) -> str:
        if value is None:
            return "–"
        return self._("{seconds} s", seconds=self._number(round(value)))

    def hours(self, seconds: float | None) -> str:
        if seconds is None:
            return "–"
        return self._("{hours} h", hours=self._number(seconds / 3600, "#,##0.0"))

    def figure(self, value: float | None, kind: str) -> str:
        return {
            "percent": self.percent,
            "money": self.money,
            "seconds": self.seconds,
            "hours": self.hours,
        }.get(kind, self.count)(value)

    def group(self, name: str) -> str:
        return self._(GROUP_WORDS[name]) if name in GROUP_WORDS else name.replace("_", " ")


def language_switch(
    config: Mapping, args: Mapping, language: str, endpoint: str = "dashboard.overview"
) -> list[tuple[str, str, str]]:
    """The language switch: the same page in each other language the agency serves."""
    return [
        (code, LANGUAGE_NAMES.get(code, code), url_for(endpoint, **{**args, "lang": code}))
        for code in config.get("KANAL_LANGUAGES", ())
        if code != language
    ]
