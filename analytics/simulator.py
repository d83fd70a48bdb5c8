"""The policy simulator: a period's recorded contacts replayed under another profile.

Every recorded policy decision (a `decision_made` event) carries the context the policy saw.
The simulator calls the same pure `decide()` on each of them with another profile. A contact
whose decisions all come out the same keeps exactly what happened to it. A contact whose
route changes (the first turn where the other profile takes another action) is projected:
from that turn on it takes the average outcome of the recorded contacts of its group that
went the new way, weighted by the behaviour rates observed in the same period:

- the bot answers (`self_service`): it contains the need at the group's observed
  containment rate (bot conversations not handed to a person); otherwise a person serves;
- the digital route is offered (`offer_digital`): the citizen takes it at the group's
  observed acceptance rate; one who does not is served like a bot conversation on a written
  channel, and by a person on the phone;
- a person serves (`assisted`, `callback`): the group's observed assisted outcome and
  agent time per assisted contact;
- the conversation is closed (`close`): the group's observed self-service outcome.

A group is channel × need × exemption, falling back to channel × need, then channel, then the
whole period when it has fewer than `MIN_SAMPLE` contacts; a rate the period cannot give at
all takes a stated default, and the report says which defaults were used. Projections are
expected values (fractions of contacts), not random draws: the same history always gives
the same answer.

Service level and speed of answer are an Erlang C estimate per hour: the hour's assisted
work (agent seconds of the contacts opened in it) on the number of agents who answered
contacts opened in that hour (at least one), with the period's average handle time. The
recorded column is estimated the same way, beside the service level actually measured, so
the model's error can be seen. Decisions are replayed on the contexts as recorded: a change
of policy does not feed back into the queue waits later decisions saw.

Pure: no storage, no clock. `analytics.recorded` reads the contacts from the event log.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from router.domain.channels import VOICE
from router.domain.events import DIGITAL_CHANNELS
from router.policy import ASSISTED_SERVICE, Action, PolicyContext, Profile, decide

PHONE = VOICE
MIN_SAMPLE = 30  # contacts a group needs before its own rate is used
SERVICE_LEVEL_SECONDS = 20  # Y of service level X/Y: answered within 20 s (the 80/20 convention)
# Cost of a contact by kind (SOCITM 2012, docs/domain.md): a call at the phone rate, a person on
# web chat or SMS at the assisted written rate, self-service at the digital rate.
COSTS = {"digital": 0.15, "phone": 2.83, "assisted_written": 2.83}
# When the period shows no contact at all that went a way, these stand in (and are reported).
DEFAULT_RATES = {"containment": 0.5, "acceptance": 0.3}
DEFAULT_HANDLE_SECONDS = 300.0
FAIRNESS_GROUPS = ("exempt", "age_band", "channel")
FLAG_POINTS = 0.05  # a group's assisted share or take-up moving by 5 points is flagged


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Mark a message id for the catalogues (the dashboard shows it in the page's language)."""
    return message


# What the simulator assumes, as message ids ({min_sample}: MIN_SAMPLE); the answer carries
# them in English (`assumptions()`), the dashboard in the page's language.
ASSUMPTIONS = (
    N_(
        "Each recorded decision is replayed with the same pure decide() on the context the "
        "policy saw when it was made; contexts are as recorded, so a policy's effect on queue "
        "waits does not feed back into later decisions."
    ),
    N_("A contact whose decisions all come out the same keeps what happened to it."),
    N_(
        "A contact whose route changes takes, from the first changed turn, the average outcome "
        "of the recorded contacts of its group that went the new way, weighted by the observed "
        "rates: bot containment for self-service, acceptance for an offered digital route."
    ),
    N_(
        "A group is channel x need x exemption, then channel x need, then channel, then the "
        "whole period, whichever first has {min_sample} contacts."
    ),
    N_(
        "A citizen who declines an offered digital route is served like a bot conversation on "
        "a written channel and by a person on the phone."
    ),
    N_(
        "Service level and speed of answer are Erlang C estimates per hour: the hour's assisted "
        "agent time on the agents who answered contacts opened in that hour (at least one), "
        "with the period's average handle time. The same model gives the recorded column."
    ),
    N_(
        "Cost: a call at the phone rate, a person on web chat or SMS at the assisted written "
        "rate, self-service at the digital rate; savings against the same contacts all by phone."
    ),
)


def assumptions() -> list[str]:
    """Return the assumptions in English, filled in."""
    return [a.format(min_sample=MIN_SAMPLE) for a in ASSUMPTIONS]


@dataclass(frozen=True, slots=True)
class Turn:
    """One recorded policy decision: its stage, the rule and action chosen, what it saw."""

    stage: str
    rule_id: str
    action: str
    profile: str | None
    context: PolicyContext | None


@dataclass(frozen=True, slots=True)
class Recorded:
    """One recorded contact: its group, its decisions and what became of it."""

    contact_id: int
    channel: str
    opened_at: datetime
    turns: tuple[Turn, ...] = ()
    need: str | None = None
    exempt: bool | None = None  # None: not identified
    age_band: str | None = None
    assisted: bool = False  # entered the queue for a person
    agent_id: int | None = None
    wait_seconds: float | None = None  # queue wait until an agent took it
    handle_seconds: float | None = None  # agent time, from taking it to resolving it
    completed: bool = False
    digital: bool = False  # completed digitally
    offered: bool = False  # a digital route was offered
    accepted: bool = False  # and taken (the link texted; on a written channel: no person)
    abandoned: bool = False
    # How many identical contacts this one stands for (analytics.recordings reads a period as
    # classes of contacts alike in everything the simulator uses): then `handle_seconds` is
    # their mean agent time and `wait_seconds` their longest wait.
    count: int = 1

    @property
    def bot(self) -> bool:
        return any(t.stage == "after_bot" for t in self.turns)

    @property
    def callback(self) -> bool:
        return any(t.action == Action.CALLBACK for t in self.turns)

    @property
    def replayable(self) -> bool:
        return all(t.context is not None for t in self.turns)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became (or would become) of one contact, as expected shares of it."""

    assisted: float = 0.0
    callback: float = 0.0
    completed: float = 0.0
    digital: float = 0.0
    agent_seconds: float = 0.0

    def __add__(self, other: Outcome) -> Outcome:
        return Outcome(
            self.assisted + other.assisted,
            self.callback + other.callback,
            self.completed + other.completed,
            self.digital + other.digital,
            self.agent_seconds + other.agent_seconds,
        )

    def times(self, weight: float) -> Outcome:
        return Outcome(
            self.assisted * weight,
            self.callback * weight,
            self.completed * weight,
            self.digital * weight,
            self.agent_seconds * weight,
        )


def recorded_outcome(c: Recorded, callback: bool | None = None) -> Outcome:
    """Return what happened to a contact (`callback`: whether it was called back, if known)."""
    if callback is None:
        callback = c.callback
    return Outcome(
        assisted=1.0 if c.assisted else 0.0,
        callback=1.0 if callback else 0.0,
        completed=1.0 if c.completed else 0.0,
        digital=1.0 if c.completed and c.digital else 0.0,
        agent_seconds=c.handle_seconds or 0.0,
    )


class Paths:
    """What contacts' recorded decisions say (bot, callback, replayable), worked out once per
    tuple of turns: contacts read from storage share their tuples."""

    def __init__(self) -> None:
        self._facts: dict[int, tuple[bool, bool, bool]] = {}

    def of(self, c: Recorded) -> tuple[bool, bool, bool]:
        key = id(c.turns)  # the contacts, which hold the tuples, outlive this
        found = self._facts.get(key)
        if found is None:
            found = self._facts[key] = (c.bot, c.callback, c.replayable)
        return found


# -- observed behaviour ------------------------------------------------------------------------


def group_keys(c: Recorded) -> tuple[tuple, ...]:
    """Return the contact's behaviour groups, the narrowest first."""
    intent = (c.need or "none").partition(":")[0]
    return ((c.channel, intent, c.exempt), (c.channel, intent), (c.channel,), ())


@dataclass
class _Tally:
    n: int = 0
    yes: int = 0
    outcome: Outcome = field(default_factory=Outcome)


class Behaviour:
    """The rates and outcomes observed in the period, by group."""

    def __init__(self, contacts: Iterable[Recorded], paths: Paths | None = None) -> None:
        paths = paths or Paths()
        self.containment: dict[tuple, _Tally] = defaultdict(_Tally)
        self.acceptance: dict[tuple, _Tally] = defaultdict(_Tally)
        self.routes: dict[str, dict[tuple, _Tally]] = {
            r: defaultdict(_Tally) for r in ("assisted", "self_served", "accepted")
        }
        self.defaults_used: set[str] = set()
        self._contacts = contacts_list(contacts)
        handled = handled_n = 0.0
        # Contacts alike in group and in what became of them are tallied together.
        alike: dict[tuple, list] = {}
        for c in self._contacts:
            if c.handle_seconds:
                handled += c.handle_seconds * c.count
                handled_n += c.count
            bot, callback, _ = paths.of(c)
            if c.assisted:
                route = "assisted"
            elif c.offered and c.accepted:
                route = "accepted"
            elif bot or c.completed:
                route = "self_served"
            else:
                route = None
            key = (group_keys(c), bot, c.offered, c.accepted, c.assisted, route)
            outcome = recorded_outcome(c, callback).times(c.count)
            same = alike.get(key)
            if same is None:
                alike[key] = [c.count, outcome]
            else:
                same[0] += c.count
                same[1] = same[1] + outcome
        self.average_handle_seconds = handled / handled_n if handled_n else DEFAULT_HANDLE_SECONDS
        for (keys, bot, offered, accepted, assisted, route), (n, outcome) in alike.items():
            for key in keys:
                if bot:
                    _count(self.containment[key], not assisted, n)
                if offered:
                    _count(self.acceptance[key], accepted, n)
                if route is not None:
                    _add(self.routes[route][key], outcome, n)

    def rate(self, name: str, c: Recorded) -> float:
        tallies = self.containment if name == "containment" else self.acceptance
        tally = _pick(tallies, group_keys(c))
        if tally is None:
            self.defaults_used.add(name)
            return DEFAULT_RATES[name]
        return tally.yes / tally.n

    def route(self, name: str, c: Recorded) -> Outcome:
        tally = _pick(self.routes[name], group_keys(c))
        if tally is None:
            self.defaults_used.add(f"{name}_outcome")
            return _default_route(name, c, self.average_handle_seconds)
        return tally.outcome.times(1 / tally.n)

    def summary(self) -> dict:
        """Return the period's overall rates (the whole-period group)."""

        def overall(tallies: dict[tuple, _Tally]) -> float | None:
            t = tallies.get(())
            return t.yes / t.n if t and t.n else None

        return {
            "bot_containment": overall(self.containment),
            "digital_acceptance": overall(self.acceptance),
            "average_handle_seconds": round(self.average_handle_seconds, 1),
            "bot_conversations": self.containment[()].n,
            "offers": self.acceptance[()].n,
        }


def contacts_list(contacts: Iterable[Recorded]) -> Sequence[Recorded]:
    return contacts if isinstance(contacts, Sequence) else list(contacts)


def _count(tally: _Tally, yes: bool, n: int = 1) -> None:
    tally.n += n
    tally.yes += n if yes else 0


def _add(tally: _Tally, outcome: Outcome, n: int = 1) -> None:
    """Add `n` contacts whose outcomes sum to `outcome`."""
    tally.n += n
    tally.outcome = tally.outcome + outcome


def _pick(tallies: Mapping[tuple, _Tally], keys: tuple[tuple, ...]) -> _Tally | None:
    for key in keys:
        tally = tallies.get(key)
        if tally is not None and tally.n >= MIN_SAMPLE:
            return tally
    tally = tallies.get(())
    return tally if tally is not None and tally.n else None


def _default_route(name: str, c: Recorded, handle: float) -> Outcome:
    if name == "assisted":
        return Outcome(assisted=1.0, completed=1.0, agent_seconds=handle)
    return Outcome(completed=1.0, digital=1.0)


# -- the replay ----------------------------------------------------------------------------


class Replayer:
    """Replays contacts under one profile (decide() is pure, so its answers are memoised)."""

    def __init__(self, profile: Profile, behaviour: Behaviour, memo: bool = True) -> None:
        self.profile = profile
        self.behaviour = behaviour
        self.memo = memo
        self._decided: dict[PolicyContext, tuple[str, str]] = {}
        # A projection depends on the contact's group and the new action only.
        self._projected: dict[tuple, Outcome] = {}
        # Contacts whose turns are the same objects (analytics.recorded shares identical
        # decisions) are replayed once: (changed decisions, new action or None, replayed),
        # found by the tuple of turns itself first (shared by contacts read from storage).
        self._paths: dict[tuple[int, ...], tuple] = {}
        self._tuples: dict[int, tuple] = {}

    def decide(self, context: PolicyContext) -> tuple[str, str]:
        found = self._decided.get(context)
        if found is None:
            d = decide(context, self.profile)
            found = (d.rule_id, str(d.action))
            if self.memo:
                self._decided[context] = found
        return found

    def replay(self, c: Recorded) -> tuple[Outcome | None, int, tuple[tuple[str, str], ...]]:
        """Return a replayable contact's projected outcome (None: its route is unchanged),
        the decisions replayed and the (recorded rule, new rule) of those that changed."""
        path = self._tuples.get(id(c.turns)) if self.memo else None
        if path is None:
            key = tuple(map(id, c.turns))
            path = self._paths.get(key) if self.memo else None
            if path is None:
                path = self._path(c.turns)
                if self.memo:
                    self._paths[key] = path
            if self.memo:
                self._tuples[id(c.turns)] = path  # the contacts outlive the replayer
        changed, diverged, replayed = path
        if diverged is None:
            return None, replayed, changed
        return self.project(c, diverged), replayed, changed

    def _path(self, turns: tuple[Turn, ...]) -> tuple:
        changed: list[tuple[str, str]] = []
        replayed = 0
        for turn in turns:
            replayed += 1
            rule_id, action = self.decide(turn.context)  # type: ignore[arg-type]
            if rule_id != turn.rule_id or action != turn.action:
                changed.append((f"{turn.profile}:{turn.rule_id}", f"{self.profile.name}:{rule_id}"))
            if action != turn.action:
                return tuple(changed), action, replayed
        return tuple(changed), None, replayed

    def project(self, c: Recorded, action: str) -> Outcome:
        """Return the expected outcome of a contact that takes `action` instead."""
        key = (group_keys(c)[0], action)
        found = self._projected.get(key)
        if found is None:
            found = self._projected[key] = self._project(c, action)
        return found

    def _project(self, c: Recorded, action: str) -> Outcome:
        b = self.behaviour
        if action in ASSISTED_SERVICE:
            out = b.route("assisted", c)
            return Outcome(
                out.assisted, 1.0 if action == Action.CALLBACK else 0.0, out.completed,
                out.digital, out.agent_seconds,
            )  # fmt: skip
        if action == Action.CLOSE:
            return b.route("self_served", c)
        if action == Action.OFFER_DIGITAL:
            accept = b.rate("acceptance", c)
            declined = self._bot(c) if c.channel in DIGITAL_CHANNELS else b.route("assisted", c)
            return b.route("accepted", c).times(accept) + declined.times(1 - accept)
        return self._bot(c)

    def _bot(self, c: Recorded) -> Outcome:
        contain = self.behaviour.rate("containment", c)
        b = self.behaviour
        return b.route("self_served", c).times(contain) + b.route("assisted", c).times(1 - contain)


# -- the figures -------------------------------------------------------------------------------


def erlang_c(agents: int, load: float) -> float:
    """Return the probability that an arrival waits (Erlang C), `load` in erlangs."""
    if load <= 0:
        return 0.0
    if load >= agents:
        return 1.0
    blocked = 1.0  # Erlang B, by its recurrence (stable for any number of agents)
    for k in range(1, agents + 1):
        blocked = load * blocked / (k + load * blocked)
    return agents * blocked / (agents - load * (1 - blocked))


@dataclass(frozen=True)
class Hour:
    """One hour's assisted demand and the agents who met it."""

    arrivals: float
    agent_seconds: float
    agents: int


def service(
    hours: Iterable[Hour], handle_seconds: float, threshold: float = SERVICE_LEVEL_SECONDS
) -> dict:
    """Return the Erlang C service level and speed of answer over hours, arrival-weighted."""
    arrivals = within = waited = stable = 0.0
    overloaded = 0
    for h in hours:
        if h.arrivals <= 0:
            continue
        load = h.agent_seconds / 3600
        agents = max(1, h.agents)
        arrivals += h.arrivals
        if load >= agents:
            overloaded += 1
            continue
        waits = erlang_c(agents, load)
        aht = handle_seconds or DEFAULT_HANDLE_SECONDS
        within += h.arrivals * (1 - waits * math.exp(-(agents - load) * threshold / aht))
        waited += h.arrivals * waits * aht / (agents - load)
        stable += h.arrivals
    return {
        "service_level": round(within / arrivals, 4) if arrivals else None,
        "average_speed_of_answer_seconds": round(waited / stable, 1) if stable else None,
        "overloaded_hours": overloaded,
    }


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


# A cell's sums: contacts, assisted, callbacks, completed, completed digitally, agent seconds.
N, ASSISTED, CALLBACK, COMPLETED, DIGITAL, SECONDS = range(6)


def _sums() -> list[float]:
    return [0.0] * 6


def _into(sums: list[float], o: Outcome, n: int = 1) -> None:
    sums[N] += n
    sums[ASSISTED] += o.assisted * n
    sums[CALLBACK] += o.callback * n
    sums[COMPLETED] += o.completed * n
    sums[DIGITAL] += o.digital * n
    sums[SECONDS] += o.agent_seconds * n


def figures(
    cells: Iterable[tuple[tuple, list[float]]],
    staffing: Mapping[datetime, int],
    handle_seconds: float,
    costs: Mapping[str, float] = COSTS,
    threshold: float = SERVICE_LEVEL_SECONDS,
) -> dict:
    """Return the headline figures of cells: ((hour, channel, ...), sums) pairs."""
    total = _sums()
    cost = 0.0
    hours: dict[datetime, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (hour, channel, *_), sums in cells:
        for i in range(6):
            total[i] += sums[i]
        if channel == PHONE:
            cost += sums[N] * costs["phone"]
        else:
            assisted = sums[ASSISTED]
            cost += assisted * costs["assisted_written"] + (sums[N] - assisted) * costs["digital"]
        if sums[ASSISTED]:
            slot = hours[hour]
            slot[0] += sums[ASSISTED]
            slot[1] += sums[SECONDS]
    n = round(total[N])
    return {
        "contacts": n,
        "completed": round(total[COMPLETED], 1),
        "completed_digitally": round(total[DIGITAL], 1),
        "digital_take_up": _ratio(total[DIGITAL], total[COMPLETED]),
        "assisted": round(total[ASSISTED], 1),
        "assisted_share": _ratio(total[ASSISTED], n),
        "callbacks": round(total[CALLBACK], 1),
        "agent_hours": round(total[SECONDS] / 3600, 1),
        **service(
            (Hour(a, sec, staffing.get(h, 0)) for h, (a, sec) in hours.items()),
            handle_seconds,
            threshold,
        ),
        "cost": round(cost, 2),
        "cost_per_contact": round(cost / n, 3) if n else None,
        "savings_against_all_phone": round(n * costs["phone"] - cost, 2),
    }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def group_value(c: Recorded, by: str) -> str:
    if by == "exempt":
        return "unidentified" if c.exempt is None else ("exempt" if c.exempt else "not_exempt")
    if by == "age_band":
        return c.age_band or "unknown"
    return c.channel


def observed_service(contacts: Iterable[Recorded], threshold: float) -> float | None:
    """Return the measured service level: queued contacts an agent took within the threshold."""
    queued = answered = 0
    for c in contacts:
        if c.assisted:
            queued += c.count
            if c.wait_seconds is not None and c.wait_seconds <= threshold:
                answered += c.count
    return answered / queued if queued else None


def staffing_of(contacts: Iterable[Recorded]) -> dict[datetime, int]:
    """Return, per hour, how many agents took contacts opened in it."""
    agents: dict[datetime, set[int]] = defaultdict(set)
    for c in contacts:
        if c.agent_id is not None:
            agents[_hour(c.opened_at)].add(c.agent_id)
    return {h: len(a) for h, a in agents.items()}


def simulate(
    contacts: Sequence[Recorded],
    profile: Profile,
    costs: Mapping[str, float] = COSTS,
    threshold: float = SERVICE_LEVEL_SECONDS,
    memo: bool = True,
    staffing: Mapping[datetime, int] | None = None,
) -> dict:
    """Replay the contacts under `profile`; return what happened and what would, side by side.

    `memo` remembers decide()'s answer per context (it is pure); off, every decision is made
    afresh (the benchmark's worst case). `staffing` (agents per hour) is read from the
    contacts' agents unless given (contacts read as classes carry no agent)."""
    paths = Paths()
    behaviour = Behaviour(contacts, paths)
    replayer = Replayer(profile, behaviour, memo)
    if staffing is None:
        staffing = staffing_of(contacts)
    # Sums by cell (hour, channel, exemption, age band), what happened and what would: every
    # figure and the fairness panel are read from the cells.
    cells: dict[tuple, tuple[list[float], list[float]]] = {}
    changes: Counter[tuple[str, str]] = Counter()
    decisions = rerouted = not_replayable = 0
    first_profiles: Counter[str | None] = Counter()
    total = 0
    for c in contacts:
        n = c.count
        total += n
        _bot, callback, replayable = paths.of(c)
        projected = None
        if replayable:
            projected, replayed, changed = replayer.replay(c)
            decisions += replayed * n
            for change in changed:
                changes[change] += n
            if projected is not None:
                rerouted += n
        else:
            not_replayable += n
        if c.turns:
            first_profiles[c.turns[0].profile] += n
        key = (
            _hour(c.opened_at), c.channel, group_value(c, "exempt"), group_value(c, "age_band")
        )  # fmt: skip
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = (_sums(), _sums())
        was = recorded_outcome(c, callback)
        _into(cell[0], was, n)
        _into(cell[1], was if projected is None else projected, n)
    aht = behaviour.average_handle_seconds

    def figures_of(which: int, chosen: Iterable[tuple]) -> dict:
        return figures(((k, v[which]) for k, v in chosen), staffing, aht, costs, threshold)

    recorded_figures = figures_of(0, cells.items())
    recorded_figures["observed_service_level"] = observed_service(contacts, threshold)
    projected = figures_of(1, cells.items())
    fairness = {}
    for index, by in ((2, "exempt"), (3, "age_band"), (1, "channel")):
        groups: dict[str, list[tuple]] = defaultdict(list)
        for item in cells.items():
            groups[item[0][index]].append(item)
        fairness[by] = [
            {
                "group": value,
                "recorded": _panel(figures_of(0, groups[value])),
                "projected": _panel(figures_of(1, groups[value])),
            }
            for value in sorted(groups)
        ]
    return {
        "profile": profile.name,
        "recorded_profiles": dict(first_profiles),
        "contacts": total,
        "not_replayable": not_replayable,
        "decisions": {
            "replayed": decisions,
            "changed": sum(changes.values()),
            "changes": [
                {"recorded": a, "simulated": b, "count": n} for (a, b), n in changes.most_common()
            ],
        },
        "contacts_rerouted": rerouted,
        "recorded": recorded_figures,
        "projected": projected,
        "difference": {
            k: _difference(recorded_figures[k], projected[k]) for k in projected if k != "contacts"
        },
        "fairness": fairness,
        "flags": _flags(fairness),
        "observed_rates": behaviour.summary(),
        "defaults_used": sorted(behaviour.defaults_used),
        "settings": {
            "service_level_seconds": threshold,
            "costs": dict(costs),
            "min_sample": MIN_SAMPLE,
            "default_rates": DEFAULT_RATES,
        },
        "assumptions": assumptions(),
    }


def _difference(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return round(b - a, 4)


def _panel(f: dict) -> dict:
    keys = ("contacts", "assisted_share", "digital_take_up", "average_speed_of_answer_seconds")
    return {k: f[k] for k in keys}


def flagged(fairness: dict) -> list[tuple[str, str, str, float, float]]:
    """Return where a group's share of assisted service or its take-up moves by 5 points:
    (grouping, group, figure, recorded, projected)."""
    out = []
    for by, rows in fairness.items():
        for row in rows:
            for k in ("assisted_share", "digital_take_up"):
                a, b = row["recorded"][k], row["projected"][k]
                if a is not None and b is not None and abs(b - a) >= FLAG_POINTS:
                    out.append((by, row["group"], k, a, b))
    return out


def _flags(fairness: dict) -> list[str]:
    return [f"{by}={group}: {k} {a:.0%} -> {b:.0%}" for by, group, k, a, b in flagged(fairness)]
