"""Analytics' own view of the router's append-only event log: the columns it reads.

Analytics never imports the router's ORM; it reads the log as a table it describes here,
through a read-only engine (analytics.reader).
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import JSON, BigInteger, Column, DateTime, MetaData, String, Table
from sqlalchemy.types import TypeDecorator


class AwareTimestamp(TypeDecorator):
    """A stored UTC timestamp, read back timezone-aware (SQLite returns naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):  # noqa: ANN001
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


contact_events = Table(
    "contact_events",
    MetaData(),
    Column("id", BigInteger, primary_key=True),
    Column("type", String(32)),
    Column("at", AwareTimestamp()),
    Column("channel", String(16)),
    Column("contact_id", BigInteger),
    Column("citizen", String(40)),
    Column("need", String(40)),
    Column("data", JSON),
)
