"""What the policy sees on one turn and what it answers: context, action and decision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from router.domain.channels import CHANNELS  # noqa: F401 - the channels are the domain's
from router.domain.model import EXEMPTION_GROUNDS  # noqa: F401 - the grounds are the domain's

# The channels kanal ships (channels.INSTALLED). A profile is read against the channels of the
# running kanal's registry (`load_profile(..., channels=...)`), so one that names a channel
# added later loads; these are the default when no registry is at hand (`kanal policy check`).
AGE_BANDS = ("under_15", "15_64", "65_79", "80_plus")


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Mark a message id for translation (router/service/translations.py translates it)."""
    return message


# How a ground reads in a reason given to a citizen, an agent or an auditor.
GROUND_WORDS = {
    "impairment": N_("impairment"),
    "no_computer": N_("no computer at home"),
    "emigrated": N_("emigrated"),
    "homeless": N_("no fixed address"),
    "language": N_("language"),
    "no_digital_id": N_("no digital ID"),
}
NO_GROUNDS = N_("none")
NEED_NOT_KNOWN = N_("not known yet")


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
    # Surge mode is on: the queues' wait passed the profile's threshold (router/domain/surge.py).
    surge: bool = False


@dataclass(frozen=True)
class Decision:
    """The policy's answer: an action, the rule that chose it and why, in plain language."""

    action: Action
    rule_id: str
    reason: str
    skill: str | None = None
    priority: int = 0
    # The rule's reason as written in the profile (a message id of the translations) and
    # what it quotes, so the reason can be given again in the citizen's language.
    template: str = field(default="", compare=False)
    values: tuple[tuple[str, object], ...] = field(default=(), compare=False)
    # Taken by one of the profile's surge rules (router/policy/surge.py): a callback it
    # books is recorded as a surge's, apart from one the citizen asked for.
    surge: bool = field(default=False, compare=False)

    def explain(self, translate: Callable[[str], str] = str) -> str:
        """Return the reason in the words `translate` gives (English: the stored reason)."""
        if not self.template:
            return self.reason
        return reason_text(self.template, dict(self.values), translate)


def reason_text(
    template: str, values: dict[str, object], translate: Callable[[str], str] = str
) -> str:
    """Fill in a reason: grounds as words, the need as words, in `translate`'s language."""
    grounds = values.get("grounds") or ()
    words = ", ".join(translate(GROUND_WORDS.get(g, g)) for g in grounds)  # type: ignore[union-attr]
    need = values.get("need")
    return translate(template).format(
        **{
            **values,
            "grounds": words or translate(NO_GROUNDS),
            "need": _need_words(need) if need else translate(NEED_NOT_KNOWN),
        }
    )


def _need_words(need: object) -> str:
    """Return a need as words: "apply_benefit:pension" reads "apply benefit (pension)"."""
    intent, _, qualifier = str(need).replace("_", " ").partition(":")
    return f"{intent} ({qualifier})" if qualifier else intent
