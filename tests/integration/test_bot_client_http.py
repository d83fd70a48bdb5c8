"""The Rasa bot client over real HTTP, against a stand-in bot whose behaviour a test picks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bots.client import RasaBot
from bots.serve import free_port

pytestmark = pytest.mark.integration

PAYMENT = {
    "messages": [{"text": "Payment dates: https://example.gov/payments/dates"}],
    "intent": {"name": "payment_date", "confidence": 0.97},
    "intent_ranking": [{"name": "payment_date", "confidence": 0.97}],
}


class StandInBot(ThreadingHTTPServer):
    """An HTTP server shaped like kanal's Rasa channel; `mode` says how it behaves."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode = "ok"
        self.requests: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: StandInBot

    def log_message(self, format, *args) -> None:  # noqa: A002 - keep test output quiet
        pass

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._send(200, {"model_file": "models/kanal.tar.gz", "model_id": "x"})

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length", 0))
        self.server.requests.append(json.loads(self.rfile.read(length)))
        mode = self.server.mode
        if mode == "slow":
            time.sleep(1.5)
            self._send(200, PAYMENT)
        elif mode == "empty":
            self._send(200, {**PAYMENT, "messages": []})
        elif mode == "error":
            self._send(500, {"error": "RasaException"})
        else:
            self._send(200, PAYMENT)


def _serving(server: StandInBot) -> Iterator[StandInBot]:
    """Serve `server` on a thread for the test, then stop it and close its socket."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def stand_in() -> Iterator[StandInBot]:
    yield from _serving(StandInBot())


def test_a_turn_over_http_returns_the_answer_and_the_intent(stand_in):
    turn = RasaBot(stand_in.url).turn("c-42", "when will my pension be paid", language="en")

    assert turn.ok and turn.intent == "payment_date" and turn.confidence == 0.97
    assert turn.messages == ("Payment dates: https://example.gov/payments/dates",)
    assert stand_in.requests == [
        {
            "sender": "c-42",
            "message": "when will my pension be paid",
            "metadata": {"language": "en"},
        }
    ]


def test_a_slow_bot_fails_the_turn_within_the_timeout(stand_in):
    stand_in.mode = "slow"
    bot = RasaBot(stand_in.url, timeout=0.3)

    started = time.monotonic()
    turn = bot.turn("c-1", "when will my pension be paid")
    waited = time.monotonic() - started

    assert not turn.ok and turn.error == "timeout"
    assert waited < 1.0, "the citizen does not wait for a slow bot"


def test_an_empty_answer_over_http_is_a_failure(stand_in):
    stand_in.mode = "empty"

    turn = RasaBot(stand_in.url).turn("c-1", "when will my pension be paid")

    assert not turn.ok and turn.error == "no answer"


def test_a_bot_that_is_not_running_is_a_failure_and_reported_down():
    bot = RasaBot(f"http://127.0.0.1:{free_port()}", timeout=0.5)

    assert bot.turn("c-1", "hi").error.startswith("unreachable")
    assert bot.status()["state"] == "down"


def test_the_circuit_opens_on_a_failing_bot_and_recovers_when_it_answers_again(stand_in):
    stand_in.mode = "error"
    bot = RasaBot(stand_in.url, failure_threshold=2, reset_after=0.3)

    errors = [bot.turn("c-1", "hi").error for _ in range(3)]
    assert errors == ["http 500", "http 500", "circuit-open"]
    assert len(stand_in.requests) == 2
    assert bot.status()["state"] == "circuit-open"

    stand_in.mode = "ok"
    time.sleep(0.35)
    recovered = bot.turn("c-1", "when will my pension be paid")

    assert recovered.ok and recovered.intent == "payment_date"
    assert bot.status() == {"state": "up", "model": "kanal.tar.gz", "circuit": "closed"}


class KeepAliveHandler(Handler):
    """The stand-in speaking HTTP/1.1: a connection stays open between calls (as Rasa's)."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        super().do_POST()
        if self.server.mode == "drop idle":  # closed afterwards without saying so
            self.close_connection = True


@pytest.fixture
def keep_alive() -> Iterator[StandInBot]:
    server = StandInBot()
    server.RequestHandlerClass = KeepAliveHandler
    server.connections = 0
    yield from _serving(server)


def test_turns_one_after_another_go_over_one_kept_connection(keep_alive):
    bot = RasaBot(keep_alive.url)

    turns = [bot.turn(f"c-{i}", "when will my pension be paid") for i in range(5)]

    assert all(t.ok for t in turns)
    assert keep_alive.connections == 1
    bot.close()


def test_a_connection_the_bot_closed_while_idle_never_fails_a_turn(keep_alive):
    keep_alive.mode = "drop idle"
    bot = RasaBot(keep_alive.url, failure_threshold=1)

    turns = []
    for i in range(4):
        turns.append(bot.turn(f"c-{i}", "when will my pension be paid"))
        time.sleep(0.05)  # the server has closed the connection it answered on

    assert [t.error for t in turns] == [None] * 4
    assert keep_alive.connections == 4
    assert bot.breaker.snapshot().state == "closed"


def test_no_more_connections_are_opened_than_the_bulkhead_lets_calls_through(keep_alive):
    bot = RasaBot(keep_alive.url, concurrency=2, timeout=10.0)
    threads = [
        threading.Thread(target=lambda i=i: bot.turn(f"c-{i}", "when is my pension paid"))
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(keep_alive.requests) == 8
    assert keep_alive.connections <= 2
    bot.close()
