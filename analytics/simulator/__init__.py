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

A contact's `completed` and `digital` are the report's (analytics.simulation reads them with
the report's rule, metrics.need_completion). A projection takes the group's share of completed
needs, but the channel of completion is the new route's: self-service is digital on web chat
and SMS only (the phone's assistant is the phone), a need completed after a digital route
taken is digital, a person's service digital only in the group's assisted-digital share.

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
`simulate` (here) runs the replay; the package's modules hold its parts: `records` (the
recorded contacts and an expected outcome), `behaviour` (the rates observed by group),
`replay` (the decisions made again, the projections), `erlang` (service level), `figures`
(the headline figures by cell), `fairness` (the groups flagged), `assumptions` (stated with
every answer).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from analytics.simulator.assumptions import ASSUMPTIONS, assumptions
from analytics.simulator.behaviour import (
    DEFAULT_HANDLE_SECONDS,
    DEFAULT_RATES,
    MIN_SAMPLE,
    Behaviour,
    group_keys,
)
from analytics.simulator.erlang import SERVICE_LEVEL_SECONDS, Hour, erlang_c, service
from analytics.simulator.fairness import FLAG_POINTS, difference, flag_lines, flagged, panel
from analytics.simulator.figures import (
    COSTS,
    PHONE,
    add_outcome,
    empty_sums,
    figures,
    group_value,
    hour_of,
    observed_service,
    staffing_of,
)
from analytics.simulator.records import ExpectedOutcome, Paths, Recorded, Turn, recorded_outcome
from analytics.simulator.replay import Replayer
from router.policy import Profile

__all__ = [
    "ASSUMPTIONS",
    "COSTS",
    "DEFAULT_HANDLE_SECONDS",
    "DEFAULT_RATES",
    "FLAG_POINTS",
    "MIN_SAMPLE",
    "PHONE",
    "SERVICE_LEVEL_SECONDS",
    "Behaviour",
    "Hour",
    "ExpectedOutcome",
    "Paths",
    "Recorded",
    "Replayer",
    "Turn",
    "assumptions",
    "erlang_c",
    "figures",
    "flagged",
    "group_keys",
    "recorded_outcome",
    "service",
    "simulate",
]


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
            hour_of(c.opened_at), c.channel, group_value(c, "exempt"), group_value(c, "age_band")
        )  # fmt: skip
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = (empty_sums(), empty_sums())
        was = recorded_outcome(c, callback)
        add_outcome(cell[0], was, n)
        add_outcome(cell[1], was if projected is None else projected, n)
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
                "recorded": panel(figures_of(0, groups[value])),
                "projected": panel(figures_of(1, groups[value])),
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
            k: difference(recorded_figures[k], projected[k]) for k in projected if k != "contacts"
        },
        "fairness": fairness,
        "flags": flag_lines(fairness),
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
