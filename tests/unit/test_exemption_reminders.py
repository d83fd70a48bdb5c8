"""Reminders before an exemption from digital-first ends (docs/domain.md §2.5): the
transition, once per end date, the days window, and the service on fakes."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from router.domain import events as ev
from router.domain.model import ContactEvent, Exemption, IllegalTransition
from router.service.exemption_reminders import long_date
from router.service.outbox import set_consent
from tests.fakes import fake_kanal

pytestmark = pytest.mark.unit

TODAY = date(2027, 3, 1)
NOW = datetime(2027, 3, 1, 9, 0)


def exemption(until: date | None, **kw) -> Exemption:
    return Exemption(citizen_id=1, ground="no_computer", valid_from=date(2025, 1, 1),
                     valid_until=until, id=7, **kw)  # fmt: skip


def test_the_window_counts_days_to_the_end_date_inclusive():
    assert exemption(TODAY + timedelta(days=30)).needs_reminder(TODAY, 30)
    assert exemption(TODAY).needs_reminder(TODAY, 30), "ends today: still reminded"
    assert not exemption(TODAY + timedelta(days=31)).needs_reminder(TODAY, 30)
    assert not exemption(TODAY - timedelta(days=1)).needs_reminder(TODAY, 30), "ended"
    assert not exemption(None).needs_reminder(TODAY, 30), "unlimited"
    not_yet = Exemption(citizen_id=1, ground="homeless", valid_from=TODAY + timedelta(days=2),
                        valid_until=TODAY + timedelta(days=10))  # fmt: skip
    assert not not_yet.needs_reminder(TODAY, 30), "not in force yet"


def test_remind_happens_once_per_end_date_with_the_pseudonymous_event_only():
    e = exemption(TODAY + timedelta(days=20))
    [happened] = e.remind(NOW, TODAY, 30, sent=True)
    assert happened.type == ev.EXEMPTION_REMINDED
    assert happened.data == {"exemption_id": 7, "ground": "no_computer",
                             "valid_until": "2027-03-21", "sent": True, "why": None}  # fmt: skip
    assert e.reminded_for == date(2027, 3, 21)
    with pytest.raises(IllegalTransition):
        e.remind(NOW, TODAY, 30, sent=True)
    e.valid_until = TODAY + timedelta(days=25)  # renewed with a new end date by the register
    assert e.needs_reminder(TODAY, 30)


def test_dates_read_as_a_citizen_reads_them():
    assert long_date(date(2027, 3, 21), "en") == "21 March 2027"
    assert long_date(date(2027, 3, 21), "da") == "21. marts 2027"


def _exempt(k, phone, until, *, language="en"):
    citizen = k.add_citizen(phone, language=language)
    with k.uow() as uow:
        uow.citizens.add_exemption(
            Exemption(
                citizen_id=citizen.id,
                ground="no_computer",
                valid_from=date(2024, 1, 1),
                valid_until=until,
            )  # fmt: skip
        )
        uow.commit()
    return citizen


def _reminded(k) -> list[ContactEvent]:
    return [e for e in k.store.all(ContactEvent) if e.type == ev.EXEMPTION_REMINDED]


def test_the_service_texts_once_in_the_citizens_language_and_respects_stop():
    k = fake_kanal()
    today = k.clock().date()
    soon = _exempt(k, "+4520004001", today + timedelta(days=20), language="da")
    _exempt(k, "+4520004002", today + timedelta(days=60))
    stopped = _exempt(k, "+4520004003", today + timedelta(days=10))
    with k.uow() as uow:
        set_consent(uow, "sms", "+4520004003", False, "STOP", k.clock())
        uow.commit()

    assert k.exemption_reminders.send_due() == 1
    assert k.exemption_reminders.send_due() == 0, "once per end date"
    [(to, body, _)] = k.sender.sent
    assert to == "+4520004001"
    assert body.startswith("Din fritagelse fra digital selvbetjening udløber den ")
    assert long_date(today + timedelta(days=20), "da") in body
    events = {e.citizen: e for e in _reminded(k)}
    assert set(events) == {soon.pseudonym, stopped.pseudonym}
    assert events[soon.pseudonym].data["sent"] is True
    assert events[stopped.pseudonym].data["sent"] is False
    assert events[stopped.pseudonym].data["why"] == "opted_out"
    assert "+4520004001" not in repr([e.data for e in _reminded(k)])


def test_a_citizen_renewed_already_is_not_texted():
    k = fake_kanal()
    today = k.clock().date()
    citizen = _exempt(k, "+4520004004", today + timedelta(days=5))
    with k.uow() as uow:
        uow.citizens.add_exemption(
            Exemption(
                citizen_id=citizen.id,
                ground="no_computer",
                valid_from=today + timedelta(days=6),
                valid_until=None,
            )  # fmt: skip
        )
        uow.commit()
    assert k.exemption_reminders.send_due() == 0
    assert k.sender.sent == []
    [event] = _reminded(k)
    assert event.data["why"] == "renewed"
