"""Alembic environment: migrate the database named in the config against router's metadata."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.types import TypeDecorator

from router.adapters.migrate import owned_elsewhere
from router.adapters.orm import metadata


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    """Leave tables the router's metadata does not describe out of autogenerate: those other
    libraries own (APScheduler's) and analytics' (migration 0008 made them by hand)."""
    return not (type_ == "table" and owned_elsewhere(name))


def render_item(type_, obj, autogen_context):  # noqa: ANN001
    """Write a TypeDecorator as its storage type, so revisions never import router."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _configure(**kwargs) -> None:
    url = kwargs.pop("url", None) or kwargs["connection"].engine.url
    context.configure(
        target_metadata=metadata,
        include_object=include_object,
        render_item=render_item,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=str(url).startswith("sqlite"),
        **kwargs,
    )


def run_offline() -> None:
    """Emit SQL to standard output instead of running it."""
    url = context.config.get_main_option("sqlalchemy.url")
    _configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on a connection given by the caller, or on a new one."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(
        context.config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
