"""A callback asked for on the phone: booked through the callbacks service when one is wired
(the caller keeps their place), else promised on the contact, which waits in the queue
(`Calls` is made of this part)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from router.domain.model import ContactState
from router.service import contacts
from router.service.journal import pseudonym_of
from router.service.settings import RouterSettings
from router.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class CallbackBooker(Protocol):
    """The callbacks service (router/service/callbacks.py) as the phone uses it."""

    def book(self, contact_id: int, *, reason: str, at: datetime | None = None) -> int: ...

    def cancel_pending(self, contact_id: int) -> bool | None: ...


@dataclass(frozen=True)
class Booking:
    """A booked callback: when (None: as soon as an adviser is free) and whether open now."""

    ok: bool
    at: datetime | None
    open: bool


class CallbacksOnThePhone:
    """What the phone asks of the core about a callback."""

    uow: Callable[[], UnitOfWork]
    clock: Callable[[], datetime]
    settings: RouterSettings
    callbacks: CallbackBooker | None

    def cancel_callback(self, contact_id: int) -> bool:
        """The caller cancels the callback they booked before; False when it could not be
        (it is ringing now, or there is none)."""
        if self.callbacks is None:
            return False
        return bool(self.callbacks.cancel_pending(contact_id))

    def book(self, contact_id: int, call_sid: str, reason: str) -> Booking:
        """Book a callback: now-ish while open, else for the next opening; keep the place."""
        now = self.clock()
        hours = self.settings.business_hours
        is_open = hours.open_at(now)
        at = None if is_open else hours.next_opening(now)
        if self.callbacks is not None:
            try:
                callback_id = self.callbacks.book(contact_id, reason=reason, at=at)
            except Exception:
                log.exception("could not book a callback for contact %s", contact_id)
                return Booking(False, at, is_open)
            with self.uow() as uow:
                callback = uow.callbacks.get(callback_id)
            if callback is not None and callback.contact_id != contact_id:
                # Booked on an earlier call and still to be made: that one stands (the
                # caller is told its time), and this call's contact ends with the call.
                due = hours.next_opening(max(callback.not_before or now, now))
                return Booking(True, due if due > now else None, is_open)
            self._booked_callback(call_sid)
            return Booking(True, at, is_open)
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id, for_update=True)
            if contact is None or not contact.is_open:
                return Booking(False, at, is_open)
            pseudonym = pseudonym_of(uow, contact)
            if contact.state == ContactState.BOT:
                routing = self.settings.routing  # as other assisted work: by need and queue
                skill = routing.skill_for(contact.need)
                contacts.enqueue(uow, contact, skill, 0, now, pseudonym, routing=routing)
            contact.callback_promised(now, reason=reason, call_at=at.isoformat() if at else None)
            call = uow.calls.by_sid(call_sid)
            if call is not None:
                call.book_callback()
            uow.commit()
        return Booking(True, at, is_open)

    def _booked_callback(self, call_sid: str) -> None:
        with self.uow() as uow:
            call = uow.calls.by_sid(call_sid)
            if call is not None:
                call.book_callback()
                uow.commit()
