"""Check that a profile traps no citizen in a digital route (DOMAIN.md §2), by exhaustive search.

A *step* is one citizen turn: one inbound message, decided the way the service layer decides it.
`decide()` first runs before the bot (need and confidence unknown, bot available, no repeat flag).
If that says anything but self-service, it is the turn's outcome and the bot is not asked.
Otherwise the bot answers (some need and confidence; it may be down or fail) and `decide()` runs
again with those facts; that second decision is the turn's outcome.

What a conversation carries from turn to turn:
- fixed: the channel and the citizen (identified or not, age band, grounds of valid exemptions);
- `bot_failures`: one more after a failed bot turn, back to 0 after a good one, unchanged on a
  turn the bot did not see (a turn with `need` "nlu_fallback"/"out_of_scope" or the bot down
  always fails);
- `digital_offered`: true from the first turn whose outcome offered a digital route.
Everything else (business hours, queue wait, repeat contact, the bot's need, confidence and
availability, and whether the citizen asks for a person) may be anything on any turn.

The triggers, each watched from the turn where it first holds:
- request: the citizen asks for a person in that turn and keeps asking in every later turn;
- failures: the citizen starts the turn with a failed bot turn behind them and fails every bot
  turn from then on (so the second failure comes, at the latest, at the first bot turn watched);
- exemption: the citizen has a valid exemption (any turn may be the first watched).

The invariant holds when, for every trigger, channel, starting state (any `bot_failures`,
digital offered or not) and every course the watched turns can take, one of the first
MAX_STEPS turns ends in ASSISTED or CALLBACK and no watched turn before it ends in CLOSE.

The search is exhaustive: each field takes only the values the profile's conditions can tell
apart (every value a rule names, one value no rule names, numbers just below, at and above each
threshold), so these values stand for every possible context.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields, replace
from functools import cache
from itertools import combinations

from router.policy.conditions import NO_NEED
from router.policy.context import (
    AGE_BANDS,
    ASSISTED_SERVICE,
    CHANNELS,
    EXEMPTION_GROUNDS,
    Action,
    Decision,
    PolicyContext,
)
from router.policy.engine import decision_of, first_rule
from router.policy.profile import Profile, load_profile

MAX_STEPS = 3
TRIGGERS = ("request", "failures", "exemption")
TRIGGER_WORDS = {
    "request": "asks for a person",
    "failures": "fails the bot twice",
    "exemption": "has a valid exemption",
}
FAILED_NEEDS = ("nlu_fallback", "out_of_scope")
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
class Violation:
    """A rule that leaves a citizen without a person, with the first course that shows it."""

    rule_id: str
    trigger: str
    problem: str  # "closed" | "no person"
    steps: tuple[Step, ...]
    also: tuple[str, ...] = ()  # other triggers the same rule traps

    def describe(self, max_steps: int = MAX_STEPS) -> str:
        """Return the counter-example as lines a profile author can follow."""
        first = self.steps[0].stages[0].context
        triggers = ", ".join(TRIGGER_WORDS[t] for t in self.also)
        lines = [
            f"rule '{self.rule_id}' traps a citizen who {TRIGGER_WORDS[self.trigger]}"
            + (f" (also one who {triggers})" if triggers else "")
            + f", on {first.channel}:"
        ]
        for number, step in enumerate(self.steps, start=1):
            parts = []
            before = None
            for stage in step.stages:
                shown = _show(stage.context, before)
                parts.append(
                    f"{stage.name} [{shown}] -> rule '{stage.decision.rule_id}': "
                    f"{stage.decision.action.value}"
                )
                before = stage.context
            lines.append(f"  step {number}: " + "; ".join(parts))
        if self.problem == "closed":
            lines.append("  the conversation was closed before a person was reached")
        else:
            lines.append(f"  no person after {max_steps} steps")
        return "\n".join(lines)


@dataclass
class CheckReport:
    """What check_profile found: ok, or the violations with their counter-examples."""

    profile: str
    source: str
    max_steps: int
    violations: list[Violation] = field(default_factory=list)
    starting_states: int = 0  # starting states searched, over all triggers and channels

    @property
    def ok(self) -> bool:
        return not self.violations

    def render(self) -> str:
        """Return the report as text for the command line."""
        head = f"profile '{self.profile}' ({self.source or 'in memory'}):"
        if self.ok:
            return (
                f"{head} ok: a request for a person, two failed bot turns or a valid exemption "
                f"reach a person within {self.max_steps} steps on every channel "
                f"({self.starting_states} starting states searched)."
            )
        body = "\n".join(v.describe(self.max_steps) for v in self.violations)
        return f"{head} {len(self.violations)} rule(s) trap citizens.\n{body}"


def check_profile(profile: Profile, max_steps: int = MAX_STEPS) -> CheckReport:
    """Search every course of every trigger; report the first counter-example per rule."""
    search = _Search(profile)
    report = CheckReport(profile.name, profile.source, max_steps)
    found: dict[str, dict[str, tuple[str, tuple[Step, ...]]]] = defaultdict(dict)
    for trigger in TRIGGERS:
        for state in search.starts(trigger):
            report.starting_states += 1
            for rule_id, example in search.traps(state, trigger, max_steps).items():
                found[rule_id].setdefault(trigger, example)
    order = [r.id for r in (*profile.rules, profile.default)]
    for rule_id in sorted(found, key=order.index):
        examples = found[rule_id]
        # Show the plainest course: the one whose citizen meets the fewest triggers at once.
        trigger = min(examples, key=lambda t: (_triggers_met(examples[t][1]), TRIGGERS.index(t)))
        problem, path = examples[trigger]
        also = tuple(t for t in TRIGGERS if t in examples and t != trigger)
        report.violations.append(Violation(rule_id, trigger, problem, path, also))
    return report


def _triggers_met(path: tuple[Step, ...]) -> int:
    ctx = path[0].stages[0].context
    return bool(ctx.exemptions) + ctx.asked_for_person + (ctx.bot_failures >= 1)


def check_profile_file(path) -> CheckReport:
    """Load a profile file (ProfileError when it is invalid) and check it."""
    return check_profile(load_profile(path))


@dataclass(frozen=True)
class _State:
    channel: str
    exemptions: tuple[str, ...]
    age_band: str | None
    identified: bool
    failures: int
    offered: bool


class _Search:
    """The values that matter for one profile, and a memoised depth-bounded search."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        named: dict[str, list] = defaultdict(list)
        for rule in profile.rules:
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
        for channel in CHANNELS:
            for identified, grounds, age in citizens:
                if trigger == "exemption" and not grounds:
                    continue
                for failures in range(low, self.cap + 1):
                    for offered in (False, True):
                        yield _State(channel, grounds, age, identified, failures, offered)

    def _turns(self, state: _State, trigger: str) -> tuple[tuple[Step, _State], ...]:
        """Return the ways one turn can leave the citizen without a person, and where to.

        One example is kept per outcome rule and next state: the search needs no more.
        """
        kept: dict[tuple[str, _State], Step] = {}
        asking = (True,) if trigger == "request" else self.flag("asked_for_person", False)
        for asked in asking:
            for open_ in self.flag("business_hours", True):
                for wait in self.waits:
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
                    )
                    rule = first_rule(ctx, self.profile)
                    if rule.action != Action.SELF_SERVICE:
                        self._keep(kept, state, ((ctx, rule),), state.failures)
                        continue
                    for after in self._bot_answers(ctx, trigger):
                        second = first_rule(after, self.profile)
                        self._keep(kept, state, ((ctx, rule), (after, second)), after.bot_failures)
        return tuple((step, nxt) for (_, nxt), step in kept.items())

    def _keep(self, kept: dict, state: _State, stages: tuple, failures: int) -> None:
        """Keep the first example of each way out that reaches no person."""
        rule = stages[-1][1]
        if rule.action in ASSISTED_SERVICE:
            return
        offered = state.offered or rule.action == Action.OFFER_DIGITAL
        key = (rule.id, replace(state, failures=failures, offered=offered))
        if key not in kept:
            kept[key] = Step(
                tuple(
                    Stage(name, ctx, decision_of(r, ctx, self.profile))
                    for name, (ctx, r) in zip(("before bot", "after bot"), stages, strict=False)
                )
            )

    def _bot_answers(self, ctx: PolicyContext, trigger: str):
        """Yield the contexts after every answer the bot can give: failures first."""
        answers = []
        for failed in (True, False):
            if not failed and trigger == "failures":
                continue
            needs = ("nlu_fallback", *self.needs) if failed else self.needs
            confidences = self.confidences
            if failed:
                confidences = (0.1,) if len(confidences) == 1 else tuple(reversed(confidences))
            for need in dict.fromkeys(needs):
                if need in FAILED_NEEDS and not failed:
                    continue
                answers += [(need, confidence, True, failed) for confidence in confidences]
        if "bot_available" in self.named:
            answers.append((None, None, False, True))  # down: no need, no confidence, a failure
        for need, confidence, available, failed in answers:
            for repeat in self.flag("repeat_contact", False):
                yield replace(
                    ctx,
                    need=need,
                    confidence=confidence,
                    bot_available=available,
                    bot_failures=min(ctx.bot_failures + 1, self.cap) if failed else 0,
                    asked_for_person=ctx.asked_for_person or need == "request_person",
                    repeat_contact=repeat,
                )

    def _traps(self, state: _State, trigger: str, remaining: int) -> dict:
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


_USUAL = PolicyContext(channel="")


def _show(ctx: PolicyContext, before: PolicyContext | None) -> str:
    """Return the context's fields that differ from the usual (or from the earlier stage)."""
    base = before or _USUAL
    shown = []
    for f in fields(PolicyContext):
        value = getattr(ctx, f.name)
        if f.name == "channel" or value == getattr(base, f.name):
            continue
        if isinstance(value, tuple):
            value = "+".join(value) or "none"
        shown.append(f"{f.name}={value}")
    return ", ".join(shown) or "as before"
