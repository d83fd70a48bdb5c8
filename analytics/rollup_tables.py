"""The daily rollup's tables (analytics' own, migrations 0008 and 0019; docs/domain.md §4.6):
one row per day and group, the channel migration's openers, the people numbers, the codes of
the named counts, each contact's share and the mark of how far the rollup has read."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    delete,
)

from analytics import metrics, rollup_contacts

# Named as the router's tables are (migration 0008 creates them with these names).
metadata = MetaData(
    naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s", "pk": "pk_%(table_name)s"}
)

KEYS = ("channel", "need", "exempt", "age_band", "language")
WAITS = ("answered_waits", "abandoned_waits", "phone_abandoned_waits")
SMALL = tuple(name for name in metrics.NAMED if name not in WAITS)
NUMBERS = "<u4"  # how the arrays are stored: little-endian unsigned 32-bit
COUNTS = "<i8"  # ... and the counts (handle seconds add up): signed 64-bit

daily = Table(
    "metric_rollups",
    metadata,
    Column("day", Date, primary_key=True),
    *(Column(name, String(64), primary_key=True) for name in KEYS),
    Column("counts", LargeBinary, nullable=False),  # metrics.COUNTS, in order
    Column("named", LargeBinary),  # (code, count) pairs of the small named counts
    *(Column(name, LargeBinary) for name in WAITS),  # seconds, one per contact
    Column("citizens", LargeBinary),  # people numbers of identified citizens' contacts
    Column("exempt_citizens", LargeBinary),  # ... of those exempt on the day of contact
)

openers = Table(
    "metric_rollup_openers",
    metadata,
    Column("day", Date, primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("citizens", LargeBinary, nullable=False),  # one people number per contact
)

people = Table(
    "metric_rollup_people",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("citizen", String(40), nullable=False, unique=True),
)

names = Table(
    "metric_rollup_names",
    metadata,
    Column("code", Integer, primary_key=True, autoincrement=False),
    Column("name", String(32), nullable=False),  # a named count of metrics.NAMED
    Column("key", String(64), nullable=False),  # a reason, a score, a cost kind...
    UniqueConstraint("name", "key"),
)

contacts = rollup_contacts.table(metadata, KEYS)

marks = Table(
    "metric_rollup_marks",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("event_id", BigInteger, nullable=False),  # the last event the rollup has read
    Column("refreshed_at", DateTime(timezone=True), nullable=False),
    # What the figures were computed with: another setting means a rebuild.
    Column("timezone", String(64), nullable=False),
    Column("repeat_days", Integer, nullable=False),
    Column("followup_hours", Float, nullable=False),
    Column("layout", String(16), nullable=False),
    # Changes whenever the rollup's rows do (a cache of figures is good while it stands).
    Column("generation", String(16), nullable=False, server_default=""),
)


def create_tables(engine: Engine) -> None:
    """Create the rollup tables if they are missing (a database made by `create_all`, as in
    the tests; deployments get them from migration 0008)."""
    metadata.create_all(engine, checkfirst=True)


def drop_tables(engine: Engine) -> None:
    """Drop the rollup tables (a test's clean-up)."""
    metadata.drop_all(engine, checkfirst=True)


def clear(engine: Engine) -> None:
    """Empty the rollup (the next refresh rebuilds it from the event log)."""
    with engine.begin() as conn:
        for table in (marks, daily, openers, contacts):  # people numbers, name codes are kept
            if engine.dialect.has_table(conn, table.name):
                conn.execute(delete(table))
