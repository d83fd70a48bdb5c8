"""The stream process' live-update channel lost while a citizen's chat goes on.

kanal's live pages are fed by PostgreSQL LISTEN/NOTIFY (router/adapters/live.py): every
process NOTIFYs after its commits, and `kanal streams` LISTENs. Here the stream process'
LISTEN connection is killed (pg_terminate_backend on its own backend only: the shared server
keeps running) while the citizen keeps writing and the bot keeps answering, so the notices
of those commits go nowhere. On reconnecting the stream process pokes every stream, each
reads after its own cursor: the chat's event stream must still carry every message of the
conversation exactly once.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest
import requests
from sqlalchemy import create_engine, text

from router import create_app
from router.config import from_env
from router.entrypoints.bootstrap import kanal_of
from tests.conftest import scratch_postgres
from tests.fakes import ScriptedBot
from tests.faults.support import (
    KANAL,
    Tally,
    free_port,
    kanal_env,
    kanal_process,
    run_quietly,
    wait_for,
)

pytestmark = pytest.mark.faults

PER_PHASE = 5


def read_stream(url: str, headers: dict, seen: Counter, stop: threading.Event, errors: list):
    """Collect the ids of the `message` events of a server-sent event stream."""
    try:
        with requests.get(url, headers=headers, stream=True, timeout=(5, 60)) as response:
            response.raise_for_status()
            event_id, kind = None, None
            for line in response.iter_lines(decode_unicode=True):
                if stop.is_set():
                    return
                if line.startswith("id: "):
                    event_id = int(line[4:])
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "message" and event_id is not None:
                    json.loads(line[6:])
                    seen[event_id] += 1
                elif not line:
                    event_id, kind = None, None
    except requests.RequestException as exc:
        if not stop.is_set():  # the stream process stopping at the end is expected
            errors.append(exc)


def test_losing_the_listen_connection_loses_and_doubles_no_live_message(tmp_path):
    with scratch_postgres("kanal_faults") as url:
        port = free_port()
        env = kanal_env(
            KANAL_INSTANCE_PATH=tmp_path,
            KANAL_DATABASE_URL=url,
            KANAL_STREAM_PORT=port,
            KANAL_RASA_URL="http://127.0.0.1:9",
            KANAL_PUBLIC_URL="http://127.0.0.1:9",
            KANAL_SECRET_KEY="faults",
            KANAL_ALWAYS_OPEN="1",
            KANAL_LANGUAGES="en,da",
            KANAL_LOG_LEVEL="warning",
        )
        upgraded = run_quietly([str(KANAL), "db", "upgrade"], env)
        assert upgraded.returncode == 0, upgraded.stderr
        app = create_app(from_env(env), bot=ScriptedBot())
        kanal = kanal_of(app)
        client = app.test_client()
        admin = create_engine(url)
        seen: Counter = Counter()
        stop = threading.Event()
        errors: list = []
        try:
            session = client.post("/api/v1/chat/sessions", json={"language": "en"}).get_json()
            auth = {"Authorization": f"Bearer {session['token']}"}
            path = f"/api/v1/chat/sessions/{session['session_id']}"

            def say(text: str) -> None:
                answer = client.post(path + "/messages", json={"text": text}, headers=auth)
                assert answer.status_code == 200, answer.get_json()

            say("Hello")
            with kanal_process(["streams"], env, tmp_path / "streams.log"):
                base = f"http://127.0.0.1:{port}"
                wait_for(lambda: _up(base + "/streams/healthz"), 60, "kanal streams to answer")
                reader = threading.Thread(
                    target=read_stream, args=(base + path + "/stream", auth, seen, stop, errors),
                    daemon=True,
                )  # fmt: skip
                reader.start()
                for n in range(PER_PHASE):
                    say(f"When is my pension paid? ({n})")
                killed = _kill_listener(admin)
                for n in range(PER_PHASE):  # their notices are lost: nobody listens now
                    say(f"How do I change my address? ({n})")
                contact = kanal.views.contact_on("webchat", session["session_id"])

                def stored() -> list[int]:
                    with kanal.uow() as uow:
                        return [m.id for m in uow.messages.for_contact(contact.id)]

                # Nothing more is written until they are on the page: only the stream
                # process' reconnection (which pokes every stream) can bring them.
                gap = stored()
                wait_for(lambda: set(gap) <= set(seen), 30, "the messages sent in the gap")
                for n in range(PER_PHASE):
                    say(f"Child benefit? ({n})")
                ids = stored()
                wait_for(lambda: set(ids) <= set(seen), 30, "every message on the stream")
                time.sleep(0.5)  # a message streamed twice would show now
                stop.set()
        finally:
            kanal.close()
            admin.dispose()

    assert killed == 1, "the stream process' LISTEN connection was killed"
    assert errors == [], "the page's stream itself never broke"
    tally = Tally("live updates: LISTEN connection lost mid-chat")
    tally.expected = set(ids)
    tally.copies.update({i: seen[i] for i in ids})
    tally.check(
        f"{len(ids)} messages (the citizen's and the bot's), {PER_PHASE} sent while the "
        "stream process was not listening; each streamed once"
    )


def _up(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def _kill_listener(engine) -> int:  # noqa: ANN001
    """Terminate the LISTEN connection of this database's stream process (only that one)."""
    with engine.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND query LIKE 'LISTEN%'"
            )
        ).scalar()
        conn.commit()
    return int(killed)
