"""Channel-shift statistics for managers as JSON and CSV, and the API's OpenAPI document."""

from __future__ import annotations

import csv
import io
import json
import numbers
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import partial

from flask import Blueprint, Response, request
from sqlalchemy import Engine

from analytics import api_doc as doc
from analytics import metrics, surge_csv, surge_dashboard
from analytics.conversations import COLUMNS as CONVERSATION_COLUMNS
from analytics.conversations import conversations
from analytics.report import FILTERS, Query, channel_shift_report, settings_of
from analytics.report import describe as window_of
from analytics.simulation import simulate_period
from analytics.simulator import COSTS, SERVICE_LEVEL_SECONDS
from router.domain.channels import CHANNELS
from router.openapi import Invalid, describe, parse_query
from router.policy import available_profiles, load_profile
from router.web import bound

MANAGERS = ("manager", "supervisor")
_LANGUAGE = re.compile(r"[a-z]{2}")  # ISO 639-1, as the conversations store it


def blueprint(
    engine: Engine,
    config: Mapping,
    token_required: Callable,
    channels: Callable[[], Iterable[str]] = lambda: CHANNELS,
) -> Blueprint:
    """Return the metrics API over a read-only engine; `token_required(*roles)` guards it;
    `channels()` names the channels a `channel` filter may name (the running registry's)."""
    bp = Blueprint("analytics", __name__)
    guard = token_required(*MANAGERS)
    report = partial(channel_shift_report, engine)
    ask = partial(_query, config, channels)
    routes = (
        ("/api/v1/metrics/channel-shift", bound(channel_shift, ask, report), doc.CHANNEL_SHIFT),
        ("/api/v1/metrics/export.csv", bound(export_csv, ask, report), doc.EXPORT_CSV),
        ("/api/v1/simulate", bound(simulate, config, partial(_simulate, engine)), doc.SIMULATE),
        ("/api/v1/metrics/conversations.csv", bound(conversations_csv, ask, engine),
         doc.CONVERSATIONS_CSV),
        ("/api/v1/metrics/surges", bound(surges, ask, surge_dashboard.reader(engine)),
         doc.SURGES),
        ("/api/v1/metrics/surges.csv",
         bound(surges_csv, ask, surge_dashboard.reader(engine)), doc.SURGES_CSV),
    )  # fmt: skip
    for rule, view, operation in routes:
        bp.add_url_rule(rule, view.__name__, describe(guard(view), operation))
    return bp


FIRST_DAY, LAST_DAY = doc.FIRST_DAY, doc.LAST_DAY
_FIRST_COLUMNS = (
    "group",
    "contacts",
    "bot_conversations",
    "bot_contained",
    "bot_repeat_contacts",
    "handed_off",
    "assisted",
    "completed_needs",
    "completed_digital",
    "digital_take_up",
    "bot_containment",
    "handoff_rate",
    "handoff_reasons",
    # The phone's figures, added after the first columns.
    "deflection_offered",
    "deflection_accepted",
    "deflection_completed",
    "deflection_acceptance_rate",
    "deflection_completion_rate",
    "callbacks_booked",
    "callbacks_placed",
    "callback_calls",
    "callbacks_answered",
    "callbacks_failed",
    "callbacks_settled",
    "callbacks_pending",
    "callback_answer_rate",
    "callback_reasons",
    "callback_failures",
    "phone_queued",
    "phone_abandoned",
    "phone_short_abandons",
    "phone_abandonment_rate",
)
# The managers' view (issue 17), added after the phone's columns.
CSV_COLUMNS = _FIRST_COLUMNS + tuple(
    name for name in metrics.Row.__dataclass_fields__ if name not in _FIRST_COLUMNS
)


class BadQuery(ValueError):
    """A query parameter a manager must correct; the message says how."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def _parsed(model, args):  # noqa: ANN001, ANN202
    """Return the query as `model` (analytics.api_doc), or raise BadQuery naming the culprit."""
    try:
        return parse_query(model, args)
    except Invalid as exc:
        name = (exc.field or "from").rstrip("_")
        message = str(exc).replace("`from_`", "`from`")
        if "is missing" in message and name == "profile":
            message = f"`profile` is missing: give one of {', '.join(available_profiles())}."
        elif "is missing" in message:
            message = f"`{name}` is missing: give a day as YYYY-MM-DD."
        raise BadQuery(name, message) from None


def read_query(
    args,
    timezone: str,
    repeat_days: int,
    followup_hours: float = metrics.FOLLOWUP_WINDOW_HOURS,
    settings: metrics.Settings | None = None,
    channels: Iterable[str] = CHANNELS,
) -> Query:
    """Return the report's window, grouping, filters and comparison period from query
    parameters, or raise BadQuery. A `channel` filter must name one of `channels`."""
    asked = _parsed(doc.MetricsQuery, args)
    first, last = date.fromisoformat(asked.from_), date.fromisoformat(asked.to)
    if first > last:
        raise BadQuery("from", f"`from` ({first}) is after `to` ({last}).")
    filters = {name: getattr(asked, name) for name in FILTERS if getattr(asked, name) is not None}
    known = tuple(channels)
    if "channel" in filters and filters["channel"] not in known:
        # Any other name could only answer nothing, as if the channel had no contacts.
        raise BadQuery(
            "channel",
            f"`channel` must be one of {', '.join(known)}, not {filters['channel'][:20]!r}.",
        )
    language = filters.get("language")
    if language is not None and language != "unknown" and not _LANGUAGE.fullmatch(language):
        raise BadQuery(
            "language",
            "`language` must be a two-letter code such as da or en (or `unknown`), "
            f"not {language[:20]!r}.",
        )
    if "exempt" in filters:  # `yes`/`no` as documented, or the group's own name
        filters["exempt"] = doc.EXEMPT_FILTER[filters["exempt"]]
    compare = None
    if asked.compare_from is not None or asked.compare_to is not None:
        if asked.compare_from is None or asked.compare_to is None:
            missing = "compare_from" if asked.compare_from is None else "compare_to"
            raise BadQuery(missing, f"`{missing}` is missing: give a day as YYYY-MM-DD.")
        c_first = date.fromisoformat(asked.compare_from)
        c_last = date.fromisoformat(asked.compare_to)
        if c_first > c_last:
            raise BadQuery(
                "compare_from", f"`compare_from` ({c_first}) is after `compare_to` ({c_last})."
            )
        compare = metrics.Window(c_first, c_last, timezone)
    group_by = asked.group_by
    window = metrics.Window(
        first, last, timezone, timedelta(days=repeat_days), timedelta(hours=followup_hours)
    )
    return Query(window, group_by, filters, settings or metrics.Settings(), compare)


def _error(exc: BadQuery) -> Response:
    body = {"error": str(exc), "parameter": exc.parameter}
    return Response(json.dumps(body), status=400, mimetype="application/json")


def _query(config: Mapping, channels: Callable[[], Iterable[str]] = lambda: CHANNELS) -> Query:
    return read_query(
        request.args,
        config.get("KANAL_TIMEZONE", "Europe/Copenhagen"),
        int(config.get("KANAL_REPEAT_WINDOW_DAYS", metrics.REPEAT_WINDOW_DAYS)),
        float(config.get("KANAL_DEFLECTION_FOLLOWUP_HOURS", metrics.FOLLOWUP_WINDOW_HOURS)),
        settings_of(config),
        channels(),
    )


def channel_shift(ask: Callable[[], Query], report: Callable):
    """Answer the channel-shift figures of a window, one row per group, with definitions."""
    try:
        query = ask()
    except BadQuery as exc:
        return _error(exc)
    body = report(query, datetime.now(UTC))
    # json.dumps keeps the fields in the order they are defined (jsonify would sort them).
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


def surges(ask: Callable[[], Query], read: Callable):
    """Answer surge mode in a window: the dashboard's section, with the window it covers."""
    try:
        query = ask()
    except BadQuery as exc:
        return _error(exc)
    now = datetime.now(UTC)
    body = {"window": window_of(query, now), **read(query.window, now)}
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


def surges_csv(ask: Callable[[], Query], read: Callable):
    """Answer the same surges as CSV: each surge, each day and the whole (surge_csv.py)."""
    try:
        query = ask()
    except BadQuery as exc:
        return _error(exc)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(surge_csv.COLUMNS)
    for values in surge_csv.rows(read(query.window, datetime.now(UTC))):
        writer.writerow([_cell(values.get(name)) for name in surge_csv.COLUMNS])
    w = query.window
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="surges_{w.first_day}_{w.last_day}.csv"'
        },
    )


def simulation_settings(config: Mapping) -> dict:
    """Return the simulator's settings from the configuration (costs, service level's Y, and
    the report's repeat and follow-up windows, which say which needs were completed)."""
    costs = {k: float(config.get(f"KANAL_COST_{k.upper()}", v)) for k, v in COSTS.items()}
    repeat = int(config.get("KANAL_REPEAT_WINDOW_DAYS", metrics.REPEAT_WINDOW_DAYS))
    followup = float(config.get("KANAL_DEFLECTION_FOLLOWUP_HOURS", metrics.FOLLOWUP_WINDOW_HOURS))
    return {
        "costs": costs,
        "threshold": float(config.get("KANAL_SERVICE_LEVEL_SECONDS", SERVICE_LEVEL_SECONDS)),
        "repeat_window": timedelta(days=repeat),
        "followup_window": timedelta(hours=followup),
    }


def _simulate(engine: Engine, profile, first: date, last: date, config: Mapping) -> dict:  # noqa: ANN001
    timezone = config.get("KANAL_TIMEZONE", "Europe/Copenhagen")
    return simulate_period(engine, profile, first, last, timezone, **simulation_settings(config))


def simulate(config: Mapping, run: Callable):
    """Replay a period's recorded contacts under a shipped profile (analytics.simulator)."""
    try:
        asked = _parsed(doc.SimulationQuery, request.args)
        first, last = date.fromisoformat(asked.from_), date.fromisoformat(asked.to)
        if first > last:
            raise BadQuery("from", f"`from` ({first}) is after `to` ({last}).")
    except BadQuery as exc:
        return _error(exc)
    # Only the shipped profiles (the model's enum): a query parameter never names a file.
    body = run(load_profile(asked.profile), first, last, config)
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


# A spreadsheet runs a cell starting with one of these as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """Return a CSV cell that no spreadsheet runs as a formula: a number (int, float, Decimal)
    as it is, so that -0.05 stays a number a spreadsheet sums; text starting with one of
    FORMULA_STARTS behind a `'`, which the spreadsheet shows as text and does not run."""
    if value is None:
        return ""
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return str(value)  # digits, a point, a sign, an exponent: never a formula
    if isinstance(value, dict):
        text = "; ".join(f"{k}={v}" for k, v in value.items())
    else:
        text = str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def export_csv(ask: Callable[[], Query], report: Callable):
    """Answer the same figures as CSV, one row per group."""
    try:
        query = ask()
    except BadQuery as exc:
        return _error(exc)
    rows = report(query, datetime.now(UTC))["rows"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for values in rows:
        writer.writerow([_cell(values[name]) for name in CSV_COLUMNS])
    w = query.window
    name = f"channel-shift_{w.first_day}_{w.last_day}_{query.group_by}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def conversations_csv(ask: Callable[[], Query], engine: Engine):
    """Answer one row per conversation of the window (streamed), with the same parameters."""
    try:
        query = ask()
    except BadQuery as exc:
        return _error(exc)
    rows = conversations(engine, query)

    def lines():  # noqa: ANN202
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CONVERSATION_COLUMNS)
        for n, values in enumerate(rows, 1):
            writer.writerow([_cell(values[name]) for name in CONVERSATION_COLUMNS])
            if n % 500 == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    w = query.window
    name = f"conversations_{w.first_day}_{w.last_day}.csv"
    return Response(
        lines(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
