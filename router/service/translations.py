"""kanal's own words in the citizen's language: Babel message catalogues.

Every text kanal itself writes to a citizen (queue and handoff texts, SMS keyword answers,
the chat widget's own words, the policy's reasons) is an English message id, translated
through the catalogues in `router/translations/<language>/LC_MESSAGES/messages.po`.
`pybabel extract -F babel.cfg` finds the ids (`make translations` also updates every
catalogue); docs/translations.md says how an agency adds a language.

The `.po` files are read and compiled in memory the first time a language is asked for, so
a fresh clone needs no compile step and an edited catalogue is used on the next start.
A language without a catalogue, or a message without a translation, falls back to English.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

CATALOGUES = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"
FALLBACK = "en"


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Mark a message id for extraction where it is defined; translate it where it is used."""
    return message


@lru_cache(maxsize=1)
def available() -> tuple[str, ...]:
    """Return the languages kanal ships a catalogue for, sorted."""
    return tuple(
        sorted(p.parent.parent.name for p in CATALOGUES.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    )


def language_code(value: str | None) -> str | None:
    """Return the two-letter code of a language tag ("da-DK" → "da"), or None."""
    if not value:
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    return code if len(code) == 2 and code.isalpha() else None


@cache
def _catalogue(language: str) -> NullTranslations:
    path = CATALOGUES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.is_file():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as `pybabel compile` does
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@dataclass(frozen=True)
class Translator:
    """A gettext for one language: `_("Hello {name}", name=...)` translates, then fills in."""

    language: str
    catalogue: NullTranslations

    def __call__(self, message: str, **values: object) -> str:
        text = self.catalogue.gettext(message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        """Translate a message whose form depends on the number `n` (filled in as {n})."""
        return self.catalogue.ngettext(singular, plural, n).format(n=n, **values)

    def all(self, messages: Iterable[str]) -> dict[str, str]:
        """Return the translations of several message ids (the chat widget's words)."""
        return {m: self.catalogue.gettext(m) for m in messages}


def translator(language: str | None) -> Translator:
    """Return the translator for a language; English when kanal has no catalogue for it."""
    code = language_code(language)
    if code not in available():
        code = FALLBACK
    return Translator(code, _catalogue(code))


def placeholders(text: str) -> set[str]:
    """Return the names a text fills in with str.format ({name}), for checking translations."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
