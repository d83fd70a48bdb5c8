"""Rows: what a manager reads of a group, computed from its tally with the report's thresholds
and prices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import partial

from analytics.metrics.cost import DEFAULT_COSTS
from analytics.metrics.facts import ContactFacts
from analytics.metrics.fairness import group_of
from analytics.metrics.figures import Seconds, half_up, mean_seconds, money, ratio
from analytics.metrics.service_level import SERVICE_LEVEL_SECONDS, SHORT_ABANDON_SECONDS
from analytics.metrics.tally import tally

# "Satisfied" and "very satisfied" on the 5-point scale (user satisfaction).
SATISFIED = (4, 5)


@dataclass(frozen=True)
class Settings:
    """The thresholds and prices a report applies (configurable, docs/domain.md §4)."""

    short_abandon_seconds: int = SHORT_ABANDON_SECONDS
    service_level_seconds: int = SERVICE_LEVEL_SECONDS
    costs: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_COSTS))


@dataclass(frozen=True)
class Row:
    """The channel-shift figures of one group."""

    group: str
    contacts: int
    bot_conversations: int
    bot_contained: int
    bot_repeat_contacts: int
    handed_off: int
    assisted: int
    completed_needs: int
    completed_digital: int
    digital_take_up: float | None
    bot_containment: float | None
    handoff_rate: float | None
    handoff_reasons: dict[str, int] = field(default_factory=dict)
    # The phone: deflection funnel, callbacks, abandonment (added fields; see DEFINITIONS).
    deflection_offered: int = 0
    deflection_accepted: int = 0
    deflection_completed: int = 0
    deflection_acceptance_rate: float | None = None
    deflection_completion_rate: float | None = None
    callbacks_booked: int = 0
    callbacks_placed: int = 0
    callback_calls: int = 0
    callbacks_answered: int = 0
    callbacks_failed: int = 0
    callbacks_settled: int = 0
    callbacks_pending: int = 0
    callback_answer_rate: float | None = None
    callback_reasons: dict[str, int] = field(default_factory=dict)
    callback_failures: dict[str, int] = field(default_factory=dict)
    phone_queued: int = 0
    phone_abandoned: int = 0
    phone_short_abandons: int = 0
    phone_abandonment_rate: float | None = None
    # The managers' view (issue 17): settled and in progress, needs, repeat, queue, cost.
    in_progress: int = 0
    bot_in_progress: int = 0
    needs_started: int = 0
    completed_assisted_digital: int = 0
    completed_other: int = 0
    completion_rate: float | None = None
    assisted_digital_share: float | None = None
    resolved_contacts: int = 0
    repeat_contacts: int = 0
    repeat_rate: float | None = None
    first_contact_resolution: float | None = None
    satisfaction_answers: int = 0
    satisfied: int = 0
    user_satisfaction: float | None = None
    satisfaction_scores: dict[str, int] = field(default_factory=dict)
    queued: int = 0
    queue_in_progress: int = 0
    answered: int = 0
    answered_in_time: int = 0
    abandoned: int = 0
    short_abandons: int = 0
    service_level: float | None = None
    abandonment_rate: float | None = None
    asa_seconds: float | None = None
    answer_p50_seconds: int | None = None
    answer_p90_seconds: int | None = None
    handled: int = 0
    aht_seconds: float | None = None
    occupancy: float | None = None
    agent_handling_seconds: int = 0
    identified_contacts: int = 0
    exempt_contacts: int = 0
    exemption_share_contacts: float | None = None
    citizens: int | None = None
    exempt_citizens: int | None = None
    exemption_share: float | None = None
    cost: float = 0.0
    cost_per_contact: float | None = None
    cost_per_transaction: float | None = None
    phone_cost_same_demand: float = 0.0
    savings: float = 0.0

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def from_tally(
    group: str, t: Mapping, settings: Settings = Settings(), citizens: tuple | None = None
) -> Row:
    """Return a group's row from its tally; `citizens` = (citizens, exempt citizens) when
    known (distinct people do not add up across days, so a rollup may not have them)."""
    ordered = partial(sorted, key=lambda kv: (-kv[1], kv[0]))
    answered_waits = Seconds.of(t["answered_waits"])
    abandoned_waits = Seconds.of(t["abandoned_waits"])
    answered = answered_waits.total
    abandoned_all = abandoned_waits.total
    short = abandoned_waits.below(settings.short_abandon_seconds)
    queued = answered + abandoned_all + t["queue_other"]
    phone_short = Seconds.of(t["phone_abandoned_waits"]).below(settings.short_abandon_seconds)
    in_time = answered_waits.at_most(settings.service_level_seconds)
    scores = {k: t["satisfaction_scores"].get(k, 0) for k in ("1", "2", "3", "4", "5")}
    satisfied = sum(scores[str(score)] for score in SATISFIED)
    answers = sum(scores.values())
    costs = settings.costs
    kinds = t["cost_kinds"]
    exact_cost = sum((n * money(costs.get(k, 0)) for k, n in kinds.items()), Decimal(0))
    cost = half_up(exact_cost, 2)
    phone_cost = half_up(t["contacts"] * money(costs.get("phone", 0)), 2)
    done = t["completed_needs"]
    cb = t["callbacks_booked"]
    cb_answered, cb_failed, cb_settled = (
        t["callbacks_answered"],
        t["callbacks_failed"],
        t["callbacks_settled"],
    )
    settled_bot = t["bot_conversations"] - t["bot_in_progress"]
    if citizens is None and "people" in t:
        citizens = (len(t["people"]), sum(t["people"].values()))
    people, exempt_people = citizens if citizens is not None else (None, None)
    return Row(
        group=group,
        contacts=t["contacts"],
        bot_conversations=t["bot_conversations"],
        bot_contained=t["bot_contained"],
        bot_repeat_contacts=t["bot_repeat_contacts"],
        handed_off=t["handed_off"],
        assisted=t["assisted"],
        completed_needs=done,
        completed_digital=t["completed_digital"],
        digital_take_up=ratio(t["completed_digital"] + t["completed_assisted_digital"], done),
        bot_containment=ratio(t["bot_contained"], settled_bot),
        handoff_rate=ratio(t["handed_off"], t["bot_conversations"]),
        handoff_reasons=dict(ordered(t["handoff_reasons"].items())),
        deflection_offered=t["deflection_offered"],
        deflection_accepted=t["deflection_accepted"],
        deflection_completed=t["deflection_completed"],
        deflection_acceptance_rate=ratio(t["deflection_accepted"], t["deflection_offered"]),
        deflection_completion_rate=ratio(t["deflection_completed"], t["deflection_accepted"]),
        callbacks_booked=cb,
        callbacks_placed=t["callbacks_placed"],
        callback_calls=t["callback_calls"],
        callbacks_answered=cb_answered,
        callbacks_failed=cb_failed,
        callbacks_settled=cb_settled,
        callbacks_pending=cb - cb_answered - cb_failed - cb_settled,
        callback_answer_rate=ratio(cb_answered, cb),
        callback_reasons=dict(ordered(t["callback_reasons"].items())),
        callback_failures=dict(ordered(t["callback_failures"].items())),
        phone_queued=t["phone_queued"],
        phone_abandoned=t["phone_abandoned"],
        phone_short_abandons=phone_short,
        phone_abandonment_rate=ratio(
            t["phone_abandoned"] - phone_short, t["phone_queued"] - phone_short
        ),
        in_progress=t["in_progress"],
        bot_in_progress=t["bot_in_progress"],
        needs_started=t["needs_started"],
        completed_assisted_digital=t["completed_assisted_digital"],
        completed_other=t["completed_other"],
        completion_rate=ratio(done, t["needs_started"]),
        assisted_digital_share=ratio(t["completed_assisted_digital"], done),
        resolved_contacts=t["resolved_contacts"],
        repeat_contacts=t["repeat_contacts"],
        repeat_rate=ratio(t["repeat_contacts"], t["resolved_contacts"]),
        first_contact_resolution=ratio(
            t["resolved_contacts"] - t["resolved_with_repeat"], t["resolved_contacts"]
        ),
        satisfaction_answers=answers,
        satisfied=satisfied,
        user_satisfaction=ratio(satisfied, answers),
        satisfaction_scores=scores,
        queued=queued,
        queue_in_progress=t["queue_in_progress"],
        answered=answered,
        answered_in_time=in_time,
        abandoned=abandoned_all - short,
        short_abandons=short,
        service_level=ratio(in_time, queued - short),
        abandonment_rate=ratio(abandoned_all - short, queued - short),
        asa_seconds=mean_seconds(
            t["answered_wait_seconds"], t["answered_wait_microseconds"], answered
        ),
        answer_p50_seconds=answered_waits.percentile(0.5),
        answer_p90_seconds=answered_waits.percentile(0.9),
        handled=t["handled"],
        aht_seconds=mean_seconds(t["handle_seconds"], t["handle_microseconds"], t["handled"]),
        occupancy=None,  # agency-wide: the report's occupancy section (analytics/occupancy.py)
        agent_handling_seconds=t["handle_seconds"] + t["handle_microseconds"] // 1_000_000,
        identified_contacts=t["identified_contacts"],
        exempt_contacts=t["exempt_contacts"],
        exemption_share_contacts=ratio(t["exempt_contacts"], t["identified_contacts"]),
        citizens=people,
        exempt_citizens=exempt_people,
        exemption_share=ratio(exempt_people, people) if people is not None else None,
        cost=cost,
        cost_per_contact=half_up(money(cost) / t["contacts"], 2) if t["contacts"] else None,
        cost_per_transaction=half_up(money(cost) / done, 2) if done else None,
        phone_cost_same_demand=phone_cost,
        savings=half_up(money(phone_cost) - money(cost), 2),
    )


def row(
    group: str,
    contacts: Sequence[ContactFacts],
    repeats: frozenset[int] = frozenset(),
    deflected: frozenset[int] = frozenset(),
    settings: Settings = Settings(),
) -> Row:
    """Compute one group's row; `repeats` and `deflected` hold ids of contacts followed by a
    repeat and of completed deflections, when not already marked on the contacts."""
    if deflected:
        contacts = [
            replace(c, deflection_completed=True) if c.contact_id in deflected else c
            for c in contacts
        ]
    return from_tally(group, tally(contacts, repeats), settings)


def channel_shift(
    cohort: Sequence[ContactFacts],
    repeats: frozenset[int] = frozenset(),
    group_by: str = "channel",
    deflected: frozenset[int] = frozenset(),
    settings: Settings = Settings(),
) -> tuple[list[Row], Row]:
    """Return one row per group (sorted by group) and the row of the whole cohort."""
    groups: dict[str, list[ContactFacts]] = {}
    for c in cohort:
        groups.setdefault(group_of(c, group_by), []).append(c)
    rows = [
        row(name, members, repeats, deflected, settings) for name, members in sorted(groups.items())
    ]
    return rows, row("all", cohort, repeats, deflected, settings)
