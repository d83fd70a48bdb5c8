"""What the scheduler fault tests share: a migrated database whose deflection follow-ups fall
due at once, the environment `kanal scheduler` runs in against a fake Twilio, and follow-ups
booked on it (each a durable job that texts the citizen one offer of a callback)."""

from __future__ import annotations

from datetime import UTC, datetime

from router import create_app
from router.config import from_env
from router.domain.channels import VOICE
from router.entrypoints.bootstrap import kanal_of
from router.entrypoints.container import Kanal
from router.service.contacts import open_contact
from tests.fakes import ScriptedBot
from tests.faults.support import KANAL, FakeTwilio, kanal_env, run_quietly


def scheduler_kanal(
    database_url: str, tmp_path, twilio: FakeTwilio, log_level: str = "warning"
) -> tuple[dict[str, str], Kanal]:
    """Migrate the database; return the schedulers' environment and a kanal on it."""
    env = kanal_env(
        KANAL_INSTANCE_PATH=tmp_path,
        KANAL_DATABASE_URL=database_url,
        KANAL_RASA_URL="http://127.0.0.1:9",
        KANAL_PUBLIC_URL="http://127.0.0.1:9",
        KANAL_TWILIO_SANDBOX="1",
        KANAL_TWILIO_SANDBOX_URL=twilio.url,
        KANAL_DEFLECTION_FOLLOWUP_HOURS="0",  # due at once
        KANAL_SECRET_KEY="faults",
        KANAL_LOG_LEVEL=log_level,
    )
    upgraded = run_quietly([str(KANAL), "db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    kanal = kanal_of(create_app(from_env({**env, "KANAL_ALWAYS_OPEN": "1"}), bot=ScriptedBot()))
    return env, kanal


def book_followups(kanal: Kanal, first: int, count: int, prefix: str) -> dict[int, str]:
    """Book `count` follow-ups due at once, for callers `prefix` + a six-digit number from
    `first`; return each follow-up's id with its citizen's number."""
    now = datetime.now(UTC)
    with kanal.uow() as uow:
        phones = [f"{prefix}{n:06d}" for n in range(first, first + count)]
        contacts = [(open_contact(uow, VOICE, phone, now), phone) for phone in phones]
        uow.commit()
        ids = [(contact.id, phone) for contact, phone in contacts]
    return {kanal.followups.schedule(contact_id, "payment_date"): p for contact_id, p in ids}
