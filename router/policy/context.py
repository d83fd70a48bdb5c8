"""What the policy sees on one turn and what it answers: context, action and decision."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from router.domain.model import EXEMPTION_GROUNDS  # noqa: F401 - the grounds are the domain's

CHANNELS = ("webchat", "sms", "voice")
AGE_BANDS = ("under_15", "15_64", "65_79", "80_plus")

# How a ground reads in a reason given to a citizen, an agent or an auditor.
GROUND_WORDS = {
    "impairment": "impairment",
    "no_computer": "no computer at home",
    "emigrated": "emigrated",
    "homeless": "no fixed address",
    "language": "language",
    "no_digital_id": "no digital ID",
}


class Action(StrEnum):
    """What happens to the citizen's message."""

    SELF_SERVICE = "self_service"
    OFFER_DIGITAL = "offer_digital"
    ASSISTED = "assisted"
    CALLBACK = "callback"
    CLOSE = "close"


# Actions that put the citizen in the hands of a person (the invariant's goal).
ASSISTED_SERVICE = frozenset({Action.ASSISTED, Action.CALLBACK})


@dataclass(frozen=True)
class PolicyContext:
    """Everything the policy may look at for one decision; no personal data."""

    channel: str
    exemptions: tuple[str, ...] = ()
    age_band: str | None = None
    identified: bool = False
    need: str | None = None
    confidence: float | None = None
    bot_failures: int = 0
    bot_available: bool = True
    asked_for_person: bool = False
    business_hours: bool = True
    queue_wait_seconds: int = 0
    repeat_contact: bool = False
    digital_offered: bool = False


@dataclass(frozen=True)
class Decision:
    """The policy's answer: an action, the rule that chose it and why, in plain language."""

    action: Action
    rule_id: str
    reason: str
    skill: str | None = None
    priority: int = 0
