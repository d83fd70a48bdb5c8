"""Bot containment and handoff: bot conversations that ended without a person and without a
repeat contact, and those the policy passed to a person, by the rule that did it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from analytics.metrics.facts import ContactFacts
from analytics.metrics.figures import ratio


def is_bot_conversation(c: ContactFacts) -> bool:
    return c.bot


def is_handed_off(c: ContactFacts) -> bool:
    """Return True for a bot conversation the policy passed to a person."""
    return c.bot and c.handed_off


def is_contained(c: ContactFacts, repeats: frozenset[int] = frozenset()) -> bool:
    """Return True for a bot conversation that ended without handoff and without a repeat."""
    return (
        c.bot
        and not c.handed_off
        and c.ended_at is not None
        and not c.repeats_after
        and c.contact_id not in repeats
    )


def bot_containment(
    contacts: Iterable[ContactFacts], repeats: frozenset[int] = frozenset()
) -> float | None:
    """Return contained bot conversations ÷ settled bot conversations (ended or handed off)."""
    settled = [c for c in contacts if c.bot and (c.handed_off or c.ended_at is not None)]
    return ratio(sum(1 for c in settled if is_contained(c, repeats)), len(settled))


def handoff_rate(contacts: Iterable[ContactFacts]) -> float | None:
    """Return bot conversations handed to a person ÷ bot conversations."""
    bot = [c for c in contacts if is_bot_conversation(c)]
    return ratio(sum(1 for c in bot if is_handed_off(c)), len(bot))


def handoff_reasons(contacts: Iterable[ContactFacts]) -> dict[str, int]:
    """Return handed-off bot conversations counted by the rule that handed them off."""
    counts = Counter(c.handoff_rule or "unknown" for c in contacts if is_handed_off(c))
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
