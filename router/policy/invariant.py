"""Check by exhaustive search that a profile traps no citizen (docs/domain.md §2.6).

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
  on each turn either kanal hears the request in the words before the bot
  (`asked_for_person` from the first decision on), or only the bot does: the first decision
  runs without it, and the bot answers with the request understood (its `request_person`
  intent, or a handoff payload under any need and confidence);
- failures: the citizen starts the turn with a failed bot turn behind them and fails every bot
  turn from then on (so the second failure comes, at the latest, at the first bot turn watched);
- exemption: the citizen has a valid exemption (any turn may be the first watched).

The invariant holds when, for every trigger, channel, starting state (any `bot_failures`,
digital offered or not) and every course the watched turns can take, one of the first
MAX_STEPS turns ends in ASSISTED or CALLBACK and no watched turn before it ends in CLOSE.

Surge mode (router/policy/surge.py) may be on or off on any turn, so the surge rules are
searched with the rest. Under surge one more thing must hold: an exempt citizen keeps the
person the profile gives them. Wherever the profile's own rules decide ASSISTED or CALLBACK for
a citizen with a valid exemption, a surge rule may only decide the same or ASSISTED (it may
raise their priority, never book them a callback instead of a person or send them to a
digital route); a callback may still be offered to them while they keep their place.

The search is exhaustive: each field takes only the values the profile's conditions can tell
apart (every value a rule names, one value no rule names, numbers just below, at and above each
threshold), so these values stand for every possible context. Their combinations are decided
by boxes (router/policy/turns.py): cut only where a rule tells values apart, citizens and
channels included, with the verdict of deciding each combination (`exhaustive=True`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache

from router.policy.context import ASSISTED_SERVICE, CHANNELS, Action, PolicyContext
from router.policy.coverage import Gap, gaps
from router.policy.engine import first_rule
from router.policy.profile import Profile, ProfileError, load_profile
from router.policy.search import TRIGGERS, Search, Step

MAX_STEPS = 3
TRIGGER_WORDS = {
    "request": "asks for a person",
    "failures": "fails the bot twice",
    "exemption": "has a valid exemption",
}


@dataclass(frozen=True)
class Violation:
    """A rule that leaves a citizen without a person, with the first course that shows it."""

    rule_id: str
    trigger: str
    problem: str  # "closed" | "no person" | "surge" (an exempt citizen's person taken)
    steps: tuple[Step, ...]
    also: tuple[str, ...] = ()  # other triggers the same rule traps
    usual: str = ""  # "surge": the profile's own rule and action without surge mode

    def describe(self, max_steps: int = MAX_STEPS) -> str:
        """Return the counter-example as lines a profile author can follow."""
        first = self.steps[0].stages[0].context
        triggers = ", ".join(TRIGGER_WORDS[t] for t in self.also)
        verb = "under surge takes the person from" if self.problem == "surge" else "traps"
        lines = [
            f"rule '{self.rule_id}' {verb} a citizen who {TRIGGER_WORDS[self.trigger]}"
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
        elif self.problem == "surge":
            lines.append(
                f"  without surge mode {self.usual}; a surge rule must leave an exempt "
                "citizen's person as it is"
            )
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
    surge: bool = False  # the profile has surge rules, searched with the rest
    # Where it sends a citizen to a person no queue takes (router/policy/coverage.py).
    gaps: list[Gap] = field(default_factory=list)
    queues: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.violations and not self.gaps

    def render(self) -> str:
        """Return the report as text for the command line."""
        head = f"profile '{self.profile}' ({self.source or 'in memory'}):"
        if self.ok:
            return (
                f"{head} ok: a request for a person, two failed bot turns or a valid exemption "
                f"reach a person within {self.max_steps} steps on every channel"
                + (", with surge mode on or off" if self.surge else "")
                + f" ({self.starting_states} starting states searched); every skill it sends "
                + "citizens to has a queue"
                + (f" in {', '.join(self.languages)}" if self.languages else "")
                + "."
            )
        lines = []
        if self.violations:
            lines.append(f"{head} {len(self.violations)} rule(s) trap citizens.")
            lines += [v.describe(self.max_steps) for v in self.violations]
        if self.gaps:
            spoken = ", ".join(self.languages) or "none given"
            lines.append(
                f"{head} {len(self.gaps)} place(s) send citizens to a person no queue has "
                f"(languages checked: {spoken}):"
            )
            lines += [f"  {g.describe(self.queues)}" for g in self.gaps]
        return "\n".join(lines)


def check_profile(
    profile: Profile,
    max_steps: int = MAX_STEPS,
    languages: tuple[str, ...] = (),
    *,
    exhaustive: bool = False,
) -> CheckReport:
    """Search every course of every trigger; report the first counter-example per rule, and
    every skill or language (of `languages`, those kanal speaks) that no queue takes.
    `exhaustive`: decide every combination of values one by one (the slow reference the
    tests and benchmarks/policy_check compare the search by boxes with)."""
    search = Search(profile, exhaustive=exhaustive)
    report = CheckReport(
        profile.name, profile.source, max_steps, surge=profile.surge is not None,
        gaps=gaps(profile, languages), queues=profile.routing.names(),
        languages=tuple(languages),
    )  # fmt: skip
    found: dict[str, dict[str, tuple[str, tuple[Step, ...]]]] = defaultdict(dict)
    for trigger in TRIGGERS:
        for state in search.starts(trigger):
            report.starting_states += len(state.who)
            for rule_id, (problem, path) in search.traps(state, trigger, max_steps).items():
                if trigger not in found[rule_id]:
                    found[rule_id][trigger] = (problem, search.steps(path))
    order = [r.id for r in (*profile.rules, *profile.surge_rules, profile.default)]
    for rule_id in sorted(found, key=order.index):
        examples = found[rule_id]
        # Show the plainest course: the one whose citizen meets the fewest triggers at once.
        trigger = min(examples, key=lambda t: (_triggers_met(examples[t][1]), TRIGGERS.index(t)))
        problem, path = examples[trigger]
        also = tuple(t for t in TRIGGERS if t in examples and t != trigger)
        report.violations.append(Violation(rule_id, trigger, problem, path, also))
    report.violations += surge_takes_person(search)
    return report


def surge_takes_person(search: Search) -> list[Violation]:
    """Return, per surge rule, the first turn where it takes from an exempt citizen the
    person the profile's own rules give them (ASSISTED or CALLBACK becomes anything but the
    same or ASSISTED)."""
    profile = search.profile
    surge_ids = {r.id for r in profile.surge_rules}
    found: dict[str, Violation] = {}
    for state in search.starts("exemption") if surge_ids else ():
        for stages in search.courses(state, "exemption"):
            for ctx, rule in stages:
                if not ctx.surge or rule.id not in surge_ids or rule.id in found:
                    continue
                usual = first_rule(replace(ctx, surge=False), profile)
                if usual.action in ASSISTED_SERVICE and rule.action not in (
                    usual.action,
                    Action.ASSISTED,
                ):
                    found[rule.id] = Violation(
                        rule.id, "exemption", "surge", (search.step(stages),),
                        usual=f"rule '{usual.id}' gives them a person ({usual.action.value})",
                    )  # fmt: skip
    order = [r.id for r in profile.surge_rules]
    return sorted(found.values(), key=lambda v: order.index(v.rule_id))


def _triggers_met(path: tuple[Step, ...]) -> int:
    ctx = path[0].stages[0].context
    return bool(ctx.exemptions) + ctx.asked_for_person + (ctx.bot_failures >= 1)


def refuse_traps(profile: Profile, languages: tuple[str, ...] = ()) -> Profile:
    """Return the profile when it traps no citizen and every person it promises has a queue
    (in each of `languages`), else raise ProfileError with the report: kanal runs no profile
    `kanal policy check` would refuse."""
    report = _checked(profile, tuple(languages))
    if not report.ok:
        raise ProfileError(f"{report.render()}\nkanal does not run a profile that traps citizens.")
    return profile


@lru_cache(maxsize=8)  # a Profile is immutable; every app of a process checks it once
def _checked(profile: Profile, languages: tuple[str, ...]) -> CheckReport:
    return check_profile(profile, languages=languages)


def check_profile_file(
    path, channels: tuple[str, ...] = CHANNELS, languages: tuple[str, ...] = ()
) -> CheckReport:
    """Load a profile file (ProfileError when it is invalid) and check it."""
    return check_profile(load_profile(path, channels), languages=languages)


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
