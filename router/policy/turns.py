"""Every way one turn can go, split only where the profile's rules tell the cases apart.

The search (router/policy/search.py) gives each variable of a turn a few values that stand for
all others: surge mode, whether the citizen asks, business hours and the queue wait before the
bot; after it, whether the bot failed or was down, its need and confidence, a repeat contact.
Deciding every combination of those values costs their product, which grows with every
threshold and name a rule adds (a hostile profile of 24 rules: tens of minutes).

Here a turn is a *box*: a set of values for each variable, at first all of them. The rules are
tested over the whole box, first to last. A condition that holds for every value in the box,
or for none, needs no split; a rule with a condition false everywhere is passed over, and the
first rule all of whose conditions hold everywhere decides for the whole box. Only when a
condition holds for some values and not others is the box cut in two on that variable (the
values where it holds, those where it does not), and each half decided again from that rule
on (the rules before it are false over the whole box). A decided box is one course: every
combination in it gives the same rules and the same next state, so its first values stand
for it. The boxes cover the combinations exactly once, so the courses, the rules that trap and
the verdict are those of deciding every combination (`Search(profile, exhaustive=True)`,
which the tests and benchmarks/policy_check compare with), at the cost of the cuts the rules
make rather than of their product.

What the state fixes (channel, citizen, failures so far, digital offered) and what the bot's
answer fixes (heard the request or not, failed or not, down or not: the *mode*, at most a few)
are tested once per state and mode: a rule with such a condition false is dropped, and a rule
whose every condition is fixed and true ends the list.
"""

from __future__ import annotations

from dataclasses import replace

from router.domain.needs import NOT_UNDERSTOOD
from router.policy.context import Action, PolicyContext

_BEFORE = {  # the context's fields that vary before the bot, and their variables
    "surge": "surge",
    "asked_for_person": "asked",
    "business_hours": "open",
    "queue_wait_seconds": "wait",
}
_AFTER = {"need": "need", "confidence": "confidence", "repeat_contact": "repeat"}
_WHO = dict.fromkeys(("channel", "exempt", "exemption", "age_band", "identified"), "who")
_REQUEST = "request_person"


class Turns:
    """The courses of one turn from one state, for one trigger, as decided boxes."""

    def __init__(self, search, state, trigger: str) -> None:  # noqa: ANN001 - a Search
        self.search = search
        self.profile = search.profile
        self.state = state
        self.trigger = trigger
        self.truths: dict = search.truths  # the conditions' tables, shared by all turns
        asking = search.flag("asked_for_person", False)
        self.domains = {
            "surge": search.surges,
            "asked": (True, False) if trigger == "request" else asking,
            "open": search.flag("business_hours", True),
            "wait": search.waits,
            "repeat": search.flag("repeat_contact", False),
            "who": state.who,
        }  # fmt: skip
        self.base = PolicyContext(
            channel="", bot_failures=state.failures, digital_offered=state.offered
        )
        self.compiled: dict = {}

    def courses(self):
        """Yield the stages of one course per box, as Search.courses does for each value."""
        for leaf in self.leaves():
            yield self.stages(leaf)

    def leaves(self):
        """Yield each decided box as (box, first rule, mode, second rule); mode and second
        rule are None where the first decision is not self-service (the bot is not asked)."""
        for box, first in self._stage({}, None):
            if first.action != Action.SELF_SERVICE:
                yield box, first, None, None
                continue
            for mode, moded in self._modes(box):
                for final, second in self._stage(moded, mode):
                    yield final, first, mode, second

    def stages(self, leaf) -> tuple:
        """The stages of a leaf's course, of its box's first values: ((context, rule), ...)."""
        box, first, mode, second = leaf
        if mode is None:
            return ((self._before(box), first),)
        return ((self._before(box), first), (self._after(box, mode), second))

    def failures(self, leaf) -> int:
        """The failed bot turns the citizen has after the leaf's turn."""
        mode = leaf[2]
        if mode is None:
            return self.state.failures
        return min(self.state.failures + 1, self.search.cap) if mode[1] else 0

    # --- the bot's answer ----------------------------------------------------------------

    def _modes(self, box: dict):
        """Yield (asked before the bot, failed, down) for each way the bot can answer, with
        the box given that one value of asked (on which the others depend)."""
        for asked in self._values(box, "asked"):
            heard = self.trigger == "request" and not asked  # the bot's to hear
            failures = (True,) if self.trigger == "failures" else (False, True)
            for failed in (False,) if heard else failures:
                can_be_down = failed and "bot_available" in self.search.named and not heard
                for down in (False, True) if can_be_down else (False,):
                    yield (asked, failed, down), {**box, "asked": (asked,)}

    def _answers(self, mode) -> dict:
        """The needs and confidences the bot can answer with in this mode."""
        _, failed, down = mode
        search = self.search
        if down:
            return {"need": (None,), "confidence": (None,)}
        if failed:
            needs = tuple(dict.fromkeys(("nlu_fallback", *search.needs)))
            confidences = search.confidences
            confidences = (0.1,) if len(confidences) == 1 else tuple(reversed(confidences))
            return {"need": needs, "confidence": confidences}
        needs = tuple(n for n in search.needs if n not in NOT_UNDERSTOOD)
        return {"need": needs, "confidence": search.confidences}

    # --- contexts ------------------------------------------------------------------------

    def _values(self, box: dict, variable: str, mode=None) -> tuple:
        if variable in box:
            return box[variable]
        if variable in self.domains:
            return self.domains[variable]
        return self._answers(mode)[variable]

    def _before(self, box: dict) -> PolicyContext:
        """The context before the bot, of the box's first values."""
        first = {v: self._values(box, v)[0] for v in ("surge", "asked", "open", "wait")}
        channel, identified, grounds, age = self._values(box, "who")[0]
        return replace(
            self.base,
            channel=channel,
            exemptions=grounds,
            age_band=age,
            identified=identified,
            asked_for_person=first["asked"],
            business_hours=first["open"],
            queue_wait_seconds=first["wait"],
            surge=first["surge"],
        )

    def _after(self, box: dict, mode) -> PolicyContext:
        """The context after the bot answered in this mode, of the box's first values."""
        asked, failed, down = mode
        need = self._values(box, "need", mode)[0]
        heard = self.trigger == "request" and not asked
        return replace(
            self._before(box),
            need=need,
            confidence=self._values(box, "confidence", mode)[0],
            bot_available=not down,
            bot_failures=self.failures((box, None, mode, None)),
            asked_for_person=heard or asked or need == _REQUEST,
            repeat_contact=self._values(box, "repeat", mode)[0],
        )

    # --- the rules, compiled for this state and mode --------------------------------------

    def _rules(self, which: str, mode, *, surge_off: bool = False) -> list:
        """[(rule, ((condition, variable, {value: holds}), ...))]: the rules that can hold
        in this state and mode, with the conditions that vary in a turn."""
        key = (which, mode, surge_off)
        if key not in self.compiled:
            rules = self.profile.rules if which == "profile" else self.profile.surge_rules
            self.compiled[key] = self._compile(rules, mode, surge_off)
        return self.compiled[key]

    def _compile(self, rules, mode, surge_off: bool) -> list:
        varies = {**_BEFORE, **_WHO}
        fixed = replace(self.base, surge=False) if surge_off else self.base
        if surge_off:
            del varies["surge"]
        reads: dict = {}
        if mode is not None:
            asked, failed, down = mode
            after = self._after({"asked": (asked,)}, mode)
            fixed = replace(after, surge=False) if surge_off else after
            varies.update({} if down else _AFTER)
            if down:
                varies["repeat_contact"] = "repeat"
            if asked or self.trigger == "request" or down:
                del varies["asked_for_person"]  # the same over the whole mode
            else:
                varies["asked_for_person"] = "need"  # asked only if the bot heard it
                reads["asked_for_person"] = lambda need: need == _REQUEST
        out = []
        for rule in rules:
            varying = []
            for c in rule.when:
                variable = varies.get(c.field)
                if variable is None:
                    if not c.holds(fixed):
                        break
                    continue
                table = self._table(c, variable, self._values({}, variable, mode), reads)
                if not any(table.values()):
                    break
                if not all(table.values()):
                    varying.append((c, variable, table))
            else:
                out.append((rule, tuple(varying)))
                if not varying and not rule.instead_of:
                    break  # holds on every course: no later rule is reached
        return out

    def _table(self, condition, variable: str, values: tuple, reads: dict) -> dict:
        """{value of the variable: whether the condition holds}, shared by all turns."""
        if variable == "who":  # the citizens: many states share the same set of them
            key = ("who", id(condition), id(values))
            kept = self.truths.get(key)
            if kept is None or kept[0] is not values:  # the set kept alive with its table
                kept = values, {who: self._of(condition, who) for who in values}
                self.truths[key] = kept
            return kept[1]
        key = (condition, variable, values)
        if key not in self.truths:
            read = reads.get(condition.field, lambda value: value)
            self.truths[key] = {
                v: condition.holds(PolicyContext(channel="", **{condition.field: read(v)}))
                for v in values
            }
        return self.truths[key]

    def _of(self, condition, who) -> bool:
        """Whether a condition on who the citizen is holds for this one (on its channel)."""
        key = (id(condition), who)  # the profile keeps its conditions alive
        if key not in self.truths:
            channel, identified, grounds, age = who
            self.truths[key] = condition.holds(PolicyContext(channel, grounds, age, identified))
        return self.truths[key]

    # --- deciding boxes ------------------------------------------------------------------

    def _first(self, rules: list, box: dict, mode, start: int = 0):
        """Yield (box, rule) for each part of the box the first rule that holds decides
        (None: none does); the box is cut where a condition holds on part of it."""
        for i in range(start, len(rules)):
            rule, varying = rules[i]
            cut = None
            for _, variable, table in varying:
                values = self._values(box, variable, mode)
                holds = tuple(v for v in values if table[v])
                if not holds:
                    break
                if cut is None and len(holds) < len(values):
                    other = tuple(v for v in values if not table[v])
                    # The part with the first values first: the plainest course is found first.
                    cut = (variable, holds, other) if table[values[0]] else (variable, other, holds)
            else:
                if cut is None:
                    yield box, rule
                    return
                variable, *parts = cut
                for part in parts:
                    yield from self._first(rules, {**box, variable: part}, mode, i)
                return
        yield box, None

    def _stage(self, box: dict, mode):
        """Yield (box, rule) for each part of the box, the rule first_rule() takes there;
        where a surge rule takes it, the profile's own rules without surge mode decide one
        rule over the part too (the invariant compares the two)."""
        profile = self.profile
        for part, usual in self._first(self._rules("profile", mode), box, mode):
            usual = usual or profile.default
            if profile.surge is None:
                yield part, usual
                continue
            for surge in self._values(part, "surge"):
                moded = {**part, "surge": (surge,)}
                if not surge:
                    yield moded, usual
                    continue
                rules = [r for r in self._rules("surge", mode) if self._replaces(r[0], usual)]
                for surged, rule in self._first(rules, moded, mode):
                    if rule is None:
                        yield surged, usual
                        continue
                    off = self._rules("profile", mode, surge_off=True)
                    for final, _ in self._first(off, surged, mode):
                        yield final, rule

    @staticmethod
    def _replaces(rule, usual) -> bool:
        return not rule.instead_of or usual.action in rule.instead_of
