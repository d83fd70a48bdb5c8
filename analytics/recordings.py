"""The simulator's recordings: one narrow row per contact, kept up to date from the event log.

Reading a month's events (about eleven per contact, decisions with their whole context) is
what made replaying a million contacts slow. So the scheduler's `metric_rollups` job also
folds every contact touched by new events (`analytics.recorded.fold`, the same fold the
simulator used on the events) into `recorded_contacts`: its group, what became of it, and its
decisions as a list of ids into `recorded_decisions`, where each distinct decision (stage,
rule, action, profile, context) is kept once. Both are analytics' own tables, written by
analytics alone; the router's tables are only read.

The simulator then reads a period from them (analytics.simulation).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)

from analytics.log import AwareTimestamp
from analytics.log import contact_events as E
from analytics.recorded import (
    TYPES,
    Folded,
    columns,
    data_of,
    decision_of,
    fold,
)
from router.domain import events as ev

# Made by migration 0012 (and here, checkfirst, for a database made without migrations).
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)
# What the job writes: another version (a change to the fold or to these tables) means the
# recordings are folded again (MARK below; benchmarks.simulator keys its cache on it too).
FOLD_VERSION = 2  # 2: exact waits (from the events' times, not their whole seconds)

contacts_table = Table(
    "recorded_contacts",
    metadata,
    Column("contact_id", BigInteger, primary_key=True, autoincrement=False),
    Column("opened_at", AwareTimestamp(), nullable=False, index=True),
    Column("opened_hour", Integer, nullable=False),  # hours since 1970 (UTC): the cells' hour
    Column("channel", String(16), nullable=False),
    Column("need", String(40)),
    Column("exempt", Boolean),  # None: not identified
    Column("age_band", String(16)),
    Column("assisted", Boolean, nullable=False),
    Column("agent_id", BigInteger),
    Column("wait_seconds", Float),
    Column("handle_seconds", Float),
    Column("completed", Boolean, nullable=False),
    Column("digital", Boolean, nullable=False),
    Column("offered", Boolean, nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("abandoned", Boolean, nullable=False),
    Column("decisions", Text, nullable=False),  # ids in recorded_decisions, comma-separated
)

decisions_table = Table(
    "recorded_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", String(40), nullable=False, unique=True),
    Column("decision", Text, nullable=False),  # JSON: stage, rule_id, action, profile, context
)

marks = Table(
    "recorded_marks",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("event_id", BigInteger, nullable=False),  # the last event the table has folded
    Column("refreshed_at", DateTime(timezone=True), nullable=False),
)

# The mark names the fold's version: recordings folded by another version have no mark here,
# so readers fold from the log and the next run folds every contact again.
MARK = f"contacts:{FOLD_VERSION}"
# Each run also folds again the contacts of this many events before the mark: on PostgreSQL an
# event with a lower id can commit after one with a higher id (folding again is harmless).
OVERLAP_EVENTS = 5_000
CHUNK = 2_000  # contacts folded, or looked up, per statement
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def create_tables(engine: Engine) -> None:
    """Create the tables if they are missing (they are analytics' own, made on first use)."""
    metadata.create_all(engine, checkfirst=True)


def drop_tables(engine: Engine) -> None:
    """Drop the tables (a test's clean-up; the next refresh builds them again)."""
    metadata.drop_all(engine, checkfirst=True)


def chunks(ids: list[int], size: int = CHUNK) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def events_of_contacts(conn: Connection, ids: list[int]) -> Iterator[tuple]:
    """Yield the events that matter of the given contacts, each contact's in order."""
    for chunk in chunks(sorted(ids)):
        stmt = (
            select(*columns())
            .where(E.c.contact_id.in_(chunk), E.c.type.in_(TYPES))
            .order_by(E.c.contact_id, E.c.id)
        )
        yield from conn.execute(stmt)


def touched_since(conn: Connection, after: int, last: int) -> list[int]:
    """Return the contacts with events in (after, last] (from the start: every contact opened,
    read along the `type, at` index rather than by sorting the whole log)."""
    if after < 0:
        stmt = select(E.c.contact_id).where(
            E.c.type == ev.CONTACT_OPENED, E.c.id <= last, E.c.contact_id.is_not(None)
        )
        return sorted({row[0] for row in conn.execute(stmt)})
    stmt = select(E.c.contact_id.distinct()).where(
        E.c.id > after, E.c.id <= last, E.c.contact_id.is_not(None)
    )
    return [row[0] for row in conn.execute(stmt)]


class _DecisionIds:
    """A fold's `decision` for the table: each distinct decision's id in recorded_decisions."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}  # digest -> id, of the decisions known so far
        self.new: dict[str, str] = {}  # digest -> decision (JSON), to be written
        self.by_data: dict[object, tuple[str, str]] = {}

    def __call__(self, data: object) -> tuple[str, str]:
        found = self.by_data.get(data)
        if found is None:
            d = decision_of(data_of(data))
            text = json.dumps(d, sort_keys=True, separators=(",", ":"))
            digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
            if digest not in self.ids:
                self.new[digest] = text
            found = (digest, d.get("action") or "")
            if len(self.by_data) < 200_000:
                self.by_data[data] = found
        return found

    def write(self, conn: Connection) -> None:
        """Give every decision seen an id: the stored one, or a new row."""
        wanted = list(self.new)
        for chunk in chunks(wanted):
            stmt = select(decisions_table.c.digest, decisions_table.c.id).where(
                decisions_table.c.digest.in_(chunk)
            )
            self.ids.update(dict(conn.execute(stmt).all()))
        missing = [{"digest": d, "decision": self.new[d]} for d in wanted if d not in self.ids]
        if missing:
            conn.execute(insert(decisions_table), missing)
            for chunk in chunks([m["digest"] for m in missing]):
                stmt = select(decisions_table.c.digest, decisions_table.c.id).where(
                    decisions_table.c.digest.in_(chunk)
                )
                self.ids.update(dict(conn.execute(stmt).all()))
        self.new.clear()


def _row(c: Folded, ids: Mapping[str, int]) -> dict:
    return {
        "contact_id": c.id,
        "opened_at": c.opened_at,
        "opened_hour": int((c.opened_at - EPOCH).total_seconds() // 3600),
        "channel": c.channel,
        "need": c.need,
        "exempt": c.exempt,
        "age_band": c.age_band,
        "assisted": c.assisted,
        "agent_id": c.agent_id,
        "wait_seconds": c.wait,
        "handle_seconds": c.handle_seconds,
        "completed": c.completed,
        "digital": c.digital,
        "offered": c.offered,
        "accepted": c.took_offer,
        "abandoned": c.abandoned,
        "decisions": ",".join(str(ids[digest]) for digest in c.turns),
    }


def refresh(reader: Engine, writer: Engine, now: datetime | None = None) -> dict:
    """Fold every contact touched since the last run into the table; return what it did.

    `reader` reads the log, `writer` writes only the recordings' tables, a chunk of contacts
    per transaction (never holding the database long); the mark moves at the end, so until
    then readers fold the contacts touched since the old mark from the log themselves."""
    create_tables(writer)
    with writer.connect() as conn:
        mark = conn.execute(select(marks.c.event_id).where(marks.c.name == MARK)).scalar()
    with reader.connect() as conn:
        last = conn.execute(select(func.max(E.c.id))).scalar() or 0
        if mark is not None and mark > last:  # the log is not the one folded (restored?)
            mark = None
            with writer.begin() as w:
                w.execute(delete(marks))
                w.execute(delete(contacts_table))
        after = -1 if mark is None else max(0, mark - OVERLAP_EVENTS)
        touched = touched_since(conn, after, last) if last > after else []
    decisions = _DecisionIds()
    for chunk in chunks(sorted(touched), 5 * CHUNK):
        folded: dict[int, Folded] = {}
        with reader.connect() as conn:
            fold(events_of_contacts(conn, chunk), decisions, folded)
        with writer.begin() as conn:
            decisions.write(conn)
            conn.execute(delete(contacts_table).where(contacts_table.c.contact_id.in_(chunk)))
            rows = [_row(c, decisions.ids) for c in folded.values()]
            if rows:
                conn.execute(insert(contacts_table), rows)
    with writer.begin() as conn:
        conn.execute(delete(marks))  # another version's mark too
        conn.execute(
            insert(marks).values(name=MARK, event_id=last, refreshed_at=now or datetime.now(UTC))
        )
    return {"events_up_to": last, "contacts": len(touched), "built": mark is None}


def mark_of(conn: Connection) -> int | None:
    """Return the last event the table has folded (None: not built)."""
    if not conn.dialect.has_table(conn, marks.name):
        return None
    return conn.execute(select(marks.c.event_id).where(marks.c.name == MARK)).scalar()
