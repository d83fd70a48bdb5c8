"""Apply kanal's Alembic migrations to a database, from any working directory."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, make_url, pool

from router.adapters.db import wal
from router.adapters.orm import metadata

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Tables in kanal's database the router's metadata does not describe: APScheduler's job store
# (it creates and migrates its own), and analytics' own tables: the rollups (migration 0008,
# analytics/rollups.py) and the simulator's recordings (migration 0012,
# analytics/recordings.py), described by analytics, which the core never imports.
OTHERS_TABLES = ("scheduler_jobs",)
ANALYTICS_PREFIXES = ("metric_rollup", "recorded_")


def owned_elsewhere(table: str) -> bool:
    """Tell whether a table of kanal's database is not the router's metadata's to compare."""
    return table in OTHERS_TABLES or table.startswith(ANALYTICS_PREFIXES)


class MigrationError(RuntimeError):
    """The database cannot be brought to the newest schema safely."""


def alembic_config(database_url: str) -> Config:
    """Return an Alembic config built in code, so no alembic.ini or working directory is needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser treats % as interpolation; a password may contain one.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def _engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, poolclass=pool.NullPool)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, poolclass=pool.NullPool)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):  # noqa: ANN001
        # WAL is a property of the file: set it once here for every later process.
        wal(dbapi_conn)
        # Foreign keys stay off (SQLite's default) so batch migrations can copy tables.
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn):  # noqa: ANN001
        # SQLite's DDL is transactional too: a failed migration leaves nothing half done.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def head() -> str:
    """Return the newest revision id."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return script.get_current_head()


def current(database_url: str) -> str | None:
    """Return the database's revision, or None when it was never migrated."""
    engine = _engine(database_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def upgrade(database_url: str) -> str:
    """Create the database's folder (SQLite) and migrate it to the newest revision."""
    config = alembic_config(database_url)
    engine = _engine(database_url)
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            if _made_without_migrations(conn):
                command.stamp(config, "head")
            else:
                command.upgrade(config, "head")
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def _made_without_migrations(conn) -> bool:  # noqa: ANN001
    """Tell whether the schema was made by create_all: kanal's tables but no Alembic history.

    Such a database is adopted at head only when it matches the metadata exactly; anything
    else is refused rather than guessed at.
    """
    tables = set(inspect(conn).get_table_names())
    ours = set(metadata.tables)
    if "alembic_version" in tables or not tables & ours:
        return False
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    diffs = compare_metadata(context, metadata)
    missing = [d for d in diffs if not (d[0] == "remove_table" and owned_elsewhere(d[1].name))]
    if missing:
        raise MigrationError(
            "the database has kanal tables but no migration history, and they differ from "
            f"the schema ({len(missing)} differences); migrate a copy by hand or start afresh"
        )
    return True


def revision(message: str) -> Path:
    """Write a new revision with what the ORM metadata adds to the newest one; return its path.

    Autogenerate compares against a scratch SQLite database migrated to head, so no server is
    needed; the batch operations it writes run on PostgreSQL too. Read and edit the result.
    """
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'head.db'}"
        upgrade(url)
        number = len(list((MIGRATIONS / "versions").glob("[0-9]*.py"))) + 1
        script = command.revision(
            alembic_config(url), message=message, autogenerate=True, rev_id=f"{number:04d}"
        )
    return Path(script.path)


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m router.adapters.migrate revision "what changes"')
    print(revision(sys.argv[2]))
