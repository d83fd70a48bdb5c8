"""The recorded contacts of a period, read from the event log for the policy simulator.

One statement per event type reads the events that matter (a range of the `type, at` index,
in time order) of every contact opened in [start, end), and folds them per contact: the
policy's decisions with the contexts they saw (`decision_made`), the citizen's group
(`citizen_identified`), the queue (`queued`, `agent_assigned`), the end (`resolved`,
`call_ended`) and the digital route (`digital_offered`, `deflection_offered`,
`deflection_accepted`). A contact's events are read until FOLLOW_UP after the period. Read
only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, String, Text, cast, select, type_coerce

from analytics.log import contact_events as E
from analytics.simulator import COSTS, SERVICE_LEVEL_SECONDS, Recorded, Turn, simulate
from router.domain import events as ev
from router.policy import PolicyContext, Profile

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


class _Contact:
    """A contact being folded from its events."""

    __slots__ = (
        "id", "channel", "opened_at", "need", "turns", "exempt", "age_band", "assisted",
        "agent_id", "assigned_at", "wait", "resolved_at", "completed", "digital", "by_agent",
        "offered", "accepted", "abandoned", "need_id",
    )  # fmt: skip

    def __init__(self, contact_id: int, channel: str, opened_at: datetime) -> None:
        self.id, self.channel, self.opened_at = contact_id, channel, opened_at
        self.need = self.exempt = self.age_band = self.agent_id = None
        self.assigned_at = self.wait = self.resolved_at = None
        self.turns: list[Turn] = []
        self.assisted = self.completed = self.digital = self.by_agent = False
        self.offered = self.accepted = self.abandoned = False
        self.need_id = 0

    def done(self) -> Recorded:
        handle = None
        if self.by_agent and self.assigned_at is not None and self.resolved_at is not None:
            handle = max(0.0, (self.resolved_at - self.assigned_at).total_seconds())
        accepted = self.accepted or (
            self.offered and self.channel in ev.DIGITAL_CHANNELS and not self.assisted
        )
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
            wait_seconds=self.wait,
            handle_seconds=handle,
            completed=self.completed,
            digital=self.digital,
            offered=self.offered,
            accepted=accepted,
            abandoned=self.abandoned,
        )


MAX_SHARED_TURNS = 200_000


def _turn(d: dict) -> Turn:
    return Turn(
        d.get("stage", ""),
        d.get("rule_id", ""),
        d.get("action", ""),
        d.get("profile"),
        context_of(d.get("context")),
    )


def _data(raw) -> dict:  # noqa: ANN001 - JSON text or an already decoded dict
    if raw is None:
        return {}
    return json.loads(raw) if isinstance(raw, str) else raw


# A contact's events are read until this long after the period (a resolution, an agent taking
# a callback the next working day); later ones are not seen by the simulator.
FOLLOW_UP = timedelta(days=7)


def events_of_period(start: datetime, end: datetime) -> list:
    """Return the statements reading the events that matter, one per type (each a range of
    the `type, at` index, in time order): the contacts opened in [start, end), then their
    other events until FOLLOW_UP after `end`."""
    # The data column is read as text and decoded here only for the events that need it.
    # So are timestamps, for the few events whose time matters.
    data, at = cast(E.c.data, Text), type_coerce(E.c.at, String)
    columns = (E.c.id, E.c.contact_id, E.c.type, at, E.c.channel, E.c.need, data)
    return [
        select(*columns)
        .where(
            E.c.type == type_,
            E.c.at >= start,
            E.c.at < (end if type_ == ev.CONTACT_OPENED else end + FOLLOW_UP),
        )
        .order_by(E.c.at, E.c.id)
        for type_ in TYPES
    ]


def recorded_contacts(conn: Connection, start: datetime, end: datetime) -> list[Recorded]:
    """Return every contact opened in [start, end), folded from its events."""
    contacts: dict[int, _Contact] = {}
    turns: dict[str, Turn] = {}
    rows = (row for stmt in events_of_period(start, end) for row in conn.execute(stmt))
    for event_id, contact_id, type_, at, channel, need, data in rows:
        if type_ == ev.CONTACT_OPENED:
            contacts[contact_id] = _Contact(contact_id, channel, _time(at))
            continue
        c = contacts.get(contact_id)
        if c is None:
            continue  # a contact opened before the period, or after it
        if need is not None and event_id > c.need_id:
            c.need, c.need_id = need, event_id  # the latest event naming a need wins
        if type_ == ev.DECISION_MADE:
            # Identical decisions (same stage, rule and context: most decisions before the
            # bot) are read once and shared: the simulator replays a shared one once.
            turn = turns.get(data)
            if turn is None:
                turn = _turn(_data(data))
                if len(turns) < MAX_SHARED_TURNS:
                    turns[data] = turn
            c.turns.append(turn)
            if turn.action == "offer_digital":
                c.offered = True
        elif type_ == ev.CITIZEN_IDENTIFIED:
            d = _data(data)
            c.exempt, c.age_band = bool(d.get("exempt")), d.get("age_band")
        elif type_ == ev.QUEUED:
            c.assisted = True
        elif type_ == ev.AGENT_ASSIGNED:
            if c.assigned_at is None:
                d = _data(data)
                c.assigned_at, c.agent_id = _time(at), d.get("agent_id")
                c.wait = d.get("wait_seconds")
        elif type_ == ev.RESOLVED:
            if c.resolved_at is None:
                d = _data(data)
                c.resolved_at = _time(at)
                c.completed = bool(d.get("completed"))
                digital = d.get("digital")
                c.digital = channel in ev.DIGITAL_CHANNELS if digital is None else bool(digital)
                c.by_agent = d.get("by") == "agent"
        elif type_ in (ev.DIGITAL_OFFERED, ev.DEFLECTION_OFFERED):
            c.offered = True
        elif type_ == ev.DEFLECTION_ACCEPTED:
            c.accepted = True
        elif type_ == ev.CALL_ENDED:
            c.abandoned = c.abandoned or _data(data).get("status") == "abandoned"
    return [c.done() for c in contacts.values()]


def period_bounds(first_day: date, last_day: date, timezone: str) -> tuple[datetime, datetime]:
    """Return the UTC instants of the days' first moment and of the moment after the last."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(first_day, time(0), zone).astimezone(UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end


def simulate_period(
    engine: Engine,
    profile: Profile,
    first_day: date,
    last_day: date,
    timezone: str,
    costs: Mapping[str, float] = COSTS,
    threshold: float = SERVICE_LEVEL_SECONDS,
) -> dict:
    """Replay the contacts opened on the given days under `profile` (see analytics.simulator)."""
    start, end = period_bounds(first_day, last_day, timezone)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        contacts = recorded_contacts(conn, start, end)
    window = {
        "from": first_day.isoformat(),
        "to": last_day.isoformat(),
        "timezone": timezone,
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
    return {"window": window, **simulate(contacts, profile, costs, threshold)}
