"""Every course a conversation can take under a profile, over the values its rules tell apart.

The model of a turn and the reduction of each field to a few values are explained in the
docstring of `router.policy.invariant`, which runs this search.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from functools import cache
from itertools import combinations

from router.domain.needs import NOT_UNDERSTOOD
from router.policy.conditions import NO_NEED
from router.policy.context import (
    AGE_BANDS,
    ASSISTED_SERVICE,
    EXEMPTION_GROUNDS,
    Action,
    Decision,
    PolicyContext,
)
from router.policy.engine import decision_of, first_rule
from router.policy.profile import Profile

TRIGGERS = ("request", "failures", "exemption")
FAILED_NEEDS = tuple(sorted(NOT_UNDERSTOOD))
_OTHER_NEEDS = ("payment_date", "apply_benefit", "application_status", "complaint")


@dataclass(frozen=True)
class Stage:
    """One call of decide() within a turn: "before bot" or "after bot"."""

    name: str
    context: PolicyContext
    decision: Decision


@dataclass(frozen=True)
class Step:
    """One citizen turn: one or two stages; the last decision is the outcome."""

    stages: tuple[Stage, ...]

    @property
    def outcome(self) -> Decision:
        return self.stages[-1].decision


@dataclass(frozen=True)
class State:
    channel: str
    exemptions: tuple[str, ...]
    age_band: str | None
    identified: bool
    failures: int
    offered: bool


class Search:
    """The values that matter for one profile, and a memoised depth-bounded search."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        named: dict[str, list] = defaultdict(list)
        for rule in (*profile.rules, *profile.surge_rules):
            for c in rule.when:
                named[c.field].extend(c.value if isinstance(c.value, tuple) else (c.value,))
        self.named = dict(named)  # a plain dict: looking a field up must not add it
        self.cap = max([2, *self.values("bot_failures")]) + 1
        self.waits = tuple(
            sorted(
                {
                    0,
                    *(
                        w + d
                        for w in self.values("queue_wait_seconds")
                        for d in (-1, 0, 1)
                        if w + d >= 0
                    ),
                }
            )
        )
        # Surge mode may start or end between any two turns.
        self.surges = (False, True) if profile.surge or "surge" in self.named else (False,)
        self.needs = self._needs()
        self.confidences = self._confidences()
        self.traps = cache(self._traps)
        self.turns = cache(self._turns)

    def values(self, name: str) -> list:
        """Return the values the profile's conditions name for a field."""
        return self.named.get(name, [])

    def flag(self, name: str, usual: bool) -> tuple[bool, ...]:
        return (usual, not usual) if name in self.named else (usual,)

    def _needs(self) -> tuple[str | None, ...]:
        mentioned = [None if n == NO_NEED else n for n in self.values("need")]
        other = next((n for n in _OTHER_NEEDS if n not in mentioned), "another_need")
        if "need" not in self.named:
            return (other, "request_person")  # the only need that changes anything: asking
        return tuple(dict.fromkeys([other, None, "request_person", *mentioned]))

    def _confidences(self) -> tuple[float | None, ...]:
        if "confidence" not in self.named:
            return (0.9,)  # any value will do; a failed turn shows it as 0.1
        points = sorted({0.0, 1.0, *self.values("confidence")})
        middles = [(a + b) / 2 for a, b in zip(points, points[1:], strict=False)]
        return (*sorted({*points, *middles}, reverse=True), None)

    def starts(self, trigger: str):
        """Yield every starting state of a watched course for the trigger."""
        pool = [g for g in EXEMPTION_GROUNDS if g in self.values("exemption")]
        pool += [g for g in EXEMPTION_GROUNDS if g not in pool][:1]
        exemption_sets = [()] + [c for n in range(1, len(pool) + 1) for c in combinations(pool, n)]
        ages = (None, *AGE_BANDS) if "age_band" in self.named else (None,)
        citizens: list[tuple[bool, tuple[str, ...], str | None]] = [(False, (), None)]
        for grounds in exemption_sets:
            for age in ages:
                if grounds or age or "identified" in self.named:
                    citizens.append((True, grounds, age))
        low = 1 if trigger == "failures" else 0
        for channel in self.profile.channels:
            for identified, grounds, age in citizens:
                if trigger == "exemption" and not grounds:
                    continue
                for failures in range(low, self.cap + 1):
                    for offered in (False, True):
                        yield State(channel, grounds, age, identified, failures, offered)

    def _moments(self):
        """Yield (business hours, queue wait, surge) for every moment the profile tells apart."""
        for open_ in self.flag("business_hours", True):
            for wait in self.waits:
                for surge in self.surges:
                    yield open_, wait, surge

    def courses(self, state: State, trigger: str):
        """Yield every way one turn can go, as its stages: ((context, rule),) when the first
        decision is not self-service, else ((context, rule), (after the bot, rule))."""
        # A request is heard from the words before the bot (router/domain/needs.py), or only
        # by the bot (its request_person intent or a handoff payload, under any need).
        asking = (True, False) if trigger == "request" else self.flag("asked_for_person", False)
        for asked in asking:
            for open_, wait, surge in self._moments():
                ctx = PolicyContext(
                    channel=state.channel,
                    exemptions=state.exemptions,
                    age_band=state.age_band,
                    identified=state.identified,
                    bot_failures=state.failures,
                    asked_for_person=asked,
                    business_hours=open_,
                    queue_wait_seconds=wait,
                    digital_offered=state.offered,
                    surge=surge,
                )
                rule = first_rule(ctx, self.profile)
                if rule.action != Action.SELF_SERVICE:
                    yield ((ctx, rule),)
                    continue
                for after in self._bot_answers(ctx, trigger):
                    yield ((ctx, rule), (after, first_rule(after, self.profile)))

    def _turns(self, state: State, trigger: str) -> tuple[tuple[Step, State], ...]:
        """Return the ways one turn can leave the citizen without a person, and where to.

        One example is kept per outcome rule and next state: the search needs no more.
        """
        kept: dict[tuple[str, State], Step] = {}
        for stages in self.courses(state, trigger):
            self._keep(kept, state, stages, stages[-1][0].bot_failures)
        return tuple((step, nxt) for (_, nxt), step in kept.items())

    def step(self, stages: tuple) -> Step:
        """Return the stages of a turn as a Step (its decisions made)."""
        return Step(
            tuple(
                Stage(name, ctx, decision_of(r, ctx, self.profile))
                for name, (ctx, r) in zip(("before bot", "after bot"), stages, strict=False)
            )
        )

    def _keep(self, kept: dict, state: State, stages: tuple, failures: int) -> None:
        """Keep the first example of each way out that reaches no person."""
        rule = stages[-1][1]
        if rule.action in ASSISTED_SERVICE:
            return
        offered = state.offered or rule.action == Action.OFFER_DIGITAL
        key = (rule.id, replace(state, failures=failures, offered=offered))
        if key not in kept:
            kept[key] = self.step(stages)

    def _bot_answers(self, ctx: PolicyContext, trigger: str):
        """Yield the contexts after every answer the bot can give: good answers first."""
        answers = []
        # The request is the bot's to hear: it answers, understanding it (any need).
        heard = trigger == "request" and not ctx.asked_for_person
        for failed in (False, True):
            if (not failed and trigger == "failures") or (failed and heard):
                continue
            needs = ("nlu_fallback", *self.needs) if failed else self.needs
            confidences = self.confidences
            if failed:
                confidences = (0.1,) if len(confidences) == 1 else tuple(reversed(confidences))
            for need in dict.fromkeys(needs):
                if need in FAILED_NEEDS and not failed:
                    continue
                answers += [(need, confidence, True, failed) for confidence in confidences]
        if "bot_available" in self.named and not heard:
            answers.append((None, None, False, True))  # down: no need, no confidence, a failure
        for need, confidence, available, failed in answers:
            for repeat in self.flag("repeat_contact", False):
                yield replace(
                    ctx,
                    need=need,
                    confidence=confidence,
                    bot_available=available,
                    bot_failures=min(ctx.bot_failures + 1, self.cap) if failed else 0,
                    asked_for_person=heard or ctx.asked_for_person or need == "request_person",
                    repeat_contact=repeat,
                )

    def _traps(self, state: State, trigger: str, remaining: int) -> dict:
        """Return, per rule, the first course of `remaining` turns that reaches no person."""
        found: dict[str, tuple[str, tuple[Step, ...]]] = {}
        for step, after in self.turns(state, trigger):
            outcome = step.outcome
            if outcome.action == Action.CLOSE:
                found.setdefault(outcome.rule_id, ("closed", (step,)))
            elif remaining == 1:
                found.setdefault(outcome.rule_id, ("no person", (step,)))
            else:
                for rule_id, (problem, path) in self.traps(after, trigger, remaining - 1).items():
                    found.setdefault(rule_id, (problem, (step, *path)))
        return found
