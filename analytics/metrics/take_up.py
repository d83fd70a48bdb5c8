"""Completed needs and digital take-up (docs/domain.md §4): whether a contact completed the
citizen's need, and how — digital self-service, assisted digital, or otherwise."""

from __future__ import annotations

from collections.abc import Iterable

from analytics.metrics.facts import ContactFacts
from analytics.metrics.figures import ratio

# The desk's outcome for a person who took the citizen through the digital route
# (router/domain/wrapup.py); contacts resolved before the desk recorded outcomes said it with
# the wrap-up code alone.
ASSISTED_DIGITAL_OUTCOME = "assisted_digital"
ASSISTED_DIGITAL_WRAP_UP = "digital_route_shown"
# The ways of completing a need that digital take-up counts (§4.1: self-service, or assisted
# digital); "other" (a person, or the phone) is the rest of the completed needs.
TAKE_UP = ("digital", "assisted_digital")


def is_in_progress(c: ContactFacts) -> bool:
    """Return True for a contact still open at query time (not a failure: not yet settled)."""
    return c.ended_at is None


def is_served_by_person(c: ContactFacts) -> bool:
    return c.assisted or c.assigned_at is not None or c.resolved_by == "agent"


def is_completed(c: ContactFacts) -> bool:
    """Return True when the contact completed the citizen's need (docs/domain.md §4.2).

    An agent's wrap-up says so; a bot conversation completed a need only when a need was
    recognised and the bot's last turn answered it (not a failure) before the conversation
    ended without a person. A call on which the citizen took the digital route (the link
    texted) and no person served them handed the need to that route: the call did not
    complete it, whatever the phone's assistant said before the link; the self-service's
    report within the follow-up window does (a completed deflection, `completion`).
    """
    if not c.completed:
        return False
    if c.deflection_accepted_at is not None and not is_served_by_person(c):
        return False
    if c.resolved_by == "bot":
        return c.need is not None and c.bot_answered_last and not c.handed_off
    return True


def completion(c: ContactFacts) -> str | None:
    """Return how the contact's need was completed: digital (self-service on a digital
    channel, or a completed deflection), assisted_digital (a person showed the citizen through
    the digital route), other (a person, or the phone), or None when not completed."""
    if is_completed(c):
        if c.outcome == ASSISTED_DIGITAL_OUTCOME or (
            c.outcome is None and c.wrap_up == ASSISTED_DIGITAL_WRAP_UP
        ):
            return "assisted_digital"
        if is_served_by_person(c) or not c.digital:
            return "other"
        return "digital"
    if c.deflection_completed:
        return "digital"
    return None


def need_completion(c: ContactFacts) -> str | None:
    """Return how the contact completed a need as the figures count it: `completion`, but
    None for a need the same citizen completed in an earlier contact within the repeat window
    (the same need, not counted again). Completed needs and digital take-up count these, in
    the report and in the policy simulator alike."""
    return None if c.completes_again else completion(c)


def is_completed_digital(c: ContactFacts) -> bool:
    return completion(c) == "digital"


def is_resolved(c: ContactFacts) -> bool:
    """Return True for a contact marked resolved with its need completed, and ended."""
    return c.ended_at is not None and is_completed(c)


def digital_take_up(contacts: Iterable[ContactFacts]) -> float | None:
    """Return needs completed digitally (self-service or assisted digital) ÷ completed needs."""
    done = [k for k in map(need_completion, contacts) if k is not None]
    return ratio(sum(1 for k in done if k in TAKE_UP), len(done))
