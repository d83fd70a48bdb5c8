"""Shared fixtures: the app on SQLite and on PostgreSQL, a client, staff and citizens."""

from __future__ import annotations

import os
import secrets
import socket
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from router import create_app
from router.adapters.db import create_all
from router.adapters.orm import metadata
from router.domain.citizens import pseudonym_for
from router.domain.model import Citizen, Exemption
from router.entrypoints.bootstrap import kanal_of
from tests.fakes import ScriptedBot

if (Path(__file__).parent / "rasa_server.py").exists():
    pytest_plugins = ["tests.rasa_server"]

IN_CI = bool(os.environ.get("CI"))
TIERS = ("unit", "integration", "e2e", "faults", "deploy")  # the test folders
SECRET = "test-secret"


def _postgres_admin_url() -> str | None:
    url = os.environ.get("KANAL_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    except OSError:
        return None


@contextmanager
def scratch_postgres(prefix: str):
    """Create an empty PostgreSQL database, yield its URL, and drop it afterwards."""
    admin = _postgres_admin_url()
    if admin is None:
        if IN_CI:
            pytest.fail("CI must test PostgreSQL, and none answers on 127.0.0.1:5432")
        pytest.skip("PostgreSQL is not running here (set KANAL_TEST_POSTGRES_URL)")
    name = f"{prefix}_{secrets.token_hex(4)}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_url():
    """One scratch PostgreSQL database with kanal's tables, for the whole session."""
    with scratch_postgres("kanal_test") as url:
        schema = create_engine(url)
        create_all(schema)
        schema.dispose()
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    """Yield an empty database: a fresh SQLite file, or the session's PostgreSQL emptied."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'kanal.db'}"
        engine = create_engine(url)
        create_all(engine)
        engine.dispose()
        yield url
        return
    url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    yield url


@pytest.fixture
def bot():
    return ScriptedBot()


@pytest.fixture
def app_config(database_url, bot, tmp_path):
    return {
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "KANAL_DATABASE_URL": database_url,
        "KANAL_INSTANCE_PATH": str(tmp_path),
        "KANAL_ALWAYS_OPEN": True,
        "KANAL_POLICY": "denmark",
        # The suite's messages are English; Danish journeys say so. (Production: da,en.)
        "KANAL_LANGUAGES": "en,da",
        "WTF_CSRF_ENABLED": False,
        # The discard port: SMS a test sends in the background never reaches a running kanal.
        "KANAL_PUBLIC_URL": "http://127.0.0.1:9",
    }


@pytest.fixture
def app(app_config, bot):
    app = create_app(app_config, bot=bot)
    yield app
    kanal_of(app).close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def kanal(app):
    return kanal_of(app)


def kanal_command(database_url: str, instance: Path, **more: str):
    """Return a function that runs `kanal ARGS...` as a shell would, on this database."""
    from click.testing import CliRunner

    from router.entrypoints.cli import main

    runner = CliRunner()
    env = {
        "KANAL_DATABASE_URL": database_url,
        "KANAL_SECRET_KEY": SECRET,
        "KANAL_INSTANCE_PATH": str(instance),
        "KANAL_ENV": "development",
        **more,
    }

    def run(*args: str, input: str | None = None, catch: bool = False):  # noqa: A002
        return runner.invoke(main, list(args), input=input, env=env, catch_exceptions=catch)

    return run


@pytest.fixture
def kanal_cli(database_url, tmp_path, kanal):
    """`kanal ARGS...` on the app's database (the app made first: its tables are there)."""
    return kanal_command(database_url, tmp_path)


@pytest.fixture
def add_citizen(kanal):
    """Register a citizen (optionally exempt) and return their pseudonym."""

    def add(phone=None, exempt_ground=None, birth_year=1950, name="Test Citizen", language="en"):
        natural = phone or secrets.token_hex(6)
        with kanal.uow() as uow:
            citizen = uow.citizens.add(
                Citizen(
                    pseudonym=pseudonym_for(SECRET, natural),
                    phone=phone,
                    name=name,
                    language=language,
                    birth_year=birth_year,
                    created_at=datetime.now(UTC),
                )
            )
            if exempt_ground:
                uow.citizens.add_exemption(
                    Exemption(
                        citizen_id=citizen.id,
                        ground=exempt_ground,
                        valid_from=date(2020, 1, 1),
                        valid_until=None,
                        registered_by="test",
                    )
                )
            uow.commit()
            return citizen.pseudonym

    return add


@pytest.fixture
def staff(kanal):
    """Create a member of staff and return their username (password: 'correct horse')."""
    from router.entrypoints.auth import create_user

    def make(username="agent1", role="agent"):
        create_user(kanal.uow, username, "correct horse", role)
        return username

    return make


@pytest.fixture
def manager(kanal):
    """Create the manager 'boss' and return the headers of their dashboard API token."""
    from router.entrypoints.auth import create_token, create_user

    create_user(kanal.uow, "boss", "correct horse", "manager")
    return {"Authorization": "Bearer " + create_token(kanal.uow, "dashboard", "boss")}


def pytest_collection_modifyitems(config, items):
    """Mark each test with its tier from the folder it lives in."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        for tier in TIERS:
            if tier in parts:
                item.add_marker(getattr(pytest.mark, tier))


def pytest_terminal_summary(terminalreporter):
    """Print how many tests ran and passed in each tier."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") not in ("call", "setup"):
                continue
            if outcome == "passed" and report.when != "call":
                continue
            path = Path(report.nodeid.split("::")[0]).parts
            tier = next((t for t in TIERS if t in path), "other")
            counts.setdefault(tier, {}).setdefault(outcome, 0)
            counts[tier][outcome] += 1
    terminalreporter.write_sep("-", "tests per tier")
    for tier, by_outcome in sorted(counts.items()):
        line = ", ".join(f"{n} {o}" for o, n in sorted(by_outcome.items()))
        terminalreporter.write_line(f"{tier:12s} {line}")
