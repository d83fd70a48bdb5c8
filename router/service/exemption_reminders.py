"""Reminders before an exemption from digital-first ends (docs/domain.md §2.5).

A citizen registered as exempt is served by person first until the exemption's end date;
after it, digital-first applies again. So that nobody is moved to digital service without
warning, the scheduler's `send_due` texts each citizen whose exemption ends within the
reminder window (KANAL_EXEMPTION_REMINDER_DAYS) once per end date: what ends, when, and how
to renew, in the citizen's language. The text is the agency's message in a conversation of
its own (opened and closed at once, as a follow-up's offer), stored pending in the
transaction that decides it and sent after the commit. A number that opted out (STOP) is not
texted; a citizen with another exemption in force the day after, or without a phone number,
is not texted either. Each case is recorded (`exemption_reminded`, with why it was not sent),
so the reminder is decided once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from router.domain.model import (
    Citizen,
    Contact,
    ContactState,
    DeliveryState,
    Exemption,
)
from router.service.channels import Channels
from router.service.delivery import Claim, Delivery
from router.service.journal import record_for_citizen
from router.service.outbox import say
from router.service.translations import N_, translator
from router.service.unit_of_work import UnitOfWork

REMINDER = N_(
    "Your exemption from digital self-service ends on {date}. After that we will offer you "
    "our digital services first. To renew it, call us on {phone} before {date}. "
    "Reply STOP to stop messages."
)
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "da": ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
           "september", "oktober", "november", "december"),
}  # fmt: skip


def long_date(day: date, language: str) -> str:
    """Return a date as a citizen reads it: "31 January 2027", "31. januar 2027"."""
    if language == "da":
        return f"{day.day}. {MONTHS['da'][day.month - 1]} {day.year}"
    return f"{day.day} {MONTHS['en'][day.month - 1]} {day.year}"


class ExemptionReminders:
    """Text exempt citizens before their exemption ends, once per end date."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        channels: Channels,
        delivery: Delivery,
        clock: Callable[[], datetime],
        *,
        days: int,
        timezone: str,
        agency_phone: str,
        sms_channel: str,
    ) -> None:
        self.uow = uow
        self.channels = channels
        self.delivery = delivery
        self.clock = clock
        self.days = days
        self.zone = ZoneInfo(timezone)
        self.agency_phone = agency_phone
        self.sms_channel = sms_channel

    def send_due(self, limit: int = 200) -> int:
        """Decide the reminder of every exemption due one; return how many were texted.

        Each exemption is decided in its own transaction, locked, so two runs at once
        text nobody twice.
        """
        now = self.clock()
        today = now.astimezone(self.zone).date()
        with self.uow() as uow:
            due = [e.id for e in uow.citizens.exemptions_to_remind(today, self.days, limit)]
        texted = 0
        for exemption_id in due:
            with self.uow() as uow:
                claims = self._remind(uow, exemption_id, now, today)
                uow.commit()
            texted += bool(claims)
            self.delivery.send(claims)
        return texted

    def _remind(
        self, uow: UnitOfWork, exemption_id: int, now: datetime, today: date
    ) -> tuple[Claim, ...]:
        exemption = uow.citizens.exemption(exemption_id, for_update=True)
        if exemption is None or not exemption.needs_reminder(today, self.days):
            return ()  # decided by another run meanwhile
        citizen = uow.citizens.get(exemption.citizen_id)
        channel = self.channels[self.sms_channel]
        if _still_exempt_after(uow, exemption):
            return self._not_sent(uow, exemption, citizen, now, today, "renewed")
        if citizen is None or not citizen.phone or channel.sender is None:
            return self._not_sent(uow, exemption, citizen, now, today, "no phone number")
        contact = uow.contacts.add(
            Contact(
                channel=channel.name, address=citizen.phone, opened_at=now,
                # The agency's message, not a citizen's contact: it opens and closes at once.
                state=ContactState.CLOSED, closed_at=now, citizen_id=citizen.id,
                last_activity_at=now,
            )
        )  # fmt: skip
        language = citizen.language or "en"
        _ = translator(language)
        when = long_date(exemption.valid_until, language)
        text = _(REMINDER).format(date=when, phone=self.agency_phone)
        message = say(uow, contact, channel, "system", text, now)
        sent = message.delivery_status == DeliveryState.PENDING
        exemption.remind(now, today, self.days, sent=sent, why=None if sent else "opted_out")
        record_for_citizen(uow, exemption, channel=channel.name, contact_id=contact.id,
                           pseudonym=citizen.pseudonym, at=now)  # fmt: skip
        if not sent:
            return ()
        return self.delivery.claim_new(uow, contact, citizen.pseudonym, [message])

    def _not_sent(
        self, uow: UnitOfWork, exemption: Exemption, citizen: Citizen | None,
        now: datetime, today: date, why: str,
    ) -> tuple[Claim, ...]:  # fmt: skip
        exemption.remind(now, today, self.days, sent=False, why=why)
        pseudonym = citizen.pseudonym if citizen else None
        record_for_citizen(uow, exemption, channel=self.sms_channel, contact_id=None,
                           pseudonym=pseudonym, at=now)  # fmt: skip
        return ()


def _still_exempt_after(uow: UnitOfWork, exemption: Exemption) -> bool:
    """Return True when another exemption of the citizen is in force the day after it ends."""
    after = exemption.valid_until + timedelta(days=1)
    return any(
        other.id != exemption.id and other.is_valid_on(after)
        for other in uow.citizens.exemptions(exemption.citizen_id)
    )
