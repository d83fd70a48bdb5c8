"""A contact's recorded story, folded from its events, for the policy simulator.

`Folding` folds events (in any order of types, a contact's `contact_opened` first) into one
`Folded` per contact: the policy's decisions with the contexts they saw (`decision_made`), the
citizen's group (`citizen_identified`), the queue (`queued`, `agent_assigned`), the end
(`resolved`, `call_ended`) and the digital route (`digital_offered`, `deflection_offered`,
`deflection_accepted`). A contact's events count until FOLLOW_UP after it opened; later ones
are not part of its story. `analytics.recordings` keeps the folded contacts in a table;
`recorded_contacts` folds a period straight from the log (what the table is checked
against, and what the simulator reads when the table is not built). Read only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import fields
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, String, Text, cast, select, type_coerce

from analytics.log import contact_events as E
from analytics.simulator import Recorded, Turn
from router.domain import events as ev
from router.policy import PolicyContext

TYPES = (
    ev.CONTACT_OPENED,
    ev.CITIZEN_IDENTIFIED,
    ev.DECISION_MADE,
    ev.QUEUED,
    ev.AGENT_ASSIGNED,
    ev.RESOLVED,
    ev.DIGITAL_OFFERED,
    ev.DEFLECTION_OFFERED,
    ev.DEFLECTION_ACCEPTED,
    ev.CALL_ENDED,
)
_CONTEXT_FIELDS = tuple((f.name, f.default) for f in fields(PolicyContext))
# A contact's events count until this long after it opened (a resolution, an agent taking a
# callback the next working day); later ones are not part of its recorded story.
FOLLOW_UP = timedelta(days=7)


def context_of(data: dict | None) -> PolicyContext | None:
    """Return the recorded policy context (None: recorded before contexts were kept)."""
    if not data:
        return None
    values = [data.get(name, default) for name, default in _CONTEXT_FIELDS]
    values[1] = tuple(values[1] or ())  # exemptions
    return PolicyContext(*values)


def _time(value) -> datetime:  # noqa: ANN001 - SQLite's text or PostgreSQL's timestamp
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def data_of(raw) -> dict:  # noqa: ANN001 - JSON text or an already decoded dict
    if raw is None:
        return {}
    return json.loads(raw) if isinstance(raw, str) else raw


def decision_of(d: dict) -> dict:
    """Return what the simulator keeps of a `decision_made` event's data."""
    return {k: d.get(k) for k in ("stage", "rule_id", "action", "profile", "context")}


def turn_of(d: dict) -> Turn:
    return Turn(
        d.get("stage") or "",
        d.get("rule_id") or "",
        d.get("action") or "",
        d.get("profile"),
        context_of(d.get("context")),
    )


class Folded:
    """A contact being folded from its events. `turns` holds what the fold's `decision`
    function made of each decision (a shared `Turn`, or a decision's id in a table)."""

    __slots__ = (
        "id", "channel", "opened_at", "until", "need", "turns", "exempt", "age_band",
        "assisted", "agent_id", "queued_at", "assigned_at", "wait", "resolved_at", "completed",
        "digital", "by_agent", "offered", "accepted", "abandoned", "need_id",
    )  # fmt: skip

    def __init__(self, contact_id: int, channel: str, opened_at: datetime) -> None:
        self.id, self.channel, self.opened_at = contact_id, channel, opened_at
        self.until = opened_at + FOLLOW_UP
        self.need = self.exempt = self.age_band = self.agent_id = None
        self.queued_at = self.assigned_at = self.wait = self.resolved_at = None
        self.turns: list = []
        self.assisted = self.completed = self.digital = self.by_agent = False
        self.offered = self.accepted = self.abandoned = False
        self.need_id = 0

    @property
    def handle_seconds(self) -> float | None:
        if self.by_agent and self.assigned_at is not None and self.resolved_at is not None:
            return max(0.0, (self.resolved_at - self.assigned_at).total_seconds())
        return None

    @property
    def wait_seconds(self) -> float | None:
        """The exact wait from the first queued event to the first agent (the event's own
        `wait_seconds` is whole seconds, rounded down: only when the queued one is missing)."""
        if self.assigned_at is not None and self.queued_at is not None:
            return max(0.0, (self.assigned_at - self.queued_at).total_seconds())
        return self.wait

    @property
    def took_offer(self) -> bool:
        return self.accepted or (
            self.offered and self.channel in ev.DIGITAL_CHANNELS and not self.assisted
        )

    def recorded(self) -> Recorded:
        return Recorded(
            contact_id=self.id,
            channel=self.channel,
            opened_at=self.opened_at,
            turns=tuple(self.turns),
            need=self.need,
            exempt=self.exempt,
            age_band=self.age_band,
            assisted=self.assisted,
            agent_id=self.agent_id,
            wait_seconds=self.wait_seconds,
            handle_seconds=self.handle_seconds,
            completed=self.completed,
            digital=self.digital,
            offered=self.offered,
            accepted=self.took_offer,
            abandoned=self.abandoned,
        )


# What a fold makes of a decision_made event's data (text): something to keep in `turns`,
# and the action the policy took.
Decision = Callable[[object], tuple[object, str]]


def fold(rows: Iterable[tuple], decision: Decision, contacts: dict[int, Folded]) -> None:
    """Fold event rows (id, contact_id, type, at, channel, need, data) into `contacts`."""
    for event_id, contact_id, type_, at, channel, need, data in rows:
        if type_ == ev.CONTACT_OPENED:
            contacts[contact_id] = Folded(contact_id, channel, _time(at))
            continue
        c = contacts.get(contact_id)
        if c is None:
            continue  # a contact opened before the period, or after it
        when = _time(at)
        if when >= c.until:
            continue  # after the contact's follow-up: not part of its story
        if need is not None and event_id > c.need_id:
            c.need, c.need_id = need, event_id  # the latest event naming a need wins
        if type_ == ev.DECISION_MADE:
            kept, action = decision(data)
            c.turns.append(kept)
            if action == "offer_digital":
                c.offered = True
        elif type_ == ev.CITIZEN_IDENTIFIED:
            d = data_of(data)
            c.exempt, c.age_band = bool(d.get("exempt")), d.get("age_band")
        elif type_ == ev.QUEUED:
            c.assisted = True
            if c.queued_at is None or when < c.queued_at:
                c.queued_at = when
        elif type_ == ev.AGENT_ASSIGNED:
            if c.assigned_at is None or when < c.assigned_at:
                d = data_of(data)
                c.assigned_at, c.agent_id = when, d.get("agent_id")
                c.wait = d.get("wait_exact_seconds", d.get("wait_seconds"))
        elif type_ == ev.RESOLVED:
            if c.resolved_at is None or when < c.resolved_at:
                d = data_of(data)
                c.resolved_at = when
                c.completed = bool(d.get("completed"))
                digital = d.get("digital")
                c.digital = channel in ev.DIGITAL_CHANNELS if digital is None else bool(digital)
                c.by_agent = d.get("by") == "agent"
        elif type_ in (ev.DIGITAL_OFFERED, ev.DEFLECTION_OFFERED):
            c.offered = True
        elif type_ == ev.DEFLECTION_ACCEPTED:
            c.accepted = True
        elif type_ == ev.CALL_ENDED:
            c.abandoned = c.abandoned or data_of(data).get("status") == "abandoned"


def columns():  # noqa: ANN201
    """The event columns a fold reads; the data column as text (decoded only where needed),
    the time as stored (parsed only for the events whose time matters)."""
    data, at = cast(E.c.data, Text), type_coerce(E.c.at, String)
    return (E.c.id, E.c.contact_id, E.c.type, at, E.c.channel, E.c.need, data)


def events_of_period(start: datetime, end: datetime) -> list:
    """Return the statements reading the events that matter, one per type (each a range of
    the `type, at` index, in time order): the contacts opened in [start, end), then their
    other events until FOLLOW_UP after `end`."""
    return [
        select(*columns())
        .where(
            E.c.type == type_,
            E.c.at >= start,
            E.c.at < (end if type_ == ev.CONTACT_OPENED else end + FOLLOW_UP),
        )
        .order_by(E.c.at, E.c.id)
        for type_ in TYPES
    ]


MAX_SHARED_TURNS = 200_000


def shared_turns() -> Decision:
    """Return a fold's `decision` that makes a `Turn` of each decision, identical decisions
    (same stage, rule and context: most decisions before the bot) read once and shared, so
    the simulator replays a shared one once."""
    turns: dict[object, Turn] = {}

    def decision(data: object) -> tuple[Turn, str]:
        turn = turns.get(data)
        if turn is None:
            turn = turn_of(data_of(data))
            if len(turns) < MAX_SHARED_TURNS:
                turns[data] = turn
        return turn, turn.action

    return decision


def recorded_contacts(conn: Connection, start: datetime, end: datetime) -> list[Recorded]:
    """Return every contact opened in [start, end), folded from its events."""
    contacts: dict[int, Folded] = {}
    rows = (row for stmt in events_of_period(start, end) for row in conn.execute(stmt))
    fold(rows, shared_turns(), contacts)
    return [c.recorded() for c in contacts.values()]


def period_bounds(first_day: date, last_day: date, timezone: str) -> tuple[datetime, datetime]:
    """Return the UTC instants of the days' first moment and of the moment after the last."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(first_day, time(0), zone).astimezone(UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end
