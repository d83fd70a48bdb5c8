"""Alembic migrations build exactly the schema the ORM maps, on SQLite and PostgreSQL."""

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, create_engine, inspect, make_url

from router.adapters.migrate import (
    MigrationError,
    alembic_config,
    current,
    head,
    owned_elsewhere,
    upgrade,
)
from router.adapters.orm import metadata
from tests.conftest import scratch_postgres

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request, tmp_path):
    """Yield the URL of a database with no tables at all."""
    if request.param == "sqlite":
        # A folder that does not exist yet: upgrade() must create it.
        yield f"sqlite:///{tmp_path / 'instance' / 'kanal.db'}"
        return
    with scratch_postgres("kanal_mig") as url:
        yield url


def differences(url, target=metadata, others=owned_elsewhere):
    """Return how the database differs from `target`, leaving out the tables `others` says
    another part owns (for the router's metadata: analytics' rollups, APScheduler's jobs)."""

    def include(obj, name, type_, reflected, compare_to):  # noqa: ANN001
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
        return not others(table)

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            opts = {"compare_type": True, "include_object": include}
            context = MigrationContext.configure(conn, opts=opts)
            return compare_metadata(context, target)
    finally:
        engine.dispose()


def tables(url):
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrading_an_empty_database_builds_exactly_the_mapped_schema(
    empty_url, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # no alembic.ini here: the config is built in code

    assert current(empty_url) is None
    assert upgrade(empty_url) == head()

    assert current(empty_url) == head()
    assert differences(empty_url) == []


@pytest.mark.parametrize("module", ["rollup_tables", "recordings", "occupancy_rollup"])
def test_migrations_build_analytics_own_tables_as_analytics_describes_them(empty_url, module):
    import importlib

    described = importlib.import_module(f"analytics.{module}").metadata
    upgrade(empty_url)

    assert set(described.tables) <= tables(empty_url)

    def others(table):
        return table not in described.tables

    assert differences(empty_url, described, others) == []


def test_the_comparison_would_notice_a_schema_that_drifted(empty_url):
    upgrade(empty_url)
    drifted = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["citizens"].append_column(Column("shoe_size", Integer))

    diffs = differences(empty_url, drifted)

    assert [(d[0], d[3].name) for d in diffs] == [("add_column", "shoe_size")]


def test_upgrading_twice_changes_nothing(empty_url):
    upgrade(empty_url)
    before = tables(empty_url)

    assert upgrade(empty_url) == head()
    assert tables(empty_url) == before


def test_downgrade_to_base_and_back_round_trips(empty_url):
    upgrade(empty_url)
    config = alembic_config(empty_url)

    command.downgrade(config, "base")
    assert tables(empty_url) <= {"alembic_version"}

    upgrade(empty_url)
    assert differences(empty_url) == []


def build(url, schema):
    """Create `schema`'s tables directly, the way create_all-made databases were built."""
    if url.startswith("sqlite"):
        Path(make_url(url).database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    schema.create_all(engine)
    engine.dispose()


def test_a_database_made_with_create_all_is_adopted_at_head(empty_url):
    build(empty_url, metadata)  # as the test fixtures and early installs did
    assert current(empty_url) is None

    assert upgrade(empty_url) == head()
    assert current(empty_url) == head()
    assert differences(empty_url) == []


def test_a_database_with_a_different_unversioned_schema_is_refused(empty_url):
    partial = MetaData()
    metadata.tables["users"].to_metadata(partial)
    build(empty_url, partial)

    with pytest.raises(MigrationError, match="no migration history"):
        upgrade(empty_url)
    assert current(empty_url) is None
    assert tables(empty_url) == {"users"}
