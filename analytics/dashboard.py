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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from flask import Blueprint, render_template, request, url_for
from sqlalchemy import Engine

from analytics import metrics, surge_dashboard
from analytics.api import BadQuery, read_query, simulation_settings
from analytics.report import FILTERS, Query, channel_shift_reports, settings_of
from analytics.simulation import simulate_period
from analytics.simulator import ASSUMPTIONS, MIN_SAMPLE, flagged
from router.domain.channels import CHANNELS, SMS, VOICE, WEBCHAT
from router.policy import available_profiles, load_profile

DASHBOARD_ROLES = ("manager", "supervisor")
DEFAULT_DAYS = 28  # the period shown when none is asked for: the last four weeks
MAX_DAYS = 366  # a longer period is refused (weekly trends of more than a year)
FAIRNESS_GAP = 0.10  # a rate this far (10 percentage points) from everyone's is flagged
WAIT_RATIO, WAIT_MARGIN = 1.5, 30  # a mean wait 1.5 times everyone's and 30 s longer, too
FAIRNESS_MIN = 10  # ... when the group counts at least this many contacts to take it over
LANGUAGE_NAMES = {"da": "Dansk", "en": "English", "sv": "Svenska", "de": "Deutsch"}


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Mark a message id for the catalogues; the page translates it where it is shown."""
    return message


@dataclass(frozen=True)
class Target:
    """A figure's target: at least `value` (higher is better) or at most `value`."""

    value: float
    higher_is_better: bool

    def met(self, figure: float | None) -> bool | None:
        if figure is None:
            return None
        return figure >= self.value if self.higher_is_better else figure <= self.value


# The headline figures, in the order the page shows them: (field, label, kind, target).
HEADLINES = (
    ("digital_take_up", N_("Digital take-up"), "percent", Target(0.80, True)),
    ("completion_rate", N_("Completion rate"), "percent", None),
    ("user_satisfaction", N_("User satisfaction"), "percent", Target(0.80, True)),
    ("bot_containment", N_("Bot containment"), "percent", Target(0.60, True)),
    ("handoff_rate", N_("Handoff rate"), "percent", Target(0.30, False)),
    ("service_level", N_("Service level"), "percent", Target(0.80, True)),
    ("abandonment_rate", N_("Abandonment"), "percent", Target(0.05, False)),
    ("first_contact_resolution", N_("First contact resolution"), "percent", Target(0.70, True)),
    ("cost_per_contact", N_("Cost per contact"), "money", None),
    ("savings", N_("Savings against the phone"), "money", None),
)
LOWER_IS_BETTER = {"handoff_rate", "abandonment_rate"}
RATES = {name for name, _label, kind, _target in HEADLINES if kind == "percent"}
DEFAULT_TARGETS = {name: target for name, _l, _k, target in HEADLINES if target is not None}

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
GROUP_WORDS = {
    WEBCHAT: N_("web chat"),
    SMS: N_("SMS"),
    VOICE: N_("phone"),
    "exempt": N_("exempt"),
    "not_exempt": N_("not exempt"),
    "unidentified": N_("not identified"),
    "unknown": N_("unknown"),
    "unrecognised": N_("not recognised"),
    "under_15": N_("under 15"),
    "15_64": N_("15-64"),
    "65_79": N_("65-79"),
    "80_plus": N_("80 or over"),
    "all": N_("everyone"),
    "da": N_("Danish"),
    "en": N_("English"),
}
# The fairness panel: the groupings it compares, and the figures it compares them on, each
# with the count it is taken over (a group with fewer than FAIRNESS_MIN is not flagged).
FAIRNESS_GROUPINGS = (
    ("exempt", N_("Exempt and not exempt")),
    ("age_band", N_("Age band")),
    ("language", N_("Language")),
)
FAIRNESS_FIGURES = (
    ("asa_seconds", N_("Mean wait"), "answered", "seconds"),
    ("service_level", N_("Service level"), "queued", "percent"),
    ("abandonment_rate", N_("Abandonment"), "queued", "percent"),
    ("digital_take_up", N_("Digital take-up"), "completed_needs", "percent"),
    ("completion_rate", N_("Completion rate"), "needs_started", "percent"),
    ("bot_containment", N_("Bot containment"), "bot_conversations", "percent"),
    ("first_contact_resolution", N_("First contact resolution"), "resolved_contacts", "percent"),
    ("user_satisfaction", N_("User satisfaction"), "satisfaction_answers", "percent"),
)


def targets(spec: str) -> dict[str, Target]:
    """Return the headline targets, with `KANAL_TARGETS` ("digital_take_up=0.8,...") applied.

    Raise ValueError naming what is wrong: an unknown figure or a value outside 0-1.
    """
    chosen = dict(DEFAULT_TARGETS)
    for item in (part.strip() for part in (spec or "").split(",")):
        if not item:
            continue
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in RATES:
            raise ValueError(
                f"KANAL_TARGETS: unknown figure {name!r}; one of {', '.join(sorted(RATES))}"
            )
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"KANAL_TARGETS: {name} needs a number from 0 to 1") from None
        if not 0 <= number <= 1:
            raise ValueError(f"KANAL_TARGETS: {name} needs a number from 0 to 1, not {value}")
        chosen[name] = Target(number, name not in LOWER_IS_BETTER)
    return chosen


def weeks(first: date, last: date) -> list[tuple[date, date]]:
    """Split a period into weeks (Monday to Sunday), the first and last clipped to it."""
    out = []
    start = first
    while start <= last:
        end = min(start + timedelta(days=6 - start.weekday()), last)
        out.append((start, end))
        start = end + timedelta(days=1)
    return out


Report = dict  # the report function's answer: window, definitions, rows, total, migration


@dataclass
class Figures:
    """What the page shows for one period, each part as the report function answered it."""

    query: Query
    report: Report  # the chosen grouping, with the migration from the period before
    by_channel: Report
    weekly: list[tuple[date, date, dict]]  # each week's total
    fairness: dict[str, Report]

    @property
    def total(self) -> dict:
        return self.report["total"]


def previous(window: metrics.Window) -> metrics.Window:
    """The period of the same length just before a window (the migration's first period)."""
    days = (window.last_day - window.first_day).days + 1
    return replace(
        window,
        first_day=window.first_day - timedelta(days=days),
        last_day=window.first_day - timedelta(days=1),
    )


def gather(reports: Callable, query: Query, now: datetime) -> Figures:
    """Ask the report function for everything the page shows for the query's period, in one
    call (`channel_shift_reports`: from the daily rollup, one read for every part)."""
    window = query.window
    spans = weeks(window.first_day, window.last_day)
    groupings = ["channel", *(g for g, _label in FAIRNESS_GROUPINGS)]
    extra = [g for g in dict.fromkeys(groupings) if g != query.group_by]
    # The page shows no count of distinct citizens but the migration's: none are counted.
    query = replace(query, citizens=False)
    asked = [
        replace(query, compare=previous(window)),
        *(replace(query, group_by=g, compare=None) for g in extra),
        *(
            replace(
                query,
                window=replace(window, first_day=start, last_day=end),
                group_by="none",
                compare=None,
            )
            for start, end in spans
        ),
    ]
    answers = reports(asked, now)
    main = answers[0]
    grouped = {query.group_by: main, **dict(zip(extra, answers[1 : 1 + len(extra)], strict=True))}
    weekly = [
        (start, end, body["total"])
        for (start, end), body in zip(spans, answers[1 + len(extra) :], strict=True)
    ]
    return Figures(
        query=query,
        report=main,
        by_channel=grouped["channel"],
        weekly=weekly,
        fairness={g: grouped[g] for g, _label in FAIRNESS_GROUPINGS},
    )


def flag(row: Mapping, total: Mapping, figure: str, base: str, kind: str) -> str | None:
    """Say how a group compares with everyone on a figure: "above", "below", or None.

    A rate is flagged FAIRNESS_GAP or more from everyone's; a mean wait when it is
    WAIT_RATIO times everyone's and WAIT_MARGIN seconds longer (or that much shorter). None
    when the group (or everyone) has no figure or the group counts fewer than FAIRNESS_MIN
    contacts to take it over.
    """
    mine, everyone = row.get(figure), total.get(figure)
    if mine is None or everyone is None or (row.get(base) or 0) < FAIRNESS_MIN:
        return None
    if kind == "seconds":
        if mine >= everyone * WAIT_RATIO and mine - everyone >= WAIT_MARGIN:
            return "above"
        if everyone >= mine * WAIT_RATIO and everyone - mine >= WAIT_MARGIN:
            return "below"
        return None
    if abs(mine - everyone) < FAIRNESS_GAP:
        return None
    return "above" if mine > everyone else "below"


class Words:
    """Formats numbers and names groups in the page's language."""

    def __init__(self, _: Callable) -> None:
        self._ = _
        self.language = getattr(_, "language", "en")
        self._said: dict[tuple, str] = {}  # a page repeats many numbers; Babel is slow

    def _number(self, value: float, pattern: str | None = None) -> str:
        key = (value, pattern)
        if key not in self._said:
            self._said[key] = format_decimal(value, format=pattern, locale=self.language)
        return self._said[key]

    def count(self, value: float | None) -> str:
        return "–" if value is None else self._number(value)

    def percent(self, value: float | None) -> str:
        if value is None:
            return "–"
        return self._number(value * 100, "#,##0.0") + " %"

    def money(self, value: float | None) -> str:
        if value is None:
            return "–"
        return self._number(value, "#,##0.00")

    def seconds(self, value: float | None) -> str:
        if value is None:
            return "–"
        return self._("{seconds} s", seconds=self._number(round(value)))

    def hours(self, seconds: float | None) -> str:
        if seconds is None:
            return "–"
        return self._("{hours} h", hours=self._number(seconds / 3600, "#,##0.0"))

    def figure(self, value: float | None, kind: str) -> str:
        return {
            "percent": self.percent,
            "money": self.money,
            "seconds": self.seconds,
            "hours": self.hours,
        }.get(kind, self.count)(value)

    def group(self, name: str) -> str:
        return self._(GROUP_WORDS[name]) if name in GROUP_WORDS else name.replace("_", " ")


def _default_period(timezone: str, now: datetime) -> tuple[date, date]:
    today = now.astimezone(ZoneInfo(timezone)).date()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def _chart_data(figures: Figures, words: Words) -> dict:
    """The figures the charts draw, with their labels in the page's language."""
    _ = words._
    t = figures.total
    weeks_ = [start.isoformat() for start, _end, _row in figures.weekly]
    weekly = [row for _start, _end, row in figures.weekly]
    channels = figures.by_channel["rows"]

    def series(label: str, values: list) -> dict:
        return {"label": _(label), "values": values}

    trend = [
        series(label, [r[name] for r in weekly])
        for name, label in (
            ("digital_take_up", "Digital take-up"),
            ("bot_containment", "Bot containment"),
            ("service_level", "Service level"),
            ("user_satisfaction", "User satisfaction"),
        )
    ]
    scores = [str(n) for n in range(1, 6)]
    occupied = figures.report.get("occupancy") or {"days": []}
    funnel = [t["deflection_offered"], t["deflection_accepted"], t["deflection_completed"]]
    return {
        "trend": {"kind": "line", "percent": True, "labels": weeks_, "series": trend},
        "volume": {
            "kind": "bar",
            "labels": weeks_,
            "series": [series("Contacts", [r["contacts"] for r in weekly])],
        },
        "channels": {
            "kind": "bar",
            "labels": [words.group(r["group"]) for r in channels],
            "series": [series("Contacts", [r["contacts"] for r in channels])],
        },
        "handoffs": {
            "kind": "bar",
            "horizontal": True,
            "labels": list(t["handoff_reasons"]),
            "series": [series("Handed off", list(t["handoff_reasons"].values()))],
        },
        "funnel": {
            "kind": "bar",
            "labels": [_("Offered"), _("Accepted"), _("Completed")],
            "series": [series("Phone callers", funnel)],
        },
        "waits": {
            "kind": "bar",
            "seconds": True,
            "labels": [words.group(r["group"]) for r in channels],
            "series": [
                series("Median wait", [r["answer_p50_seconds"] for r in channels]),
                series("90th percentile wait", [r["answer_p90_seconds"] for r in channels]),
            ],
        },
        "occupancy": {
            "kind": "line",
            "percent": True,
            "labels": [d["day"] for d in occupied["days"]],
            "series": [series("Occupancy", [d["occupancy"] for d in occupied["days"]])],
        },
        "satisfaction": {
            "kind": "bar",
            "labels": scores,
            "series": [series("Answers", [t["satisfaction_scores"].get(n, 0) for n in scores])],
        },
        "cost": {
            "kind": "bar",
            "money": True,
            "labels": [words.group(r["group"]) for r in channels],
            "series": [
                series("Cost", [r["cost"] for r in channels]),
                series(
                    "The same contacts by phone", [r["phone_cost_same_demand"] for r in channels]
                ),
            ],
        },
    }


def _switch(
    config: Mapping, args: Mapping, language: str, endpoint: str = "dashboard.overview"
) -> list[tuple[str, str, str]]:
    """The language switch: the same page in each other language the agency serves."""
    return [
        (code, LANGUAGE_NAMES.get(code, code), url_for(endpoint, **{**args, "lang": code}))
        for code in config.get("KANAL_LANGUAGES", ())
        if code != language
    ]


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
):
    """The dashboard for a period, a grouping and a group (query parameters as the API's);
    `surges(window, now)` reads the surge mode section (analytics/surge_dashboard.py)."""
    _ = speak()
    words = Words(_)
    now = datetime.now(UTC)
    timezone = config.get("KANAL_TIMEZONE", "Europe/Copenhagen")
    args = request.args.to_dict()
    _narrowing(args)
    first, last = _default_period(timezone, now)
    args.setdefault("from", first.isoformat())
    args.setdefault("to", last.isoformat())
    args.setdefault("group_by", "channel")
    only = next((f"{name}:{args[name]}" for name in FILTERS if name in args), "")
    page = {
        "args": args,
        "groupings": GROUPINGS,
        "narrowing": [(f"{g}:{v}", words.group(v)) for g, v in NARROWING],
        "narrowed_to": only,
        "words": words,
        "switch": _switch(config, args, _.language),
    }
    try:
        query = read_query(
            args,
            timezone,
            int(config.get("KANAL_REPEAT_WINDOW_DAYS", metrics.REPEAT_WINDOW_DAYS)),
            float(config.get("KANAL_DEFLECTION_FOLLOWUP_HOURS", metrics.FOLLOWUP_WINDOW_HOURS)),
            settings_of(config),
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
    charts = _chart_data(figures, words)
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


def simulator(engine: Engine, config: Mapping, speak: Callable):
    """The policy simulator's page: a period replayed under another profile, as the API's
    `GET /api/v1/simulate` answers it (the same function, analytics.simulation.simulate_period)."""
    _ = speak()
    words = Words(_)
    now = datetime.now(UTC)
    timezone = config.get("KANAL_TIMEZONE", "Europe/Copenhagen")
    args = request.args.to_dict()
    first, last = _default_period(timezone, now)
    args.setdefault("from", first.isoformat())
    args.setdefault("to", last.isoformat())
    profiles = available_profiles()
    args.setdefault("profile", next((p for p in profiles if p != config.get("KANAL_POLICY")), ""))
    page = {
        "args": args,
        "profiles": profiles,
        "words": words,
        "switch": _switch(config, args, _.language, "dashboard.simulator"),
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


def blueprint(engine: Engine, config: Mapping, guard: Callable, speak: Callable) -> Blueprint:
    """Return the dashboard's pages over a read-only engine, reading the API's report.

    `guard(view)` admits managers and supervisors; `speak()` picks the page's language.
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
        return overview(report, config, speak, chosen, surges)

    def simulator_view():
        return simulator(engine, config, speak)

    view.__name__ = "overview"
    simulator_view.__name__ = "simulator"
    bp.add_url_rule("/dashboard", "overview", guard(view))
    bp.add_url_rule("/dashboard/simulate", "simulator", guard(simulator_view))
    return bp
