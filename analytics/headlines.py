"""The dashboard's headline figures, in the order the page shows them, and their targets."""

from __future__ import annotations

from dataclasses import dataclass

from analytics.dashboard_words import N_


@dataclass(frozen=True)
class Target:
    """A figure's target: at least `value` (higher is better) or at most `value`."""

    value: float
    higher_is_better: bool

    def met(self, figure: float | None) -> bool | None:
        if figure is None:
            return None
        return figure >= self.value if self.higher_is_better else figure <= self.value


# The headline figures, in the order the page shows them: (field, label, kind, target).
HEADLINES = (
    ("digital_take_up", N_("Digital take-up"), "percent", Target(0.80, True)),
    ("completion_rate", N_("Completion rate"), "percent", None),
    ("user_satisfaction", N_("User satisfaction"), "percent", Target(0.80, True)),
    ("bot_containment", N_("Bot containment"), "percent", Target(0.60, True)),
    ("handoff_rate", N_("Handoff rate"), "percent", Target(0.30, False)),
    ("service_level", N_("Service level"), "percent", Target(0.80, True)),
    ("abandonment_rate", N_("Abandonment"), "percent", Target(0.05, False)),
    ("first_contact_resolution", N_("First contact resolution"), "percent", Target(0.70, True)),
    ("cost_per_contact", N_("Cost per contact"), "money", None),
    ("savings", N_("Savings against the phone"), "money", None),
)
LOWER_IS_BETTER = {"handoff_rate", "abandonment_rate"}
RATES = {name for name, _label, kind, _target in HEADLINES if kind == "percent"}
DEFAULT_TARGETS = {name: target for name, _l, _k, target in HEADLINES if target is not None}


def targets(spec: str) -> dict[str, Target]:
    """Return the headline targets, with `KANAL_TARGETS` ("digital_take_up=0.8,...") applied.

    Raise ValueError naming what is wrong: an unknown figure or a value outside 0-1.
    """
    chosen = dict(DEFAULT_TARGETS)
    for item in (part.strip() for part in (spec or "").split(",")):
        if not item:
            continue
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in RATES:
            raise ValueError(
                f"KANAL_TARGETS: unknown figure {name!r}; one of {', '.join(sorted(RATES))}"
            )
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"KANAL_TARGETS: {name} needs a number from 0 to 1") from None
        if not 0 <= number <= 1:
            raise ValueError(f"KANAL_TARGETS: {name} needs a number from 0 to 1, not {value}")
        chosen[name] = Target(number, name not in LOWER_IS_BETTER)
    return chosen
