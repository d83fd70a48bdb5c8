"""Decide one turn: the first rule of the profile whose conditions hold, else the default."""

from __future__ import annotations

from router.policy.context import ASSISTED_SERVICE, GROUND_WORDS, Decision, PolicyContext
from router.policy.profile import Profile, Rule


def decide(context: PolicyContext, profile: Profile) -> Decision:
    """Return the profile's decision for this context; pure and deterministic."""
    return decision_of(first_rule(context, profile), context, profile)


def first_rule(context: PolicyContext, profile: Profile) -> Rule:
    """Return the first rule whose conditions all hold, else the default rule."""
    for rule in profile.rules:
        if all(c.holds(context) for c in rule.when):
            return rule
    return profile.default


def decision_of(rule: Rule, ctx: PolicyContext, profile: Profile) -> Decision:
    if rule.action not in ASSISTED_SERVICE:
        return Decision(rule.action, rule.id, _reason(rule, ctx, None))
    skill = rule.skill or profile.skill_for(ctx.need)
    # A citizen who comes back on the same need was failed once already: serve them sooner.
    priority = rule.priority + (profile.repeat_contact_priority if ctx.repeat_contact else 0)
    return Decision(rule.action, rule.id, _reason(rule, ctx, skill), skill, priority)


def _reason(rule: Rule, ctx: PolicyContext, skill: str | None) -> str:
    grounds = ", ".join(GROUND_WORDS.get(g, g) for g in ctx.exemptions) or "none"
    return rule.reason.format(
        grounds=grounds,
        channel=ctx.channel,
        need=_need_words(ctx.need),
        bot_failures=ctx.bot_failures,
        skill=skill or "general",
        wait_minutes=round(ctx.queue_wait_seconds / 60),
    )


def _need_words(need: str | None) -> str:
    """Return a need as words: "apply_benefit:pension" reads "apply benefit (pension)"."""
    if not need:
        return "not known yet"
    intent, _, qualifier = need.replace("_", " ").partition(":")
    return f"{intent} ({qualifier})" if qualifier else intent
