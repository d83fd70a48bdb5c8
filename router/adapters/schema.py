"""The schema's foundations: the one MetaData every table is on, with its naming convention,
and the column types the tables share (`Id`, `UTC`)."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import BigInteger, DateTime, Integer, MetaData
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator

_utc = UTC

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
mapper_registry = registry(metadata=metadata)

# BigInteger ids on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; kanal stores aware UTC timestamps only")
        return value.astimezone(_utc) if value is not None else None

    def process_result_value(self, value, dialect):  # noqa: ANN001
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=_utc)
        return value


UTC = UTCDateTime()
