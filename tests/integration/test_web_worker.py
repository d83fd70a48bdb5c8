"""`kanal web`'s worker answers signed SMS webhooks on kept-alive connections from its own
loop once their messages are committed (router/entrypoints/web_worker.py): each answered
200 is stored exactly once, anything else on the same connection is served as before, and
a client that holds every request thread cannot hold up Twilio's acknowledgements.
SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from channels.sms import EMPTY_TWIML
from channels.twilio_signature import sign
from tests.conftest import scratch_postgres
from tests.faults.support import (
    TWILIO_TOKEN,
    Webhooks,
    acknowledging_web,
    inbox_counts,
    kanal_process,
    sms_form,
    wait_for,
    web_up,
)

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kanal.db'}"
    else:
        with scratch_postgres("kanal_web_worker") as url:
            yield url


def serve(database_url: str, tmp_path, threads: int, workers: int = 1):
    base, env = acknowledging_web(
        database_url, tmp_path, workers=workers, threads=threads, secret="web-worker"
    )
    return base, kanal_process(["web"], env, tmp_path / "web.log")


def test_webhooks_on_kept_alive_connections_are_answered_once_committed_and_stored_once(
    database_url, tmp_path
):
    base, process = serve(database_url, tmp_path, threads=4, workers=2)
    with process:
        wait_for(lambda: web_up(base), 60, "kanal web to answer")
        hooks = Webhooks(base, 400)
        hooks.send_all(16)
        assert hooks.acknowledged() == set(hooks.sids), "every webhook answered 2xx"
        stored = inbox_counts(database_url)
        assert {sid: stored[sid] for sid in hooks.sids} == dict.fromkeys(hooks.sids, 1)

        with requests.Session() as session:  # Twilio's retries: acknowledged, not stored again
            for n in range(20):
                assert hooks.post(session, n) == 200
        stored = inbox_counts(database_url)
        assert all(stored[sid] == 1 for sid in hooks.sids[:20])


def test_the_acknowledgement_is_the_apps_and_the_connection_serves_what_follows(
    database_url, tmp_path
):
    base, process = serve(database_url, tmp_path, threads=2)
    url = base + "/twilio/sms"
    with process, requests.Session() as session:
        wait_for(lambda: web_up(base), 60, "kanal web to answer")
        hooks = Webhooks(base, 3)
        assert hooks.post(session, 0) == 200  # the connection is kept alive after this one
        form = sms_form(1, hooks.sids[1])
        answer = session.post(
            url, data=form, headers={"X-Twilio-Signature": sign(url, form, TWILIO_TOKEN)}
        )
        assert answer.status_code == 200
        assert answer.text == EMPTY_TWIML
        assert answer.headers["Content-Type"].startswith("text/xml")
        assert answer.headers["X-Content-Type-Options"] == "nosniff", "the app's own headers"
        assert answer.headers["Connection"] == "keep-alive"

        forged = session.post(
            url, data=sms_form(2, hooks.sids[2]), headers={"X-Twilio-Signature": "forged"}
        )
        assert forged.status_code == 403, "a forged webhook on the same connection is refused"
        assert session.get(base + "/healthz").ok, "and the connection serves other requests"
        stop = {**sms_form(3, "SM" + "f" * 32), "Body": "STOP"}
        assert (
            session.post(
                url, data=stop, headers={"X-Twilio-Signature": sign(url, stop, TWILIO_TOKEN)}
            ).status_code
            == 200
        )
    stored = inbox_counts(database_url)
    assert stored[hooks.sids[0]] == stored[hooks.sids[1]] == 1
    assert stored[hooks.sids[2]] == 0, "the forged one was not stored"


def test_a_client_holding_every_request_thread_does_not_hold_up_acknowledgements(
    database_url, tmp_path
):
    base, process = serve(database_url, tmp_path, threads=1)
    port = int(base.rsplit(":", 1)[1])
    with process, requests.Session() as session:
        wait_for(lambda: web_up(base), 60, "kanal web to answer")
        hooks = Webhooks(base, 6)
        assert hooks.post(session, 0) == 200  # kept alive from here on
        slow = socket.create_connection(("127.0.0.1", port))
        try:  # the only request thread now waits for a body that never comes
            slow.sendall(
                b"POST /twilio/sms HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"X-Twilio-Signature: x\r\n\r\nMessageSid=SM"
            )
            time.sleep(0.5)
            started = time.monotonic()
            assert [hooks.post(session, n) for n in range(1, 6)] == [200] * 5
            assert time.monotonic() - started < 10
        finally:
            slow.close()
    stored = inbox_counts(database_url)
    assert all(stored[sid] == 1 for sid in hooks.sids)
