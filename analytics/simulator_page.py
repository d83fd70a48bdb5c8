"""The policy simulator's page (`/dashboard/simulate`): a period replayed under another
profile, as the API's `GET /api/v1/simulate` answers it (the same function,
`analytics.simulation.simulate_period`), side by side with what happened."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from flask import render_template, request, url_for
from sqlalchemy import Engine

from analytics import metrics
from analytics.api import BadQuery, read_query, simulation_settings
from analytics.dashboard_figures import MAX_DAYS, default_period
from analytics.dashboard_words import N_, Words, language_switch
from analytics.simulation import simulate_period
from analytics.simulator import ASSUMPTIONS, MIN_SAMPLE, flagged
from router.policy import available_profiles, load_profile

# The policy simulator's side-by-side figures: (field, label, kind).
SIMULATED = (
    ("contacts", N_("Contacts"), "count"),
    ("completed", N_("Completed needs"), "count"),
    ("completed_digitally", N_("Completed digitally"), "count"),
    ("digital_take_up", N_("Digital take-up"), "percent"),
    ("assisted", N_("Assisted by a person"), "count"),
    ("assisted_share", N_("Share assisted"), "percent"),
    ("callbacks", N_("Callbacks"), "count"),
    ("agent_hours", N_("Agent hours"), "count"),
    ("service_level", N_("Service level"), "percent"),
    ("average_speed_of_answer_seconds", N_("Mean wait"), "seconds"),
    ("cost", N_("Cost"), "money"),
    ("cost_per_contact", N_("Cost per contact"), "money"),
    ("savings_against_all_phone", N_("Savings against the phone"), "money"),
)
SIMULATED_FAIRNESS = (
    ("assisted_share", N_("Share assisted"), "percent"),
    ("digital_take_up", N_("Digital take-up"), "percent"),
    ("average_speed_of_answer_seconds", N_("Mean wait"), "seconds"),
)
SIMULATED_GROUPINGS = (
    ("exempt", N_("Exempt and not exempt")),
    ("age_band", N_("Age band")),
    ("channel", N_("Channel")),
)
# The rates a period may not show, for which the simulator took its defaults.
SIMULATED_DEFAULTS = {
    "containment": N_("bot containment"),
    "acceptance": N_("acceptance of an offered digital route"),
    "assisted_outcome": N_("the outcome when a person serves"),
    "self_served_outcome": N_("the outcome of self-service"),
    "accepted_outcome": N_("the outcome of a digital route taken"),
}


def simulator_words(body: Mapping, _: Callable, words: Words) -> dict:
    """Return the simulator's assumptions, defaults and flags in the page's language."""
    figures = {name: label for name, label, _kind in SIMULATED}
    groupings = dict(SIMULATED_GROUPINGS)
    flags = [
        _(
            "{grouping}, {group}: {figure} from {before} to {after}",
            grouping=_(groupings[by]),
            group=words.group(group),
            figure=_(figures[figure]),
            before=words.percent(before),
            after=words.percent(after),
        )
        for by, group, figure, before, after in flagged(body["fairness"])
    ]
    return {
        "assumptions": [_(a, min_sample=MIN_SAMPLE) for a in ASSUMPTIONS],
        "defaults": [_(SIMULATED_DEFAULTS.get(n, n)) for n in body["defaults_used"]],
        "flags": flags,
    }


def simulator(engine: Engine, config: Mapping, speak: Callable, clock: Callable | None = None):
    """The policy simulator's page: a period replayed under another profile, as the API's
    `GET /api/v1/simulate` answers it (the same function, analytics.simulation.simulate_period).
    Today is `clock()`'s day (kanal's clock) in KANAL_TIMEZONE."""
    _ = speak()
    words = Words(_)
    now = clock() if clock is not None else datetime.now(UTC)
    timezone = config.get("KANAL_TIMEZONE", "Europe/Copenhagen")
    args = request.args.to_dict()
    first, last = default_period(timezone, now)
    args.setdefault("from", first.isoformat())
    args.setdefault("to", last.isoformat())
    profiles = available_profiles()
    args.setdefault("profile", next((p for p in profiles if p != config.get("KANAL_POLICY")), ""))
    page = {
        "args": args,
        "profiles": profiles,
        "words": words,
        "switch": language_switch(config, args, _.language, "dashboard.simulator"),
    }
    try:
        query = read_query({**args, "group_by": "none"}, timezone, metrics.REPEAT_WINDOW_DAYS)
        days = (query.window.last_day - query.window.first_day).days + 1
        if days > MAX_DAYS or args["profile"] not in profiles:
            raise BadQuery("to", "")
    except BadQuery:
        error = _(
            "Give the period as two days (YYYY-MM-DD), the first not after the last, "
            "at most {days} days apart, and one of the profiles offered.",
            days=MAX_DAYS,
        )
        return render_template("dashboard/simulator.html", error=error, **page), 400
    window = query.window
    body = simulate_period(
        engine,
        load_profile(args["profile"]),
        window.first_day,
        window.last_day,
        timezone,
        **simulation_settings(config),
    )
    rates = ("digital_take_up", "assisted_share", "service_level")
    labels = {name: label for name, label, _kind in SIMULATED}
    chart = {
        "kind": "bar",
        "percent": True,
        "labels": [_(labels[name]) for name in rates],
        "series": [
            {"label": _("What happened"), "values": [body["recorded"][n] for n in rates]},
            {
                "label": _("Under {profile}", profile=body["profile"]),
                "values": [body["projected"][n] for n in rates],
            },
        ],
    }
    return render_template(
        "dashboard/simulator.html",
        error=None,
        s=body,
        simulated=SIMULATED,
        simulated_fairness=SIMULATED_FAIRNESS,
        simulated_groupings=SIMULATED_GROUPINGS,
        charts={"simulated": chart},
        said=simulator_words(body, _, words),
        api_url=url_for("analytics.simulate", **{k: args[k] for k in ("from", "to", "profile")}),
        **page,
    )
