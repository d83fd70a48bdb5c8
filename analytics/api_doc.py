"""The metrics API's parameters and answers: the models the API checks and the document shows.

The report's row is `analytics.metrics.Row` itself, read by pydantic: a field added to the
row is in the document at once, with its definition's text.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationInfo

from analytics.conversations import COLUMNS as CONVERSATION_COLUMNS
from analytics.metrics.definitions import definitions
from analytics.metrics.fairness import GROUPINGS
from analytics.metrics.row import Row
from analytics.surge_csv import COLUMNS as SURGE_CSV_COLUMNS
from router.openapi import Answer, Error, Operation
from router.policy import AGE_BANDS, available_profiles

# Days a report may cover: kanal holds nothing older, and the window's arithmetic (the next
# day, the repeat window, the time zone) stays far from datetime's limits (years 1-9999).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
# The same bounds as a pattern, so the document declares them: years 2000 to 2999.
DAY_PATTERN = r"^2[0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
FILTERS = tuple(g for g in GROUPINGS if g != "none")
# The closed sets a filter may name: any other value could only answer nothing (it did, with
# 200 and no contacts, for the `exempt=yes` this document offered: the rows say `exempt`).
EXEMPT_FILTER = {
    "yes": "exempt",
    "no": "not_exempt",
    "exempt": "exempt",
    "not_exempt": "not_exempt",
    "unidentified": "unidentified",
}
EXEMPT_VALUES = tuple(EXEMPT_FILTER)
AGE_BAND_VALUES = (*AGE_BANDS, "unknown", "unidentified")


def day(value: str, info: ValidationInfo) -> str:
    """Check a day (YYYY-MM-DD, 2000-01-01 to 2999-12-31); the message names the parameter."""
    name = info.field_name.rstrip("_") if info.field_name else "day"
    if not value:
        raise ValueError(f"`{name}` is missing: give a day as YYYY-MM-DD.")
    try:
        if not _DAY.fullmatch(value):
            raise ValueError
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"`{name}` must be a day as YYYY-MM-DD, not {value[:20]!r}.") from None
    if not FIRST_DAY <= parsed <= LAST_DAY:
        raise ValueError(f"`{name}` must be a day from {FIRST_DAY} to {LAST_DAY}, not {parsed}.")
    return value


Day = Annotated[
    str,
    Field(json_schema_extra={"format": "date", "pattern": DAY_PATTERN}),
    AfterValidator(day),
]
Group = Annotated[str, Field(min_length=1, max_length=64)]
Grouping = Literal[GROUPINGS]  # type: ignore[valid-type]


class Window(BaseModel):
    """The report's window: two days, inclusive, in the agency's time zone."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    from_: Day = Field(
        alias="from",
        description="First day of the window (YYYY-MM-DD, agency time zone, inclusive; from "
        "2000-01-01 to 2999-12-31).",
    )
    to: Day = Field(
        description="Last day of the window (YYYY-MM-DD, inclusive; at most 2999-12-31); not "
        "before `from`."
    )


class MetricsQuery(Window):
    group_by: Grouping = Field("channel", description="One row per value of this attribute.")
    channel: Group | None = Field(
        None,
        description="Only contacts on this channel: one of the running kanal's channels "
        "(webchat, sms, voice as shipped); any other name is a 400 listing them.",
    )
    need: Group | None = Field(None, description="Only contacts with this need.")
    exempt: Literal[EXEMPT_VALUES] | None = Field(  # type: ignore[valid-type]
        None,
        description="Only identified citizens' contacts with a valid exemption (`yes`, or "
        "the group's name `exempt`) or without one (`no`, `not_exempt`), or contacts of no "
        "identified citizen (`unidentified`).",
    )
    age_band: Literal[AGE_BAND_VALUES] | None = Field(  # type: ignore[valid-type]
        None,
        description="Only contacts in this age band (`unknown`: no birth year known; "
        "`unidentified`: no identified citizen).",
    )
    language: Group | None = Field(
        None,
        description="Only contacts in this language: a two-letter code (`da`, `en`), or "
        "`unknown` for conversations whose language is not known.",
    )
    compare_from: Day | None = Field(
        None,
        description="With `compare_to`: an earlier period; the answer adds `migration`, "
        "citizens' main channel then against the window's (YYYY-MM-DD).",
    )
    compare_to: Day | None = Field(None, description="Last day of the comparison period.")


class SimulationQuery(Window):
    profile: Literal[tuple(available_profiles())] = Field(  # type: ignore[valid-type]
        description="A shipped policy profile."
    )


class QueryError(Error):
    parameter: Literal[("from", "to", "group_by", "profile", *FILTERS,  # type: ignore[valid-type]
                        "compare_from", "compare_to")]  # fmt: skip


def _row_schema(handler: Any) -> dict:
    schema = TypeAdapter(Row).json_schema(mode="serialization")
    texts = definitions()
    for name, prop in schema["properties"].items():
        prop.pop("title", None)
        if name in texts:
            prop["description"] = texts[name]
    schema["title"] = "ChannelShiftRow"
    return schema


class ChannelShiftRow(BaseModel):
    """`analytics.metrics.Row`, as the report answers it (its schema is the dataclass')."""

    model_config = ConfigDict(json_schema_extra=lambda s, _m: s.update(_row_schema(None)))


class ReportWindow(BaseModel):
    model_config = ConfigDict(extra="allow")

    from_: date = Field(alias="from")
    to: date
    timezone: str
    provisional: bool = Field(
        description="Containment, completed deflections, callbacks and abandonment may still "
        "change."
    )
    group_by: Grouping
    source: Literal["rollup", "events"] = Field(
        description="rollup: read from the daily rollup the scheduler keeps (as of `as_of`); "
        "events: computed from the events at once."
    )


class OccupancyDay(BaseModel):
    day: date
    staffed_seconds: int
    handling_seconds: int
    occupancy: float | None


class Occupancy(BaseModel):
    occupancy: float | None = Field(description="handling_seconds ÷ staffed_seconds.")
    staffed_seconds: int | None = Field(
        description="Agents' time available or busy, summed over agents."
    )
    handling_seconds: int | None = Field(
        description="Agents' staffed time holding at least one contact, summed over agents."
    )
    days: list[OccupancyDay]


class ExemptionReminders(BaseModel):
    decided: int | None = Field(description="exemption_reminded events dated in the window.")
    sent: int | None = Field(description="Of them, reminders texted.")
    citizens_reminded: int | None
    not_sent: dict[str, int] | None = Field(description="Reminders not texted, by why.")
    renewed_after_reminder: int | None = Field(
        description="Sent reminders whose citizen the log later shows exempt after the "
        "reminded end date (a contact identified exempt, or a reminder of a later end date): "
        "a lower bound, the register's renewals are not in the log."
    )
    lapsed_after_reminder: int | None
    awaiting_end_date: int | None
    not_seen_since: int | None
    renewal_rate: float | None = Field(
        description="renewed_after_reminder ÷ sent reminders whose end date has passed."
    )


class ChannelShift(BaseModel):
    window: ReportWindow
    definitions: dict[str, str]
    rows: list[ChannelShiftRow]
    total: ChannelShiftRow | None = None
    migration: dict[str, Any] | None = Field(
        None,
        description="Citizens seen in both periods: their main channel in the earlier period "
        "(rows) against the window's (columns).",
    )
    occupancy: Occupancy | None = Field(
        None,
        description="Agency-wide occupancy of the window and of each day (definitions: "
        "occupancy); null figures in a report narrowed to a group.",
    )
    exemption_reminders: ExemptionReminders | None = Field(
        None,
        description="Reminders before an exemption ends decided in the window, and what the log "
        "has shown of their citizens since; null figures in a report narrowed to a group.",
    )


class Figures(BaseModel):
    contacts: int
    digital_take_up: float | None
    agent_hours: float
    service_level: float | None
    cost: float
    assisted: float | None = None
    average_speed_of_answer_seconds: float | None = None


class Simulation(BaseModel):
    model_config = ConfigDict(extra="allow")

    window: dict[str, Any]
    profile: str
    contacts: int
    recorded: Figures
    projected: Figures
    assumptions: list[str]


class Surges(BaseModel):
    """Surge mode in a window (analytics/surge_periods.summary): the dashboard's section."""

    model_config = ConfigDict(extra="allow")

    window: dict[str, Any]
    periods: list[dict[str, Any]]
    days: list[dict[str, Any]]
    total: dict[str, Any]


_TAGS = ("metrics",)
_ERRORS = {
    400: Answer(
        "A date is missing, malformed or outside 2000-01-01 to 2999-12-31, `from` is after "
        "`to`, or `group_by` is unknown; `parameter` names the culprit.",
        QueryError,
    ),
    401: Answer("No API token, or a token that is not valid, revoked or expired.", Error),
    403: Answer("The token's user is neither a manager nor a supervisor (nor an admin).", Error),
}
CHANNEL_SHIFT = Operation(
    "Channel-shift figures of a window, computed from the event log",
    _TAGS,
    description="Definitions as in docs/domain.md §4; the answer carries their text.",
    security="apiToken",
    query=MetricsQuery,
    answers={200: Answer("The figures.", ChannelShift), **_ERRORS},
)
EXPORT_CSV = Operation(
    "The same figures as CSV, one row per group",
    _TAGS,
    security="apiToken",
    query=MetricsQuery,
    answers={
        200: Answer(
            "CSV with a header row; empty cells for null ratios; handoff_reasons, "
            "callback_reasons and callback_failures as `name=count; ...`.",
            media="text/csv",
        ),
        **_ERRORS,
    },
)
CONVERSATIONS_CSV = Operation(
    "One row per conversation of the window (streamed CSV)",
    _TAGS,
    description="The same parameters as channel-shift (`group_by` is accepted and does not "
    "change the rows). Columns: " + ", ".join(CONVERSATION_COLUMNS) + ". `handed_off` is "
    "1 for a bot conversation the policy passed to a person, as the metric of that name counts "
    "it (the column sums to the report's `handed_off`); `to_person_rule` names the rule that "
    "passed a conversation to a person, with or without the bot. The citizen is their "
    "pseudonym; no name, phone number or citizen text. Numbers are written as numbers, a "
    "negative one too; a text cell that would start with =, +, -, @, a tab or a carriage "
    "return is prefixed with ' so that no spreadsheet runs it as a formula.",
    security="apiToken",
    query=MetricsQuery,
    answers={
        200: Answer("CSV with a header row; empty cells for unknown values.", media="text/csv"),
        **_ERRORS,
    },
)
SIMULATE = Operation(
    "Replay a period's recorded contacts under another policy profile",
    _TAGS,
    description="Each recorded decision is decided again by the same pure policy on the "
    "context it saw; contacts whose route changes are projected from the behaviour observed "
    "in the period. Recorded and projected figures side by side, with the fairness panel, "
    "the observed rates and the assumptions (docs/domain.md, policy simulator).",
    security="apiToken",
    query=SimulationQuery,
    answers={200: Answer("The simulation.", Simulation), **_ERRORS},
)
SURGES = Operation(
    "Surge mode in a window: each surge, each day and the whole, from the event log",
    _TAGS,
    description="The dashboard's Surge mode section (docs/dashboard.md): when each surge "
    "started and ended (in the agency's time zone), how long it lasted, the wait that started "
    "it, the contacts answered while it was on (longest and mean wait) and the callbacks its "
    "rules offered, booked and made. Surge mode is the whole service's, like occupancy: "
    "`group_by` and the filters are accepted and do not change the answer.",
    security="apiToken",
    query=MetricsQuery,
    answers={200: Answer("The surges.", Surges), **_ERRORS},
)
SURGES_CSV = Operation(
    "The same surges as CSV: each surge, each day and the whole",
    _TAGS,
    description="The figures of `/api/v1/metrics/surges` in one table (analytics/surge_csv.py): "
    "a row per surge (`row` = surge), per day (`row` = day) and for the whole period "
    "(`row` = total); columns " + ", ".join(SURGE_CSV_COLUMNS) + "; a column a kind of row "
    "does not have is empty, and so is the `ended_at` of a surge still on. `group_by` and the "
    "filters are accepted and do not change the answer.",
    security="apiToken",
    query=MetricsQuery,
    answers={
        200: Answer("CSV with a header row; empty cells for unknown values.", media="text/csv"),
        **_ERRORS,
    },
)
