"""A process killed between a turn's commit and its side effects loses none of them.

A citizen offered a callback by SMS (a deflection follow-up) replies CALL. The SMS webhook
stores the reply in the inbox; its turn books the callback, accepts the follow-up and writes
the confirmation, claimed for sending, in one transaction. The process is killed (SIGKILL)
right after that commit, before the callback's job is written and before the confirmation is
sent. A new process runs the scheduler's jobs (twice) once the dead process' claim has run
out (three minutes later): the callback gets its job, and the confirmation is sent exactly
once. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from router.adapters.db import create_all
from router.adapters.durable_jobs import TABLE
from router.domain.followups import Followup, FollowupState
from router.domain.model import Citizen, Contact, ContactState
from router.entrypoints.bootstrap import kanal_of
from router.service.followups import BOOKED

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PHONE = "+4520007001"
PUBLIC = "http://127.0.0.1:9"

# Builds kanal as every process does, with an SMS sender that writes what it sends to a file.
PROCESS = textwrap.dedent(
    """
    import json, os, signal, sys, uuid
    from datetime import UTC, datetime, timedelta
    from router import create_app
    from router.entrypoints import jobs
    from router.entrypoints.bootstrap import kanal_of
    from router.service.ports import SendResult
    from router.service.turn import Turns

    config, sent, role = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]

    class FileSender:  # what it sent is the provider's record too
        def send(self, to, body, *, status_callback=None):
            with open(sent, "a") as out:
                out.write(json.dumps([to, body]) + "\\n")
            return SendResult("accepted", provider_id="SM" + uuid.uuid4().hex, segments=1)

        def find_sent(self, to, body, since):
            if os.path.exists(sent) and [to, body] in map(json.loads, open(sent)):
                return SendResult("accepted", provider_id="SM-found", segments=1)
            return None

    later = None if role == "reply" else lambda: datetime.now(UTC) + timedelta(minutes=3)
    app = create_app(config, senders={"sms": FileSender()}, clock=later)
    kanal = kanal_of(app)
    if role == "reply":
        from channels.twilio_signature import sign

        def killed(self, result):  # the process dies right after the turn's commit
            os.kill(os.getpid(), signal.SIGKILL)

        Turns._send = killed
        form = {"MessageSid": "SMcrash1", "From": sys.argv[4], "Body": "CALL",
                "To": "+4570000000"}
        signature = sign(config["KANAL_PUBLIC_URL"] + "/twilio/sms", form,
                         app.config["TWILIO_AUTH_TOKEN"])
        answer = app.test_client().post("/twilio/sms", data=form,
                                        headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200, answer.status_code
        [(entry_id, _)] = kanal.turns.inbox.waiting(kanal.clock())
        kanal.turns.take(entry_id)
        raise SystemExit("not killed")
    for _ in range(2):  # the scheduler's jobs, run twice: nothing is done twice
        jobs.finish_left_turns(kanal)
        jobs.dispatch_outbound(kanal)
        jobs.schedule_callbacks(kanal)
    kanal.close()
    """
)


def run(config: dict, sent: Path, role: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PROCESS, json.dumps(config), str(sent), role, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


@pytest.fixture
def offered(database_url, tmp_path):
    """A citizen whose deflection follow-up offered a callback by SMS; kanal's config."""
    config = {
        "KANAL_DATABASE_URL": database_url,
        "KANAL_INSTANCE_PATH": str(tmp_path),
        "KANAL_PUBLIC_URL": PUBLIC,
        "KANAL_TWILIO_SANDBOX_URL": PUBLIC + "/sandbox/twilio",
        "KANAL_TURN_WORKER": "process",
        "KANAL_ALWAYS_OPEN": True,
        "KANAL_LOG_LEVEL": "WARNING",
    }
    from router import create_app

    kanal = kanal_of(create_app(config))
    create_all(kanal.engine)
    with kanal.engine.begin() as db:  # the job store is no table of kanal's own metadata
        if inspect(db).has_table(TABLE):
            db.execute(text(f"DELETE FROM {TABLE}"))
    now = datetime.now(UTC)
    with kanal.uow() as uow:
        citizen = uow.citizens.add(
            Citizen(pseudonym="c_crash", phone=PHONE, birth_year=1950, created_at=now)
        )
        closed = {"state": ContactState.CLOSED, "closed_at": now, "need": "pension",
                  "citizen_id": citizen.id, "opened_at": now, "last_activity_at": now}  # fmt: skip
        deflected = uow.contacts.add(Contact(channel="voice", address=PHONE, **closed))
        offer = uow.contacts.add(Contact(channel="sms", address=PHONE, **closed))
        uow.followups.add(
            Followup(contact_id=deflected.id, citizen_id=citizen.id, need="pension",
                     due_at=now, scheduled_at=now, state=FollowupState.OFFERED,
                     offered_at=now, offer_contact_id=offer.id)
        )  # fmt: skip
        uow.commit()
    kanal.close()
    return config


def test_a_reply_killed_after_its_commit_still_books_its_job_and_sends_once(offered, tmp_path):
    sent = tmp_path / "sent.jsonl"
    engine = create_engine(offered["KANAL_DATABASE_URL"])

    killed = run(offered, sent, "reply", PHONE)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    with engine.connect() as db:
        [(callback_id, state)] = db.execute(text("SELECT id, state FROM callbacks")).all()
        assert state == "booked"
        assert db.execute(text("SELECT state FROM followups")).scalar() == "accepted"
        waiting = db.execute(
            text("SELECT delivery_status FROM messages WHERE direction = 'out'")
        ).scalar()
        assert waiting == "sending_local", "the confirmation waits in the outbox, claimed"
        logged = set(db.execute(text("SELECT type FROM contact_events")).scalars())
        assert {"callback_booked", "followup_accepted"} <= logged
    assert not sent.exists(), "killed before sending"

    restarted = run(offered, sent, "scheduler")
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    assert [json.loads(line) for line in sent.read_text().splitlines()] == [[PHONE, BOOKED["en"]]]
    with engine.connect() as db:
        jobs = db.execute(text(f"SELECT id FROM {TABLE}")).scalars().all()
        # A job is its key and its time: written again, it is one more row (each checks).
        assert any(job.startswith(f"callback-{callback_id}@") for job in jobs), jobs
    engine.dispose()
