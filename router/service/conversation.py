"""Pure helpers for one turn: what the citizen asked for and how the bot did."""

from __future__ import annotations

import re

# Intents that are conversation moves rather than needs a citizen came to get done.
NON_NEEDS = frozenset(
    {"greet", "thanks", "goodbye", "request_person", "out_of_scope", "nlu_fallback"}
)
FAILED_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})

# A request for a person must work even when the bot is down, in the languages we serve.
_PERSON = re.compile(
    r"\b(human|person|agent|operator|someone real|real person|staff|adviser|advisor"
    r"|menneske|medarbejder|sagsbehandler|personne|conseiller|humain)\b",
    re.IGNORECASE,
)


def asks_for_person(text: str) -> bool:
    """Return True when the words alone ask for a person, whatever the bot makes of them."""
    return bool(_PERSON.search(text))


def need_of(intent: str | None, entities: tuple[tuple[str, str], ...] = ()) -> str | None:
    """Return the citizen's need named by an intent, or None for conversation moves.

    An application names its benefit when the citizen did: "apply_benefit:pension".
    """
    if not intent or intent in NON_NEEDS:
        return None
    benefit = next((value for name, value in entities if name == "benefit"), None)
    if intent == "apply_benefit" and benefit:
        return f"{intent}:{benefit}"
    return intent


def bot_failed(ok: bool, intent: str | None) -> bool:
    """Return True when the bot could not help with this turn."""
    return not ok or intent in FAILED_INTENTS
