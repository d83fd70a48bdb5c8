"""How an agent closes a contact: a wrap-up code (what was done) and an outcome (how it ended).

The outcome is what the managers' figures read (docs/domain.md §4): `resolved` and
`assisted_digital` (a person helped the citizen through the digital service, GDS's "assisted
digital") complete the citizen's need, and so does `ineligible` (the citizen's need was settled:
they are not entitled; GOV.UK's completion rate counts an ineligible outcome as completed);
`referred` (sent elsewhere) and `not_resolved` do not.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """How a contact an agent handled ended for the citizen's need."""

    RESOLVED = "resolved"
    ASSISTED_DIGITAL = "assisted_digital"
    REFERRED = "referred"
    NOT_RESOLVED = "not_resolved"
    INELIGIBLE = "ineligible"


# Outcomes that complete the citizen's need (completed=true on the `resolved` event).
COMPLETES = frozenset({Outcome.RESOLVED, Outcome.ASSISTED_DIGITAL, Outcome.INELIGIBLE})

# Wrap-up codes: what the agent did. Stored on the contact and its `resolved` event.
WRAP_UP_CODES = (
    "answered",
    "digital_route_shown",
    "application_helped",
    "change_registered",
    "referred",
    "callback_done",
    "complaint_taken",
    "no_answer_needed",
)


def outcome_of(value: str) -> Outcome:
    """Return the outcome a form or an API named; ValueError names the ones there are."""
    try:
        return Outcome(value)
    except ValueError:
        known = ", ".join(o.value for o in Outcome)
        raise ValueError(f"the outcome must be one of {known} (got {value!r})") from None


def completes(outcome: Outcome) -> bool:
    """Return True when the outcome completes the citizen's need."""
    return outcome in COMPLETES
