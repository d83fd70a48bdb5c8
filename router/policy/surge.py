"""The `[surge]` section of a profile: when surge mode starts and ends, and its rules.

```toml
[surge]
enter_wait_seconds = 900     # surge mode starts when the queues' wait reaches this
exit_wait_seconds = 300      # and ends when it is at most this (lower: no flapping)
min_seconds = 600            # once started, it lasts at least this long

[[surge.rule]]               # looked at first while surge mode is on
id = "surge-digital-first"
instead_of = ["assisted"]    # only where the profile's own rules would decide this
when = { exempt = false, need = ["payment_date"], digital_offered = false }
action = "offer_digital"
reason = "We are very busy right now: ..."
```

While surge mode is on (`PolicyContext.surge`), the first surge rule whose conditions hold
and whose `instead_of` (when given) names the action the profile's own rules would take
decides instead of them; otherwise the profile decides as usual. `kanal policy check` proves
that surge rules trap nobody, as it does for the profile's rules, and that an exempt
citizen keeps under surge the person the profile gives them (router/policy/invariant.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from router.domain.surge import SurgeThresholds
from router.policy.context import Action, PolicyContext
from router.policy.tables import section, whole

Rule = Any  # router.policy.profile.Rule (which reads this section, so it is not imported here)

_KEYS = {"enter_wait_seconds", "exit_wait_seconds", "min_seconds", "rule"}


@dataclass(frozen=True)
class SurgeRules:
    """A profile's surge mode: its thresholds and the rules it applies first."""

    thresholds: SurgeThresholds
    rules: tuple[Rule, ...] = ()

    def rule_for(self, context: PolicyContext, usual: Rule) -> Rule:
        """Return the surge rule that decides this context (`usual`: the profile's own)."""
        for rule in self.rules:
            if rule.instead_of and usual.action not in rule.instead_of:
                continue
            if all(c.holds(context) for c in rule.when):
                return rule
        return usual


def parse_surge(
    raw: Any, source: str, parse_rule: Callable[[Any, int, str], Rule]
) -> SurgeRules | None:
    """Read the `[surge]` table (None without one); `parse_rule` reads each `[[surge.rule]]`."""
    where = "[surge]"
    if raw is None:
        return None
    raw = section(raw, where, _KEYS)
    enter = _seconds(raw.get("enter_wait_seconds", 900), f"{where}: enter_wait_seconds", 1)
    leave = _seconds(raw.get("exit_wait_seconds", 300), f"{where}: exit_wait_seconds", 0)
    if leave >= enter:
        raise ValueError(
            f"{where}: exit_wait_seconds ({leave}) must be below enter_wait_seconds ({enter}), "
            "or surge mode would flap on and off"
        )
    least = _seconds(raw.get("min_seconds", 600), f"{where}: min_seconds", 0)
    rules = raw.get("rule", [])
    if not isinstance(rules, list):
        raise ValueError(f"{where}: write each surge rule as a [[surge.rule]] table")
    parsed = tuple(parse_rule(r, i, source) for i, r in enumerate(rules, start=1))
    return SurgeRules(SurgeThresholds(enter, leave, least), parsed)


def parse_instead_of(raw: Any, where: str) -> tuple[Action, ...]:
    """Read a surge rule's `instead_of`: the profile's actions it may replace (empty: any)."""
    if raw is None:
        return ()
    values = raw if isinstance(raw, list) else [raw]
    try:
        return tuple(Action(v) for v in values)
    except ValueError:
        known = ", ".join(a.value for a in Action)
        raise ValueError(f"{where}: instead_of names actions ({known})") from None


def _seconds(value: Any, what: str, low: int) -> int:
    return whole(value, what, low, 86400, unit="seconds")
