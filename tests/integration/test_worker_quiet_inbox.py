"""`kanal worker` on SQLite reads the inbox only when something was committed to it (or once a
second), yet takes a message acknowledged by the web process as soon as it did before."""

from __future__ import annotations

import time

import pytest

from router import create_app
from router.adapters.db import create_all
from router.domain.commands import ReceiveMessage
from router.entrypoints.bootstrap import kanal_of
from tests.fakes import ScriptedBot

pytestmark = pytest.mark.integration


@pytest.fixture
def worker_kanal(tmp_path):
    app = create_app(
        {
            "KANAL_DATABASE_URL": f"sqlite:///{tmp_path / 'kanal.db'}",
            "KANAL_INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "s",
            "KANAL_TURN_WORKER": "process",  # as `kanal worker`: it polls the inbox
            "KANAL_TWILIO_SANDBOX_URL": "http://127.0.0.1:9/sandbox/twilio",
        },
        bot=ScriptedBot(),
    )
    kanal = kanal_of(app)
    create_all(kanal.engine)
    reads = []
    waiting = kanal.turns.inbox.waiting

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        reads.append(time.monotonic())
        return waiting(*args, **kwargs)

    kanal.turns.inbox.waiting = counted
    yield kanal, reads
    kanal.close()


def test_an_idle_worker_does_not_read_the_sqlite_inbox_every_poll(worker_kanal):
    kanal, reads = worker_kanal
    kanal.worker.start()
    time.sleep(0.8)  # 16 polls of 50 ms with nothing acknowledged
    assert 1 <= len(reads) <= 2, f"{len(reads)} reads of an inbox nobody wrote to"


def test_a_message_acknowledged_meanwhile_is_taken_within_a_poll_or_two(worker_kanal):
    kanal, reads = worker_kanal
    kanal.worker.start()
    time.sleep(0.3)
    entry = kanal.turns.accept(  # committed by the inbox's own connection, as the web's
        ReceiveMessage(channel="sms", address="+4520000002", text="hello", provider_id="SM2")
    )
    acknowledged = time.monotonic()
    deadline = acknowledged + 5
    while kanal.turns.inbox.get(entry) is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert kanal.turns.inbox.get(entry) is None, "the message's turn was never taken"
    found = [t for t in reads if t >= acknowledged]
    assert found and found[0] - acknowledged < 0.5, "read again well before the next second"
