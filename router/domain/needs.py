"""What a citizen came to get done, as the bot's intents name it."""

from __future__ import annotations

import re

# The bot did not understand: the one list the router, the policy search and the bot's
# evaluation share.
NOT_UNDERSTOOD = frozenset({"nlu_fallback", "out_of_scope"})

# Needs a benefit qualifies: their digital route and their queue skill are the benefit's.
BENEFIT_NEEDS = frozenset(
    {"apply_benefit", "payment_date", "missing_payment", "application_status"}
)

# Intents that are conversation moves rather than needs a citizen came to get done.
NON_NEEDS = frozenset({"greet", "thanks", "goodbye", "request_person"}) | NOT_UNDERSTOOD


def need_of(intent: str | None, entities: tuple[tuple[str, str], ...] = ()) -> str | None:
    """Return the citizen's need named by an intent, or None for conversation moves.

    A need about one benefit names it when the citizen did: "apply_benefit:pension",
    "payment_date:pension" (the first benefit named counts).
    """
    if not intent or intent in NON_NEEDS:
        return None
    benefit = next((value for name, value in entities if name == "benefit"), None)
    if intent in BENEFIT_NEEDS and benefit:
        return f"{intent}:{benefit}"
    return intent


def not_understood(intent: str | None) -> bool:
    """Return True when the bot's intent says it did not understand the citizen."""
    return intent in NOT_UNDERSTOOD


# A request for a person must work even when the bot is down, in the languages we serve.
_PERSON = re.compile(
    r"\b(human|person|agent|operator|someone real|real person|staff|adviser|advisor"
    r"|menneske|medarbejder|sagsbehandler|personne|conseiller|humain)\b",
    re.IGNORECASE,
)


def asks_for_person(text: str) -> bool:
    """Return True when the words alone ask for a person, whatever the bot makes of them."""
    return bool(_PERSON.search(text))
