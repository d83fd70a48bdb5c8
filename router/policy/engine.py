"""Decide one turn: the first rule of the profile whose conditions hold, else the default."""

from __future__ import annotations

from router.policy.context import ASSISTED_SERVICE, Decision, PolicyContext, reason_text
from router.policy.profile import Profile, Rule


def decide(context: PolicyContext, profile: Profile) -> Decision:
    """Return the profile's decision for this context; pure and deterministic."""
    return decision_of(first_rule(context, profile), context, profile)


def first_rule(context: PolicyContext, profile: Profile) -> Rule:
    """Return the first rule whose conditions all hold, else the default rule; in surge mode
    a surge rule that holds (and replaces what the profile would do) comes first."""
    usual = profile.default
    for rule in profile.rules:
        if all(c.holds(context) for c in rule.when):
            usual = rule
            break
    if context.surge and profile.surge is not None:
        return profile.surge.rule_for(context, usual)
    return usual


def decision_of(rule: Rule, ctx: PolicyContext, profile: Profile) -> Decision:
    surge = profile.surge is not None and any(rule is r for r in profile.surge.rules)
    if rule.action not in ASSISTED_SERVICE:
        return _decision(rule, ctx, None, surge=surge)
    skill = rule.skill or profile.skill_for(ctx.need)
    # A citizen who comes back on the same need was failed once already: serve them sooner.
    priority = rule.priority + (profile.repeat_contact_priority if ctx.repeat_contact else 0)
    return _decision(rule, ctx, skill, priority, surge=surge)


def _decision(
    rule: Rule, ctx: PolicyContext, skill: str | None, priority: int = 0, *, surge: bool = False
) -> Decision:
    values = {
        "grounds": ctx.exemptions,
        "channel": ctx.channel,
        "need": ctx.need,
        "bot_failures": ctx.bot_failures,
        "skill": skill or "general",
        "wait_minutes": round(ctx.queue_wait_seconds / 60),
    }
    reason = reason_text(rule.reason, values)
    if rule.action not in ASSISTED_SERVICE:
        return Decision(
            rule.action, rule.id, reason, template=rule.reason, values=_items(values), surge=surge
        )
    return Decision(
        rule.action, rule.id, reason, skill, priority, template=rule.reason,
        values=_items(values), surge=surge,
    )  # fmt: skip


def _items(values: dict[str, object]) -> tuple[tuple[str, object], ...]:
    return tuple(sorted(values.items()))
