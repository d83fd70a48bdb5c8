"""The SMS tests' harness: kanal served for real on a local port, in sandbox mode.

Twilio's side (status callbacks, the Messages API) talks HTTP to that port exactly as it would
to a deployed service, so the tests exercise the signature check, the sandbox and the REST
client end to end.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields

import pytest
import requests
from werkzeug.serving import make_server

from channels.twilio_sandbox.sms_simulator import TextingPhone, post_sms, webhook_form
from router import create_app
from router.entrypoints.bootstrap import kanal_of

TOKEN = "test-twilio-token"
ACCOUNT = "ACtest00000000000000000000000000"
AGENCY = "+4570000000"


def wait_for(check: Callable[[], object], timeout: float = 10.0, what: str = "it") -> object:
    """Poll `check` until it returns something truthy; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"waited {timeout}s for {what}")


@dataclass
class LiveKanal:
    """A running kanal and a phone to text it with."""

    app: object
    base_url: str
    phone: TextingPhone

    @property
    def kanal(self):
        return kanal_of(self.app)

    @property
    def delivery(self):
        return self.kanal.delivery

    def text(self, number: str, body: str, *, sid: str | None = None, token: str | None = None):
        """Send a signed inbound SMS as Twilio would; return the HTTP response."""
        form = webhook_form(self.phone, number, body, sid=sid)
        if token is None:
            return post_sms(self.phone, form)
        from channels.twilio_signature import sign

        headers = {
            "X-Twilio-Signature": sign(self.base_url + "/twilio/sms", form, TOKEN),
            "I-Twilio-Idempotency-Token": token,
        }
        return requests.post(self.base_url + "/twilio/sms", data=form, headers=headers, timeout=10)

    def outbox(self, number: str) -> list[dict]:
        response = requests.get(self.base_url + "/sandbox/outbox.json", params={"to": number})
        response.raise_for_status()
        return response.json()

    def messages(self, number: str, direction: str | None = None) -> list:
        """Return kanal's stored SMS messages with a number, oldest first."""
        with self.kanal.uow() as uow:
            contacts = uow.contacts.stale_open_on("sms", number)
            latest = uow.contacts.latest_on("sms", number)
            ids = {c.id for c in contacts} | ({latest.id} if latest else set())
            found = [copy(m) for cid in sorted(ids) for m in uow.messages.for_contact(cid)]
        return [m for m in found if direction is None or m.direction == direction]

    def message(self, message_id: int):
        """Return one stored message as it is now."""
        with self.kanal.uow() as uow:
            return copy(uow.messages.get(message_id))

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every inbound message is routed and no outbound one is on its way."""

        def quiet() -> bool:
            with self.kanal.uow() as uow:
                waiting = self.kanal.turns.inbox.waiting(_far_future(), limit=1)
                unrouted = uow.messages.unprocessed_inbound(_far_future(), limit=1)
                moving = uow.messages.due_outbound("sms", _far_future(), limit=1)
                sending = uow.messages.in_delivery_status(
                    "sms", ("sending_local",), _far_future(), limit=1
                )
            return not (waiting or unrouted or moving or sending)

        wait_for(quiet, timeout, "kanal to finish its turns")


def copy(obj):
    """Return a detached copy of a stored dataclass, readable after its session ends."""
    if obj is None:
        return None
    return type(obj)(**{f.name: getattr(obj, f.name) for f in fields(obj)})


def _far_future():
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(days=3650)


@pytest.fixture
def live(app_config, bot):
    """Serve kanal on a free local port in sandbox mode and yield a LiveKanal."""
    holder: dict = {}
    server = make_server(
        "127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True
    )
    base = f"http://127.0.0.1:{server.server_port}"
    config = {
        **app_config,
        "KANAL_PUBLIC_URL": base,
        "KANAL_TWILIO_SANDBOX": True,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": AGENCY,
        "KANAL_SANDBOX_CALLBACK_DELAY": 0.05,
    }
    app = create_app(config, bot=bot)
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    phone = TextingPhone(base, base, ACCOUNT, TOKEN, AGENCY)
    yield LiveKanal(app, base, phone)
    kanal_of(app).worker.stop()
    server.shutdown()
    thread.join(5)
    kanal_of(app).close()


def new_number() -> str:
    """Return a Danish mobile number no other test uses."""
    return "+452" + str(secrets.randbelow(10**7)).zfill(7)
