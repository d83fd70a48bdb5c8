"""Every course a conversation can take under a profile, over the values its rules tell apart.

The model of a turn and the reduction of each field to a few values are explained in the
docstring of `router.policy.invariant`, which runs this search.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from functools import cache
from itertools import combinations

from router.policy.combinations import every_course
from router.policy.conditions import NO_NEED
from router.policy.context import (
    AGE_BANDS,
    ASSISTED_SERVICE,
    EXEMPTION_GROUNDS,
    Action,
    Decision,
    PolicyContext,
)
from router.policy.engine import decision_of
from router.policy.profile import Profile
from router.policy.turns import Turns

TRIGGERS = ("request", "failures", "exemption")
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


Who = tuple[str, bool, tuple[str, ...], str | None]  # channel, identified, grounds, age band


@dataclass(frozen=True)
class State:
    """Where a watched course stands: the citizens (on their channels) it stands for, the
    failed bot turns behind them, and whether a digital route was offered. Exhaustive: one
    citizen; else all those the rules have not told apart on the way here."""

    who: tuple[Who, ...]
    failures: int
    offered: bool


class Search:
    """The values that matter for one profile, and a memoised depth-bounded search."""

    def __init__(self, profile: Profile, *, exhaustive: bool = False) -> None:
        self.profile = profile
        # Decide every combination of values (the reference the tests and the benchmark
        # compare with), else only the boxes the rules tell apart (router/policy/turns.py).
        self.exhaustive = exhaustive
        self.truths: dict = {}  # (condition, variable, values) -> where it holds, for Turns
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
        if not self.exhaustive:
            citizens = list(self._unlike(citizens).values())
        who = [
            (channel, identified, grounds, age)
            for channel in self.profile.channels
            for identified, grounds, age in citizens
            if grounds or trigger != "exemption"
        ]
        low = 1 if trigger == "failures" else 0
        groups = [(w,) for w in who] if self.exhaustive else [tuple(who)]
        for group in groups:
            for failures in range(low, self.cap + 1):
                for offered in (False, True):
                    yield State(group, failures, offered)

    def _unlike(self, citizens: list) -> dict:
        """One citizen of each kind the rules tell apart: the same answer to every condition
        on who they are (and exempt or not, which decides whether they are watched as exempt)
        makes the same decisions on every turn, so one stands for all of that kind."""
        tests = [
            c
            for rule in (*self.profile.rules, *self.profile.surge_rules)
            for c in rule.when
            if c.field in ("exempt", "exemption", "age_band", "identified")
        ]
        kinds: dict = {}
        for identified, grounds, age in citizens:
            ctx = PolicyContext("", grounds, age, identified)
            kind = (bool(grounds), *(c.holds(ctx) for c in tests))
            kinds.setdefault(kind, (identified, grounds, age))
        return kinds

    def courses(self, state: State, trigger: str):
        """Yield every way one turn can go, as its stages: ((context, rule),) when the first
        decision is not self-service, else ((context, rule), (after the bot, rule)): one
        course per box of values the rules cannot tell apart (router/policy/turns.py), or,
        exhaustive, one per combination of values (router/policy/combinations.py)."""
        if self.exhaustive:
            return every_course(self, state, trigger)
        return Turns(self, state, trigger).courses()

    def _turns(self, state: State, trigger: str) -> tuple[tuple[tuple, State], ...]:
        """Return the ways one turn can leave the citizen without a person (as the stages
        courses() yields), and where to.

        One example is kept per outcome rule and next state: the search needs no more.
        """
        kept: dict[tuple[str, State], tuple] = {}
        if not self.exhaustive:  # the contexts made only for the examples kept
            turns = Turns(self, state, trigger)
            for leaf in turns.leaves():
                who = leaf[0].get("who")
                self._keep(kept, state, leaf, turns.failures(leaf), turns.stages, who)
            return tuple((stages, nxt) for (_, nxt), stages in kept.items())
        for stages in self.courses(state, trigger):
            self._keep(kept, state, stages, stages[-1][0].bot_failures)
        return tuple((stages, nxt) for (_, nxt), stages in kept.items())

    def step(self, stages: tuple) -> Step:
        """Return the stages of a turn as a Step (its decisions made)."""
        return Step(
            tuple(
                Stage(name, ctx, decision_of(r, ctx, self.profile))
                for name, (ctx, r) in zip(("before bot", "after bot"), stages, strict=False)
            )
        )

    def _keep(
        self, kept: dict, state: State, course: tuple, failures: int, stages=None, who=None
    ) -> None:
        """Keep the first example of each way out that reaches no person: the stages of
        the course, or of a leaf of Turns (`stages` makes them, only for the first; `who`:
        the citizens of the leaf's box)."""
        rule = course[-1][1] if stages is None else (course[3] or course[1])
        if rule.action in ASSISTED_SERVICE:
            return
        offered = state.offered or rule.action == Action.OFFER_DIGITAL
        key = (rule.id, State(who or state.who, failures, offered))
        if key not in kept:
            kept[key] = course if stages is None else stages(course)

    def _traps(self, state: State, trigger: str, remaining: int) -> dict:
        """Return, per rule, the first course of `remaining` turns that reaches no person:
        (problem, the stages of each turn); `steps()` makes them Steps."""
        found: dict[str, tuple[str, tuple[tuple, ...]]] = {}
        for stages, after in self.turns(state, trigger):
            outcome, turn = stages[-1][1], (stages, after.who)
            if outcome.action == Action.CLOSE:
                found.setdefault(outcome.id, ("closed", (turn,)))
            elif remaining == 1:
                found.setdefault(outcome.id, ("no person", (turn,)))
            else:
                for rule_id, (problem, path) in self.traps(after, trigger, remaining - 1).items():
                    found.setdefault(rule_id, (problem, (turn, *path)))
        return found

    def steps(self, path: tuple[tuple, ...]) -> tuple[Step, ...]:
        """Return a course found by traps() as Steps, each decision made, for one citizen:
        each turn's citizens include those of the turns after it, so one of the last turn's
        has taken every turn of the course."""
        channel, identified, grounds, age = path[-1][1][0]
        citizen = {"channel": channel, "identified": identified, "exemptions": grounds}
        return tuple(
            self.step(tuple((replace(ctx, **citizen, age_band=age), r) for ctx, r in stages))
            for stages, _ in path
        )
