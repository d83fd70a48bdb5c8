"""Closing kanal (shutdown, the end of a CLI command or a test) leaves no connection open to
its databases, the SQLite inbox included: that inbox keeps its one writing connection between
acknowledgements, out of the pool that disposing the engine empties."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from router import create_app
from router.domain.commands import ReceiveMessage
from router.entrypoints.bootstrap import kanal_of
from tests.fakes import ScriptedBot

pytestmark = pytest.mark.integration


def open_databases_under(folder: Path) -> list[str]:
    """The SQLite files (and their -wal, -shm) under `folder` this process holds open
    (Linux: /proc/self/fd); the writers' queue keeps its lock file apart."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the listing's own descriptor, closed since
            continue
        if target.startswith(str(folder)) and ".db" in target and not target.endswith(".lock"):
            held.append(target)
    return held


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads Linux's /proc")
def test_closing_kanal_closes_the_sqlite_inbox_connection_kept_between_batches(tmp_path):
    # Only SQLite keeps a connection between batches (PostgreSQL gives each batch's back).
    folder = tmp_path / "instance"
    app = create_app(
        {"KANAL_DATABASE_URL": f"sqlite:///{folder / 'kanal.db'}", "SECRET_KEY": "s"},
        bot=ScriptedBot(),
    )
    kanal = kanal_of(app)
    entry = kanal.turns.accept(
        ReceiveMessage(channel="sms", address="+4520000001", text="hej", provider_id="SM1")
    )
    assert entry is not None
    assert any(path.endswith("kanal-inbox.db") for path in open_databases_under(folder))

    kanal.close()

    assert open_databases_under(folder) == []
