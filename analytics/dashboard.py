"""The managers' dashboard (`/dashboard`): the channel-shift figures as a page, in two languages.

The page shows the same figures as `GET /api/v1/metrics/channel-shift` for the same period:
both call the one report function they are handed (`report(query) -> (rows, total)`), so a
number on the page is the number in the API. Every chart is drawn in the browser by Chart.js,
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
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from flask import Blueprint, render_template, request, url_for

from analytics import metrics
from analytics.api import BadQuery, Query, read_query

DASHBOARD_ROLES = ("manager", "supervisor")
DEFAULT_DAYS = 28  # the period shown when none is asked for: the last four weeks
MAX_DAYS = 366  # a longer period is refused (weekly trends of more than a year)
FAIRNESS_GAP = 0.10  # a group this far (10 percentage points) from everyone is flagged
FAIRNESS_MIN = 10  # ... when its denominator counts at least this many contacts
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


# The headline figures, in the order the page shows them: (field, label, default target).
HEADLINES = (
    ("digital_take_up", N_("Digital take-up"), Target(0.80, True)),
    ("bot_containment", N_("Bot containment"), Target(0.60, True)),
    ("handoff_rate", N_("Handoff rate"), Target(0.30, False)),
    ("deflection_acceptance_rate", N_("Phone deflection accepted"), Target(0.30, True)),
    ("callback_answer_rate", N_("Callbacks answered"), Target(0.90, True)),
    ("phone_abandonment_rate", N_("Phone abandonment"), Target(0.05, False)),
)
DEFAULT_TARGETS = {name: target for name, _label, target in HEADLINES}

GROUPINGS = (
    ("channel", N_("Channel")),
    ("need", N_("Need")),
    ("exempt", N_("Exemption")),
    ("age_band", N_("Age band")),
    ("none", N_("Everyone")),
)
GROUP_WORDS = {
    "webchat": N_("web chat"),
    "sms": N_("SMS"),
    "voice": N_("phone"),
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
}
# The fairness panel: the groupings it compares and the figures it compares them on,
# each with the count its rate is taken over (a group too small is not flagged).
FAIRNESS_GROUPINGS = (("exempt", N_("Exempt and not exempt")), ("age_band", N_("Age band")))
FAIRNESS_FIGURES = (
    ("digital_take_up", N_("Digital take-up"), "completed_needs"),
    ("bot_containment", N_("Bot containment"), "bot_conversations"),
    ("handoff_rate", N_("Handoff rate"), "bot_conversations"),
    ("phone_abandonment_rate", N_("Phone abandonment"), "phone_queued"),
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
        if name not in chosen:
            raise ValueError(f"KANAL_TARGETS: unknown figure {name!r}; one of {', '.join(chosen)}")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"KANAL_TARGETS: {name} needs a number from 0 to 1") from None
        if not 0 <= number <= 1:
            raise ValueError(f"KANAL_TARGETS: {name} needs a number from 0 to 1, not {value}")
        chosen[name] = replace(chosen[name], value=number)
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


@dataclass
class Figures:
    """What the page shows for one period, each part as the report function answered it."""

    query: Query
    window: dict
    total: metrics.Row
    rows: list[metrics.Row]
    by_channel: list[metrics.Row]
    weekly: list[tuple[date, date, metrics.Row]]
    fairness: dict[str, list[metrics.Row]]


def gather(report: Callable, query: Query, now: datetime) -> Figures:
    """Ask the report function for everything the page shows for the query's period."""
    cache: dict[str, tuple[list[metrics.Row], metrics.Row]] = {}

    def grouped(group_by: str) -> tuple[list[metrics.Row], metrics.Row]:
        if group_by not in cache:
            cache[group_by] = report(replace(query, group_by=group_by))
        return cache[group_by]

    rows, total = grouped(query.group_by)
    window = query.window
    weekly = [
        (start, end, report(Query(replace(window, first_day=start, last_day=end), "none"))[1])
        for start, end in weeks(window.first_day, window.last_day)
    ]
    return Figures(
        query=query,
        window=window.describe(now),
        total=total,
        rows=rows,
        by_channel=grouped("channel")[0],
        weekly=weekly,
        fairness={g: grouped(g)[0] for g, _label in FAIRNESS_GROUPINGS},
    )


def flag(row: metrics.Row, total: metrics.Row, figure: str, base: str) -> str | None:
    """Say how a group compares with everyone on a figure: "above", "below", or None.

    None when the difference is under FAIRNESS_GAP, or the group (or everyone) has no rate,
    or too few contacts (FAIRNESS_MIN) to compare.
    """
    mine, everyone = getattr(row, figure), getattr(total, figure)
    if mine is None or everyone is None or getattr(row, base) < FAIRNESS_MIN:
        return None
    if abs(mine - everyone) < FAIRNESS_GAP:
        return None
    return "above" if mine > everyone else "below"


class Words:
    """Formats numbers and names groups in the page's language."""

    def __init__(self, _: Callable) -> None:
        self._ = _
        self.language = getattr(_, "language", "en")

    def count(self, value: int | None) -> str:
        return "–" if value is None else format_decimal(value, locale=self.language)

    def percent(self, value: float | None) -> str:
        if value is None:
            return "–"
        return format_decimal(value * 100, format="#,##0.0", locale=self.language) + " %"

    def group(self, name: str) -> str:
        return self._(GROUP_WORDS[name]) if name in GROUP_WORDS else name.replace("_", " ")


def _default_period(timezone: str, now: datetime) -> tuple[date, date]:
    today = now.astimezone(ZoneInfo(timezone)).date()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def _chart_data(figures: Figures, _: Callable) -> dict:
    """The figures the charts draw, with their labels in the page's language."""
    t = figures.total
    weeks = [start.isoformat() for start, _end, _row in figures.weekly]
    weekly = [row for _start, _end, row in figures.weekly]

    def series(label: str, values: list) -> dict:
        return {"label": _(label), "values": values}

    trend = [
        series(label, [getattr(r, name) for r in weekly])
        for name, label in (
            ("digital_take_up", "Digital take-up"),
            ("bot_containment", "Bot containment"),
            ("handoff_rate", "Handoff rate"),
        )
    ]
    words = Words(_)
    funnel = [t.deflection_offered, t.deflection_accepted, t.deflection_completed]
    return {
        "trend": {"kind": "line", "percent": True, "labels": weeks, "series": trend},
        "volume": {
            "kind": "bar",
            "labels": weeks,
            "series": [series("Contacts", [r.contacts for r in weekly])],
        },
        "channels": {
            "kind": "bar",
            "labels": [words.group(r.group) for r in figures.by_channel],
            "series": [series("Contacts", [r.contacts for r in figures.by_channel])],
        },
        "handoffs": {
            "kind": "bar",
            "horizontal": True,
            "labels": list(t.handoff_reasons),
            "series": [series("Handed off", list(t.handoff_reasons.values()))],
        },
        "funnel": {
            "kind": "bar",
            "labels": [_("Offered"), _("Accepted"), _("Completed")],
            "series": [series("Phone callers", funnel)],
        },
    }


def _switch(config: Mapping, args: Mapping, language: str) -> list[tuple[str, str, str]]:
    """The language switch: the same page in each other language the agency serves."""
    return [
        (
            code,
            LANGUAGE_NAMES.get(code, code),
            url_for("dashboard.overview", **{**args, "lang": code}),
        )
        for code in config.get("KANAL_LANGUAGES", ())
        if code != language
    ]


def overview(report: Callable, config: Mapping, speak: Callable, targets: Mapping):
    """The dashboard for a period and a grouping (query parameters as the API's)."""
    _ = speak()
    words = Words(_)
    now = datetime.now(UTC)
    timezone = config.get("KANAL_TIMEZONE", "Europe/Copenhagen")
    args = request.args.to_dict()
    first, last = _default_period(timezone, now)
    args.setdefault("from", first.isoformat())
    args.setdefault("to", last.isoformat())
    args.setdefault("group_by", "channel")
    error = None
    try:
        query = read_query(
            args,
            timezone,
            int(config.get("KANAL_REPEAT_WINDOW_DAYS", metrics.REPEAT_WINDOW_DAYS)),
            float(config.get("KANAL_DEFLECTION_FOLLOWUP_HOURS", metrics.FOLLOWUP_WINDOW_HOURS)),
        )
        days = (query.window.last_day - query.window.first_day).days + 1
        if days > MAX_DAYS:
            raise BadQuery("to", f"at most {MAX_DAYS} days")
    except BadQuery as exc:
        if exc.parameter == "group_by":
            error = _("Choose one of the groupings offered.")
        else:
            error = _(
                "Give the period as two days (YYYY-MM-DD), the first not after the last, "
                "at most {days} days apart.",
                days=MAX_DAYS,
            )
    if error is not None:
        body = render_template(
            "dashboard/overview.html",
            error=error,
            args=args,
            groupings=GROUPINGS,
            words=words,
            switch=_switch(config, args, _.language),
        )
        return body, 400
    figures = gather(report, query, now)
    return render_template(
        "dashboard/overview.html",
        error=None,
        args=args,
        groupings=GROUPINGS,
        words=words,
        f=figures,
        t=figures.total,
        headlines=[(name, label, targets[name]) for name, label, _t in HEADLINES],
        fairness_groupings=FAIRNESS_GROUPINGS,
        fairness_figures=FAIRNESS_FIGURES,
        flag=flag,
        gap=FAIRNESS_GAP,
        fairness_min=FAIRNESS_MIN,
        charts=_chart_data(figures, _),
        switch=_switch(config, args, _.language),
        api_url=url_for(
            "analytics.channel_shift", **{k: args[k] for k in ("from", "to", "group_by")}
        ),
        csv_url=url_for("analytics.export_csv", **{k: args[k] for k in ("from", "to", "group_by")}),
    )


def blueprint(report: Callable, config: Mapping, guard: Callable, speak: Callable) -> Blueprint:
    """Return the dashboard's pages over `report` (the API's report function).

    `guard(view)` admits managers and supervisors; `speak()` picks the page's language.
    """
    chosen = targets(str(config.get("KANAL_TARGETS", "")))
    bp = Blueprint(
        "dashboard",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static/dashboard",
    )

    def view():
        return overview(report, config, speak, chosen)

    view.__name__ = "overview"
    bp.add_url_rule("/dashboard", "overview", guard(view))
    return bp
