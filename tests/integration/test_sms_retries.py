"""Outbound SMS against a stand-in Twilio that misbehaves: retry only what certainly did not go.

The stand-in is a real HTTP server answering the Messages API as Twilio does (or refusing,
failing, hanging); the real `twilio.rest.Client` talks to it through the sandbox HTTP client.
"""

import contextlib
import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from router.adapters.twilio_sms import TwilioSmsSender
from router.domain.segments import MAX_BODY, body_length
from router.service.channels import Channel, Channels
from router.service.contacts import open_contact
from router.service.delivery import Backoff, Delivery
from router.service.outbox import say
from tests.integration.sms_support import copy

NUMBER = "+4520000001"


class StandInTwilio:
    """A local Messages API whose answers a test scripts, one per request."""

    def __init__(self) -> None:
        self.script: list[tuple] = []
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers["Content-Length"])
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                outer.received.append(form)
                kind, *args = outer.script.pop(0) if outer.script else ("ok",)
                if kind == "hang":
                    time.sleep(args[0])
                    kind = "ok"
                if kind == "ok":
                    sid = f"SM{len(outer.received):032d}"
                    body = {"sid": sid, "status": "queued", "num_segments": "2", "to": form["To"]}
                    self._answer(201, body)
                else:
                    status, code = args
                    self._answer(status, {"code": code, "message": kind, "status": status})

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                # The client may have given up waiting (the timeout test).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def twilio():
    stand_in = StandInTwilio()
    yield stand_in
    stand_in.close()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def delivery(kanal, twilio, clock):
    sender = TwilioSmsSender(ACCOUNT, "token", "+4570000000", sandbox_url=twilio.url, timeout=0.5)
    return sms_delivery(kanal, sender, "https://kanal.example/twilio/sms/status", clock)


def sms_delivery(kanal, sender, callback, clock, backoff=None):
    """Return a Delivery whose SMS channel sends through `sender`."""
    sms = Channel(
        "sms", sender=sender, status_callback=callback, needs_consent=True, address_is_phone=True
    )
    return Delivery(kanal.uow, Channels([sms]), clock, backoff=backoff)


ACCOUNT = "ACtest00000000000000000000000000"


def outbound(kanal, text="Your payment is on the 1st.", number=NUMBER) -> int:
    """Store an outbound SMS waiting to be sent in a conversation with `number`."""
    with kanal.uow() as uow:
        contact = uow.contacts.open_on("sms", number, datetime(2000, 1, 1, tzinfo=UTC))
        contact = contact or open_contact(uow, "sms", number, datetime.now(UTC))
        message = say(uow, contact, kanal.channels["sms"], "bot", text, datetime.now(UTC))
        uow.commit()
        return message.id


def state(kanal, message_id):
    with kanal.uow() as uow:
        return copy(uow.messages.get(message_id))


def test_an_accepted_message_records_sid_segments_and_callback(kanal, delivery, twilio):
    message_id = outbound(kanal)
    assert delivery.dispatch_due() == 1
    message = state(kanal, message_id)
    assert (message.delivery_status, message.segments) == ("queued", 2)
    assert message.provider_id.startswith("SM")
    assert twilio.received[0]["StatusCallback"].endswith(f"/twilio/sms/status?m={message_id}")
    assert twilio.received[0]["To"] == NUMBER
    assert delivery.dispatch_due() == 0  # sent once only
    assert len(twilio.received) == 1


def test_429_is_retried_with_growing_backoff(kanal, delivery, twilio, clock):
    twilio.script = [("Too Many Requests", 429, 20429), ("Too Many Requests", 429, 20429)]
    message_id = outbound(kanal)
    delivery.dispatch_due()
    first = state(kanal, message_id)
    assert first.delivery_status == "retry"
    assert first.next_attempt_at - clock.now == timedelta(seconds=30)
    assert delivery.dispatch_due() == 0  # not due yet: no new request
    assert len(twilio.received) == 1
    clock.now += timedelta(seconds=31)
    delivery.dispatch_due()
    second = state(kanal, message_id)
    assert second.delivery_status == "retry"
    assert second.next_attempt_at - clock.now == timedelta(seconds=60)
    clock.now += timedelta(seconds=61)
    assert delivery.dispatch_due() == 1
    assert state(kanal, message_id).delivery_status == "queued"
    assert len(twilio.received) == 3


def test_a_refused_connection_is_retried(kanal, clock):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    sender = TwilioSmsSender(
        ACCOUNT, "token", "+4570000000", sandbox_url=f"http://127.0.0.1:{closed_port}", timeout=1
    )
    delivery = sms_delivery(kanal, sender, None, clock)
    message_id = outbound(kanal)
    delivery.dispatch_due()
    message = state(kanal, message_id)
    assert message.delivery_status == "retry"
    assert "refused" in message.last_error


def test_a_timeout_goes_to_review_and_is_never_resent(kanal, delivery, twilio, clock):
    twilio.script = [("hang", 1.5)]
    message_id = outbound(kanal)
    delivery.dispatch_due()
    message = state(kanal, message_id)
    assert message.delivery_status == "review"
    assert "may have been sent" in message.last_error
    clock.now += timedelta(days=1)
    delivery.dispatch_due()
    time.sleep(1.2)  # let the stand-in finish the hung request
    assert len(twilio.received) == 1


def test_a_5xx_goes_to_review_and_is_never_resent(kanal, delivery, twilio, clock):
    twilio.script = [("Internal Server Error", 500, 20500)]
    message_id = outbound(kanal)
    delivery.dispatch_due()
    assert state(kanal, message_id).delivery_status == "review"
    clock.now += timedelta(days=1)
    delivery.dispatch_due()
    assert len(twilio.received) == 1


def test_a_status_callback_after_a_timeout_shows_the_message_went(kanal, delivery, twilio):
    twilio.script = [("hang", 1.5)]
    message_id = outbound(kanal)
    delivery.dispatch_due()
    assert state(kanal, message_id).delivery_status == "review"
    delivery.record_status("sms", message_id, "SM" + "9" * 32, "delivered")
    message = state(kanal, message_id)
    assert (message.delivery_status, message.provider_id) == ("delivered", "SM" + "9" * 32)


def test_an_invalid_number_fails_with_twilios_error_code(kanal, delivery, twilio):
    twilio.script = [("The 'To' number is not valid", 400, 21211)]
    message_id = outbound(kanal)
    delivery.dispatch_due()
    message = state(kanal, message_id)
    assert message.delivery_status == "failed"
    assert "21211" in message.last_error


def test_a_carrier_opt_out_fails_and_records_the_opt_out(kanal, delivery, twilio):
    twilio.script = [("Attempt to send to unsubscribed recipient", 400, 21610)]
    message_id = outbound(kanal)
    delivery.dispatch_due()
    assert state(kanal, message_id).delivery_status == "failed"
    with kanal.uow() as uow:
        assert uow.consents.get("sms", NUMBER).opted_in is False
    later = outbound(kanal, "Another message")
    delivery.dispatch_due()
    assert state(kanal, later).delivery_status == "blocked"
    assert len(twilio.received) == 1


def test_retries_give_up_after_the_last_attempt(kanal, twilio, clock):
    sender = TwilioSmsSender(ACCOUNT, "token", "+4570000000", sandbox_url=twilio.url, timeout=1)
    delivery = sms_delivery(kanal, sender, None, clock, Backoff(1, 1, 3))
    twilio.script = [("Too Many Requests", 429, 20429)] * 3
    message_id = outbound(kanal)
    for _ in range(5):
        delivery.dispatch_due()
        clock.now += timedelta(seconds=2)
    message = state(kanal, message_id)
    assert message.delivery_status == "failed"
    assert message.attempts == 3
    assert len(twilio.received) == 3


def test_a_claim_left_by_a_crashed_dispatcher_goes_to_review(kanal, delivery, clock, twilio):
    message_id = outbound(kanal)
    with kanal.uow() as uow:
        message = uow.messages.get(message_id)
        message.delivery_status = "sending_local"  # a worker died right after claiming it
        message.next_attempt_at = clock.now + timedelta(minutes=2)
        uow.commit()
    delivery.dispatch_due()
    assert state(kanal, message_id).delivery_status == "sending_local"
    clock.now += timedelta(minutes=3)
    delivery.dispatch_due()
    assert state(kanal, message_id).delivery_status == "review"
    assert twilio.received == []


def test_a_long_reply_goes_out_in_parts_within_twilios_limit(kanal, delivery, twilio):
    text = " ".join(f"word{i}" for i in range(700))
    outbound(kanal, text)
    assert delivery.dispatch_due() == 4  # about 5,500 characters
    bodies = [r["Body"] for r in twilio.received]
    assert all(body_length(b) <= MAX_BODY for b in bodies)
    assert " ".join(bodies) == text


def test_two_dispatchers_never_send_one_message_twice(kanal, delivery, twilio):
    ids = [outbound(kanal, f"message {i}") for i in range(10)]
    threads = [threading.Thread(target=delivery.dispatch_due) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["Body"] for r in twilio.received) == sorted(f"message {i}" for i in range(10))
    assert {state(kanal, i).delivery_status for i in ids} == {"queued"}


def test_a_sender_that_crashes_leaves_the_message_for_review(kanal, clock):
    class Broken:
        calls = 0

        def send(self, to, body, *, status_callback=None):
            Broken.calls += 1
            raise RuntimeError("bug in an adapter")

    delivery = sms_delivery(kanal, Broken(), None, clock)
    message_id = outbound(kanal)
    delivery.dispatch_due()
    clock.now += timedelta(days=1)
    delivery.dispatch_due()
    assert state(kanal, message_id).delivery_status == "review"
    assert Broken.calls == 1


@pytest.mark.parametrize("outcome", ["retry", "uncertain"])
def test_a_callback_that_overtakes_a_failed_answer_wins(kanal, clock, outcome):
    """Twilio took the message and called back, but its answer to us was lost or an error."""
    from router.service.ports import SendResult

    class Overtaken:
        calls = 0

        def send(self, to, body, *, status_callback=None):
            Overtaken.calls += 1
            message_id = int(status_callback.rsplit("=", 1)[1])
            delivery.record_status("sms", message_id, "SM" + "7" * 32, "sent")
            return SendResult(outcome, error="answer lost")

    delivery = sms_delivery(kanal, Overtaken(), "https://kanal.example/s", clock)
    message_id = outbound(kanal)
    delivery.dispatch_due()
    clock.now += timedelta(days=1)
    delivery.dispatch_due()
    message = state(kanal, message_id)
    assert (message.delivery_status, message.provider_id) == ("sent", "SM" + "7" * 32)
    assert Overtaken.calls == 1
