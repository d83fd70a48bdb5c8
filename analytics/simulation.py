"""A period's policy simulation, read from the recordings (analytics.recordings).

The period's stored contacts are read as classes of contacts alike in everything the
simulator uses (one GROUP BY in the database: a million contacts of a month come back as
about 85,000 classes), their decisions once per distinct list; the contacts touched since the
recordings' job last ran are folded from the event log, so the answer is the log's as it is
now. With no recordings yet (or far behind), the whole period is folded from the log.

Whether and how a contact completed a need is the report's, not the fold's
(analytics/needs_completed.py: the daily rollup's contacts, those touched since its mark read
as the report reads them; without a rollup, the whole window), so the recorded column's
completed needs and digital take-up are the report's (docs/domain.md §4.4).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, Engine, Text, and_, bindparam, case, cast, func, select

from analytics import metrics
from analytics.log import contact_events as E
from analytics.needs_completed import need_completions
from analytics.recorded import Folded, fold, period_bounds, recorded_contacts, shared_turns, turn_of
from analytics.recordings import (
    OVERLAP_EVENTS,
    chunks,
    events_of_contacts,
    mark_of,
    touched_since,
)
from analytics.recordings import contacts_table as R_TABLE
from analytics.recordings import decisions_table as D_TABLE
from analytics.simulator import COSTS, SERVICE_LEVEL_SECONDS, Recorded, Turn, simulate
from router.policy import Profile

# Past this many contacts touched since the recordings' last run, the whole period is folded
# from the log instead (the recordings are being built, or the job has not run for long).
MAX_TAIL = 20_000


# How a contact completed a need, as the report counts it, by contact id (`need_completions`).
Kinds = Mapping[int, str | None]


def as_counted(c: Recorded, kind: str | None) -> Recorded:
    """Return the contact with `completed` and `digital` as the report counts it: a need
    completed, and completed in a way digital take-up counts (self-service, a completed
    deflection, or assisted digital)."""
    completed, digital = kind is not None, kind in metrics.TAKE_UP
    if c.completed == completed and c.digital == digital:
        return c
    return replace(c, completed=completed, digital=digital)


def classes_statement(  # noqa: ANN201
    start: datetime, end: datetime, threshold: float, tail: bool, members: str | None = None
):
    """Return the statement reading the period's stored contacts as classes: contacts alike
    in everything the simulator uses, counted (bound `tail`: contacts left out); with
    `members` (the database's dialect), each class's contact ids too, comma separated."""
    R = R_TABLE.c
    within = case((and_(R.assisted, R.wait_seconds <= threshold), 1), else_=0)
    handled = case((R.handle_seconds > 0, 1), else_=0)
    keys = (
        R.opened_hour, R.channel, R.need, R.exempt, R.age_band, R.decisions, R.assisted,
        R.completed, R.digital, R.offered, R.accepted, within, handled,
    )  # fmt: skip
    stmt = select(
        *keys,
        func.count(),
        func.sum(R.handle_seconds),
        func.max(R.wait_seconds),
        func.min(R.contact_id),
        *_members(members),
    ).where(R.opened_at >= start, R.opened_at < end)
    if tail:
        stmt = stmt.where(R.contact_id.not_in(bindparam("tail", expanding=True)))
    return stmt.group_by(*keys)


def _members(dialect: str | None) -> tuple:
    if dialect is None:
        return ()
    if dialect == "postgresql":
        return (func.string_agg(cast(R_TABLE.c.contact_id, Text), ","),)
    return (func.group_concat(R_TABLE.c.contact_id),)


class _Turns:
    """The stored decisions as shared `Turn`s, read once each."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.turns: dict[int, Turn] = {}
        self.paths: dict[str, tuple[Turn, ...]] = {}

    def load(self, paths: Iterable[str]) -> None:
        wanted = {int(i) for p in paths if p for i in p.split(",")} - self.turns.keys()
        for chunk in chunks(sorted(wanted)):
            stmt = select(D_TABLE.c.id, D_TABLE.c.decision).where(D_TABLE.c.id.in_(chunk))
            for id_, text in self.conn.execute(stmt):
                self.turns[id_] = turn_of(json.loads(text))

    def path(self, decisions: str) -> tuple[Turn, ...]:
        found = self.paths.get(decisions)
        if found is None:
            turns = self.turns
            found = tuple(turns[int(i)] for i in decisions.split(",")) if decisions else ()
            self.paths[decisions] = found
        return found


def _hour_start(hours: dict[int, datetime], hour: int) -> datetime:
    found = hours.get(hour)
    if found is None:
        found = hours[hour] = datetime.fromtimestamp(hour * 3600, UTC)
    return found


def stored_classes(
    conn: Connection,
    start: datetime,
    end: datetime,
    threshold: float,
    tail: list[int],
    kinds: Kinds | None = None,
) -> tuple[list[Recorded], dict[datetime, set]]:
    """Return the period's stored contacts (but the `tail`) as classes, and the agents who
    took contacts opened in each hour. With `kinds`, a class is split by how its contacts
    completed a need as the report counts it (`as_counted`)."""
    dialect = conn.dialect.name if kinds is not None else None
    stmt = classes_statement(start, end, threshold, bool(tail), dialect)
    params = {"tail": tail} if tail else {}
    rows = conn.execute(stmt, params).all()
    turns = _Turns(conn)
    turns.load({row[5] for row in rows})
    hours: dict[int, datetime] = {}
    classes = []
    for (
        hour, channel, need, exempt, age_band, decisions, assisted, completed, digital,
        offered, accepted, _within, handled, n, handle, wait, first, *members,
    ) in rows:  # fmt: skip
        alike = Recorded(
            contact_id=first,
            channel=channel,
            opened_at=_hour_start(hours, hour),
            turns=turns.path(decisions),
            need=need,
            exempt=None if exempt is None else bool(exempt),
            age_band=age_band,
            assisted=bool(assisted),
            wait_seconds=wait,
            handle_seconds=handle / n if handled and handle else None,
            completed=bool(completed),
            digital=bool(digital),
            offered=bool(offered),
            accepted=bool(accepted),
            count=n,
        )
        if kinds is None:
            classes.append(alike)
            continue
        # Alike as folded, perhaps not as counted (one link's deflection completed, another's
        # not): one class per kind, each with the class's mean agent time.
        by_kind = Counter(kinds.get(int(i)) for i in members[0].split(","))
        for kind, count in sorted(by_kind.items(), key=lambda kv: kv[0] or ""):
            classes.append(replace(as_counted(alike, kind), count=count))
    R = R_TABLE.c
    agents = (
        select(R.opened_hour, R.agent_id)
        .distinct()
        .where(R.opened_at >= start, R.opened_at < end, R.agent_id.is_not(None))
    )
    if tail:
        agents = agents.where(R.contact_id.not_in(bindparam("tail", expanding=True)))
    staffing: dict[datetime, set] = {}
    for hour, agent in conn.execute(agents, params):
        staffing.setdefault(_hour_start(hours, hour), set()).add(agent)
    return classes, staffing


def period_contacts(
    conn: Connection, start: datetime, end: datetime, threshold: float, kinds: Kinds | None = None
) -> tuple[list[Recorded], dict[datetime, int] | None, str]:
    """Return the contacts opened in [start, end) (classes of alike contacts where the table
    has them), the agents per hour (None: the contacts carry their agents) and where they
    were read from; with `kinds` (`need_completions`), completed as the report counts them."""

    def counted(contacts: list[Recorded]) -> list[Recorded]:
        if kinds is None:
            return contacts
        return [as_counted(c, kinds.get(c.contact_id)) for c in contacts]

    mark = mark_of(conn)
    tail: list[int] = []
    last = conn.execute(select(func.max(E.c.id))).scalar() or 0
    if mark is not None and mark <= last:
        after = max(0, mark - OVERLAP_EVENTS)
        tail = touched_since(conn, after, last) if last > after else []
    if mark is None or mark > last or len(tail) > MAX_TAIL:
        return counted(recorded_contacts(conn, start, end)), None, "events"
    classes, agents = stored_classes(conn, start, end, threshold, tail, kinds)
    folded: dict[int, Folded] = {}
    fold(events_of_contacts(conn, tail), shared_turns(), folded)
    fresh = counted([c.recorded() for c in folded.values() if start <= c.opened_at < end])
    for c in fresh:
        if c.agent_id is not None:
            hour = c.opened_at.replace(minute=0, second=0, microsecond=0)
            agents.setdefault(hour, set()).add(c.agent_id)
    staffing = {hour: len(ids) for hour, ids in agents.items()}
    return classes + fresh, staffing, "recordings"


def simulate_period(
    engine: Engine,
    profile: Profile,
    first_day: date,
    last_day: date,
    timezone: str,
    costs: Mapping[str, float] = COSTS,
    threshold: float = SERVICE_LEVEL_SECONDS,
    repeat_window: timedelta = timedelta(days=metrics.REPEAT_WINDOW_DAYS),
    followup_window: timedelta = timedelta(hours=metrics.FOLLOWUP_WINDOW_HOURS),
) -> dict:
    """Replay the contacts opened on the given days under `profile` (see analytics.simulator),
    their needs completed as the report counts them with the same repeat and follow-up
    windows."""
    start, end = period_bounds(first_day, last_day, timezone)
    window = metrics.Window(first_day, last_day, timezone, repeat_window, followup_window)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        kinds = need_completions(conn, window)
        contacts, staffing, _source = period_contacts(conn, start, end, threshold, kinds)
    described = {
        "from": first_day.isoformat(),
        "to": last_day.isoformat(),
        "timezone": timezone,
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
    return {"window": described, **simulate(contacts, profile, costs, threshold, staffing=staffing)}
