"""The managers' dashboard (`/dashboard`): the channel-shift figures as a page, in two languages.

The page shows the same figures as `GET /api/v1/metrics/channel-shift` for the same period:
both call one report function (`analytics.report.channel_shift_reports`; the page asks for all
its parts in one call, which reads the daily rollup once), so a number on the page is the
number in the API. Every chart is drawn in the browser by Chart.js,
served by kanal itself from `analytics/static/vendor/chart.js/` (no CDN), from the figures the
page embeds; every chart has a table beside it with the same numbers, for screen readers, for
print and for anyone without JavaScript.

Analytics does not know staff sign-in: the wiring point hands this factory `guard` (a view
decorator that lets managers and supervisors in, redirects the anonymous to sign in and
refuses other roles) and `speak` (chooses the page's language and returns its translator).

The page's parts live beside this module: its words (`dashboard_words`), the headline figures
and their targets (`headlines`), the fairness panel (`fairness_panel`), the figures asked for
a period (`dashboard_figures`), the charts (`dashboard_charts`) and the policy simulator's
page (`simulator_page`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import partial

from flask import Blueprint, render_template, request, url_for
from sqlalchemy import Engine

from analytics import metrics, surge_dashboard
from analytics.api import BadQuery, read_query
from analytics.dashboard_charts import chart_data
from analytics.dashboard_figures import MAX_DAYS, default_period, gather
from analytics.dashboard_words import N_, Words, language_switch
from analytics.fairness_panel import (
    FAIRNESS_FIGURES,
    FAIRNESS_GAP,
    FAIRNESS_GROUPINGS,
    FAIRNESS_MIN,
    flag,
)
from analytics.headlines import HEADLINES, targets
from analytics.report import FILTERS, channel_shift_reports, settings_of
from analytics.simulator_page import simulator
from router.domain.channels import CHANNELS

DASHBOARD_ROLES = ("manager", "supervisor")

GROUPINGS = (
    ("channel", N_("Channel")),
    ("need", N_("Need")),
    ("exempt", N_("Exemption")),
    ("age_band", N_("Age band")),
    ("language", N_("Language")),
    ("none", N_("Everyone")),
)
# The groups a manager can narrow the whole page to (grouping, group).
NARROWING = (
    *(("channel", channel) for channel in CHANNELS),
    ("exempt", "exempt"),
    ("exempt", "not_exempt"),
    ("age_band", "15_64"),
    ("age_band", "65_79"),
    ("age_band", "80_plus"),
)


def _narrowing(args: dict) -> None:
    """Turn the form's `only` ("grouping:group") into the API's filter parameter."""
    only = args.pop("only", "")
    name, _, group = only.partition(":")
    if name in FILTERS and group:
        args[name] = group


def overview(
    report: Callable,
    config: Mapping,
    speak: Callable,
    targets: Mapping,
    surges: Callable | None = None,
    channels: Iterable[str] = CHANNELS,
    clock: Callable[[], datetime] | None = None,
):
    """The dashboard for a period, a grouping and a group (query parameters as the API's);
    `surges(window, now)` reads the surge mode section (analytics/surge_dashboard.py).
    Today is `clock()`'s day in KANAL_TIMEZONE, as on the desk and the supervisor board."""
    _ = speak()
    words = Words(_)
    now = clock() if clock is not None else datetime.now(UTC)
    timezone = config.get("KANAL_TIMEZONE", "Europe/Copenhagen")
    args = request.args.to_dict()
    _narrowing(args)
    first, last = default_period(timezone, now)
    args.setdefault("from", first.isoformat())
    args.setdefault("to", last.isoformat())
    args.setdefault("group_by", "channel")
    only = next((f"{name}:{args[name]}" for name in FILTERS if name in args), "")
    page = {
        "args": args,
        "groupings": GROUPINGS,
        "narrowing": [
            (f"{g}:{v}", words.group(v))
            for g, v in (
                *(("channel", c) for c in channels),
                *(n for n in NARROWING if n[0] != "channel"),
            )
        ],
        "narrowed_to": only,
        "words": words,
        "switch": language_switch(config, args, _.language),
    }
    try:
        query = read_query(
            args,
            timezone,
            int(config.get("KANAL_REPEAT_WINDOW_DAYS", metrics.REPEAT_WINDOW_DAYS)),
            float(config.get("KANAL_DEFLECTION_FOLLOWUP_HOURS", metrics.FOLLOWUP_WINDOW_HOURS)),
            settings_of(config),
            channels,
        )
        days = (query.window.last_day - query.window.first_day).days + 1
        if days > MAX_DAYS:
            raise BadQuery("to", f"at most {MAX_DAYS} days")
    except BadQuery as exc:
        if exc.parameter == "group_by" or exc.parameter in FILTERS:
            error = _("Choose one of the groupings offered.")
        else:
            error = _(
                "Give the period as two days (YYYY-MM-DD), the first not after the last, "
                "at most {days} days apart.",
                days=MAX_DAYS,
            )
        return render_template("dashboard/overview.html", error=error, **page), 400
    figures = gather(report, query, now)
    surge = surges(query.window, now) if surges is not None else None
    charts = chart_data(figures, words)
    if surge is not None:
        charts["surges"] = surge_dashboard.chart(surge, _)
    api_args = {k: v for k, v in args.items() if k != "lang"}
    return render_template(
        "dashboard/overview.html",
        error=None,
        f=figures,
        t=figures.total,
        window=figures.report["window"],
        headlines=[(name, label, kind, targets.get(name)) for name, label, kind, _t in HEADLINES],
        fairness_groupings=FAIRNESS_GROUPINGS,
        fairness_figures=FAIRNESS_FIGURES,
        flag=flag,
        gap=FAIRNESS_GAP,
        fairness_min=FAIRNESS_MIN,
        charts=charts,
        surge=surge,
        surge_duration=partial(surge_dashboard.duration, words),
        migration_columns=sorted(
            {to for row in figures.report["migration"]["matrix"].values() for to in row}
        ),
        api_url=url_for("analytics.channel_shift", **api_args),
        csv_url=url_for("analytics.export_csv", **api_args),
        **page,
    )


def blueprint(
    engine: Engine,
    config: Mapping,
    guard: Callable,
    speak: Callable,
    channels: Callable[[], Iterable[str]] = lambda: CHANNELS,
    clock: Callable[[], datetime] | None = None,
) -> Blueprint:
    """Return the dashboard's pages over a read-only engine, reading the API's report.

    `guard(view)` admits managers and supervisors; `speak()` picks the page's language;
    `clock()` is kanal's (its day in KANAL_TIMEZONE ends the period shown by default).
    """
    chosen = targets(str(config.get("KANAL_TARGETS", "")))
    report = partial(channel_shift_reports, engine)
    surges = surge_dashboard.reader(engine)
    bp = Blueprint(
        "dashboard",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static/dashboard",
    )

    def view():
        return overview(report, config, speak, chosen, surges, tuple(channels()), clock)

    def simulator_view():
        return simulator(engine, config, speak, clock)

    view.__name__ = "overview"
    simulator_view.__name__ = "simulator"
    bp.add_url_rule("/dashboard", "overview", guard(view))
    bp.add_url_rule("/dashboard/simulate", "simulator", guard(simulator_view))
    return bp
