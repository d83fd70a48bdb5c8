"""A reply survives the process that decided it: stored pending in the turn's transaction (the
outbox row), it is sent once by the next dispatcher when the process dies after the commit."""

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
# (shared by every process), takes one SMS turn, and dies at once when the turn's replies
# are to be handed to the sender: after the turn's commit, before anything was sent.
CHILD = textwrap.dedent(
    """
    import json, os, sys
    from router import create_app
    from router.bootstrap import kanal_of
    from router.domain.commands import ReceiveMessage
    from router.service.delivery import Delivery
    from router.service.ports import SendResult
    from tests.fakes import ScriptedBot

    config, sent_file, die = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3] == "die"

    class FileSender:
        def send(self, to, body, *, status_callback=None):
            with open(sent_file, "a") as out:
                out.write(json.dumps([to, body]) + "\\n")
            return SendResult("accepted", provider_id="SM" + os.urandom(16).hex(), segments=1)

    if die:
        Delivery.deliver_now = lambda self, ids: os._exit(EXIT_CODE)
    kanal = kanal_of(create_app(config, bot=ScriptedBot(), senders={"sms": FileSender()}))
    if die:
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


def test_a_reply_whose_process_died_after_the_commit_is_sent_once_by_the_next(
    app_config, kanal, tmp_path
):
    config = {k: v for k, v in app_config.items() if k != "TESTING"}
    config["KANAL_TURN_WORKER"] = "process"  # the web process only acknowledges
    sent = tmp_path / "sent.jsonl"

    died = run(config, sent, "die")
    assert died.returncode == DIED, died.stderr
    assert not sent.exists(), "nothing may leave before the commit's side effects run"
    with kanal.uow() as uow:
        contact = uow.contacts.latest_on("sms", "+4520009999")
        replies = [m for m in uow.messages.for_contact(contact.id) if m.direction == "out"]
    assert [m.delivery_status for m in replies] == [DeliveryState.PENDING]

    restarted = run(config, sent, "dispatch")
    assert restarted.returncode == 0, restarted.stderr
    again = run(config, sent, "dispatch")
    assert again.returncode == 0, again.stderr
    assert (restarted.stdout.strip(), again.stdout.strip()) == ("1", "0")

    lines = [json.loads(line) for line in sent.read_text().splitlines()]
    assert lines == [["+4520009999", replies[0].text]]
    with kanal.uow() as uow:
        after: Message = uow.messages.get(replies[0].id)
        assert after.delivery_status == DeliveryState.QUEUED
        assert after.attempts == 1
