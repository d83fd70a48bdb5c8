"""A reply survives the process that decided it: stored and claimed in the turn's transaction
(the outbox row, with a lease), it is sent once by the next dispatcher when the process dies
after the commit: sent if the provider never got it, recorded (and not sent again) if it did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from router.domain.model import DeliveryState, Message

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DIED = 17

# Builds kanal on the test's database with a sender that writes what it sends to a file
# (shared by every process: the provider's record), takes one SMS turn, and dies at once
# either when the turn's replies are to be handed to the sender (after the turn's commit,
# before anything was sent) or when the provider's answer is to be recorded (sent, never
# recorded). The dispatcher runs three minutes later, when the dead process' lease is over.
CHILD = textwrap.dedent(
    """
    import json, os, sys
    from datetime import UTC, datetime, timedelta
    from router import create_app
    from router.entrypoints.bootstrap import kanal_of
    from router.domain.commands import ReceiveMessage
    from router.service.delivery import Delivery
    from router.service.ports import SendResult
    from tests.fakes import ScriptedBot

    config, sent_file, what = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]

    class FileSender:
        def send(self, to, body, *, status_callback=None):
            sid = "SM" + os.urandom(16).hex()
            with open(sent_file, "a") as out:
                out.write(json.dumps([to, body, sid]) + "\\n")
            return SendResult("accepted", provider_id=sid, segments=1)

        def find_sent(self, to, body, since):
            if not os.path.exists(sent_file):
                return None
            with open(sent_file) as sent:
                for t, b, sid in map(json.loads, sent):
                    if (t, b) == (to, body):
                        return SendResult("accepted", provider_id=sid, segments=1)
            return None

    def die(*args, **kwargs):
        os._exit(EXIT_CODE)

    clock = None
    if what == "before_send":
        Delivery.send = die
    elif what == "after_send":
        Delivery._record = die
    else:
        clock = lambda: datetime.now(UTC) + timedelta(minutes=3)
    kanal = kanal_of(create_app(config, bot=ScriptedBot(), senders={"sms": FileSender()},
                                clock=clock))
    if clock is None:
        kanal.turns.take(kanal.turns.accept(
            ReceiveMessage(channel="sms", address="+4520009999", text="When is my pension paid?",
                           provider_id="SM-crash-1")))
    else:
        print(kanal.delivery.dispatch_due())
    """
).replace("EXIT_CODE", str(DIED))


def run(config: dict, sent: Path, what: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(config), str(sent), what],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("died", ["before_send", "after_send"])
def test_a_reply_whose_process_died_after_the_commit_is_sent_once(
    app_config, kanal, tmp_path, died
):
    config = {k: v for k, v in app_config.items() if k != "TESTING"}
    config["KANAL_TURN_WORKER"] = "process"  # the web process only acknowledges
    sent = tmp_path / "sent.jsonl"

    killed = run(config, sent, died)
    assert killed.returncode == DIED, killed.stderr
    if died == "before_send":
        assert not sent.exists(), "nothing may leave before the commit's side effects run"
    with kanal.uow() as uow:
        contact = uow.contacts.latest_on("sms", "+4520009999")
        replies = [m for m in uow.messages.for_contact(contact.id) if m.direction == "out"]
    # Claimed in the turn's transaction by the process that died, nothing recorded.
    assert [m.delivery_status for m in replies] == [DeliveryState.SENDING_LOCAL]

    restarted = run(config, sent, "dispatch")
    assert restarted.returncode == 0, restarted.stderr
    if died == "before_send":
        again = run(config, sent, "dispatch")
        assert again.returncode == 0, again.stderr
        assert (restarted.stdout.strip(), again.stdout.strip()) == ("1", "0")
    else:  # found at the provider: recorded, not sent
        assert restarted.stdout.strip() == "0"

    lines = [json.loads(line) for line in sent.read_text().splitlines()]
    assert [line[:2] for line in lines] == [["+4520009999", replies[0].text]]
    with kanal.uow() as uow:
        after: Message = uow.messages.get(replies[0].id)
        assert after.delivery_status == DeliveryState.QUEUED
        assert (after.provider_id, after.attempts) == (lines[0][2], 1)
