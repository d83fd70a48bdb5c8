"""Reminders before an exemption from digital-first ends, on SQLite and PostgreSQL, through
the Twilio sandbox (docs/domain.md §2.5): one SMS per end date in the citizen's language,
none outside the window, none to a number that opted out."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta

import pytest

from router.domain import events as ev
from router.domain.model import Citizen, ContactEvent, Exemption
from router.entrypoints import jobs
from router.service.exemption_reminders import long_date
from tests.integration import sms_support
from tests.integration.sms_support import new_number, wait_for

pytestmark = pytest.mark.integration

live = sms_support.live  # the running kanal these tests text


def exempt_citizen(kanal, phone: str, until: date, language: str = "en") -> str:
    """Register a citizen exempt until `until`; return their pseudonym."""
    with kanal.uow() as uow:
        citizen = uow.citizens.add(
            Citizen(pseudonym=secrets.token_hex(8), phone=phone, name="Test Citizen",
                    language=language, birth_year=1950, created_at=datetime.now(UTC))
        )  # fmt: skip
        uow.citizens.add_exemption(
            Exemption(
                citizen_id=citizen.id,
                ground="no_computer",
                valid_from=date(2024, 1, 1),
                valid_until=until,
                registered_by="test",
            )  # fmt: skip
        )
        uow.commit()
        return citizen.pseudonym


def reminded(kanal) -> dict[str, ContactEvent]:
    with kanal.uow() as uow:
        found = uow.session.query(ContactEvent).filter_by(type=ev.EXEMPTION_REMINDED).all()
        return {e.citizen: e for e in found}


def test_one_reminder_in_the_citizens_language_even_when_the_job_runs_twice(live):
    kanal = live.kanal
    today = kanal.clock().date()
    soon, later, stopped = new_number(), new_number(), new_number()
    danish = exempt_citizen(kanal, soon, today + timedelta(days=20), language="da")
    exempt_citizen(kanal, later, today + timedelta(days=60))
    opted_out = exempt_citizen(kanal, stopped, today + timedelta(days=20))
    live.text(stopped, "STOP")
    live.settle()
    stop_answers = len(live.outbox(stopped))

    jobs.remind_exemptions(kanal)
    jobs.remind_exemptions(kanal)
    wait_for(lambda: live.outbox(soon), what="the reminder")
    kanal.delivery.dispatch_due()
    live.settle()

    [sms] = live.outbox(soon)
    assert sms["body"].startswith("Din fritagelse fra digital selvbetjening udløber den ")
    assert long_date(today + timedelta(days=20), "da") in sms["body"]
    assert live.outbox(later) == []
    assert len(live.outbox(stopped)) == stop_answers, "no reminder after STOP"
    events = reminded(kanal)
    assert set(events) == {danish, opted_out}
    assert events[danish].data["sent"] is True
    assert events[opted_out].data["sent"] is False
    assert events[opted_out].data["why"] == "opted_out"
