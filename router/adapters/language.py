"""Identify the language of a citizen's message with Lingua (lingua-language-detector).

Lingua's models are statistical n-gram models shipped inside the package (no download),
accurate on short texts; restricted to the languages the agency serves, one message takes
about 40 µs once the models are loaded (benchmarks/language_id). A message is given a
language only when Lingua is confident; "ok" or a name stays unsure, and the conversation's
language is then decided by a later message.
"""

from __future__ import annotations

import threading

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

MIN_CONFIDENCE = 0.7  # chosen on benchmarks/language_id's short messages


class UnknownLanguage(ValueError):
    """A language the identifier has no model for."""


def lingua_language(code: str) -> Language:
    """Return Lingua's language for an ISO 639-1 code."""
    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
    except (AttributeError, ValueError):
        raise UnknownLanguage(f"Lingua cannot identify the language {code!r}") from None


class LinguaIdentifier:
    """The language-identification port over Lingua, among the agency's languages only."""

    def __init__(self, languages: tuple[str, ...], min_confidence: float = MIN_CONFIDENCE) -> None:
        self.languages = tuple(languages)
        self.min_confidence = min_confidence
        self._by_lingua = {lingua_language(code): code for code in self.languages}
        self._detector = None
        self._lock = threading.Lock()

    def _built(self):
        with self._lock:
            if self._detector is None:
                self._detector = LanguageDetectorBuilder.from_languages(*self._by_lingua).build()
            return self._detector

    def load(self) -> None:
        """Load the models now. Lingua holds the GIL while it loads them (1-2 s on a busy
        machine), so none of the process' other threads runs meanwhile: a process that
        serves should load them before it does, not on a citizen's first message."""
        if len(self._by_lingua) > 1:
            self._built()

    @property
    def loaded(self) -> bool:
        """Whether identifying a message is now only the identification itself."""
        return len(self._by_lingua) == 1 or self._detector is not None

    def identify(self, text: str) -> str | None:
        """Return the language of `text` when Lingua is confident, else None."""
        if len(self._by_lingua) == 1:
            return self.languages[0]
        values = self._built().compute_language_confidence_values(text)
        if not values or values[0].value < self.min_confidence:
            return None
        return self._by_lingua.get(values[0].language)
