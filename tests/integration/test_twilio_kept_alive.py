"""Replies go to Twilio on kept-alive connections, and one the server closed while idle is
opened again: the next reply is sent once and accepted, never held for review as "maybe sent"."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from router.adapters.twilio_sms import TwilioSmsSender

pytestmark = pytest.mark.integration

ACCOUNT = "AC" + "0" * 32


class KeepingTwilio(ThreadingHTTPServer):
    """Twilio's Messages API over HTTP/1.1 keep-alive; `close_after_answer` closes each
    connection after its answer without saying so (a server's idle timeout)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.close_after_answer = False
        self.connections = 0
        self.created: list[str] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: KeepingTwilio

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def log_message(self, format, *args) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        form = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.server.created.append(form)
        sid = f"SM{len(self.server.created):032d}"
        body = json.dumps({"sid": sid, "status": "queued", "num_segments": "1"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.server.close_after_answer:
            self.close_connection = True


@pytest.fixture
def twilio():
    server = KeepingTwilio()
    yield server
    server.shutdown()
    server.server_close()


def test_replies_share_one_kept_alive_connection(twilio):
    sender = TwilioSmsSender(ACCOUNT, "token", "+4570000000", sandbox_url=twilio.url)
    sent = [sender.send("+4520000001", f"reply {i}") for i in range(3)]
    assert [s.outcome for s in sent] == ["accepted"] * 3
    assert len({s.provider_id for s in sent}) == 3
    assert twilio.connections == 1


def test_a_connection_the_server_closed_while_idle_is_opened_again(twilio):
    sender = TwilioSmsSender(ACCOUNT, "token", "+4570000000", sandbox_url=twilio.url)
    twilio.close_after_answer = True
    first = sender.send("+4520000001", "first reply")
    second = sender.send("+4520000001", "second reply")
    assert (first.outcome, second.outcome) == ("accepted", "accepted")
    assert len(twilio.created) == 2, "each reply created once"
    assert twilio.connections == 2
