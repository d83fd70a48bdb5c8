"""Phone calls: what the voice channel asks of the core besides the turn itself.

A call is one contact: it is opened when the call is answered (the caller identified by
number from the register), every input goes through `Turns` with the contact's id, and the
call's row (`calls`, by CallSid) remembers the link offered and how the call ended. The
digital route is texted through the SMS channel (its sender and its consent: never to a
number that sent STOP); callbacks are booked through the callbacks service when one is wired
(`callbacks.book(contact_id, reason=…, at=…)`), else recorded as `callback_scheduled` with the
contact kept in the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from router.domain import events as ev
from router.domain.calls import ENDED, INBOUND, Call, CallStatus
from router.domain.commands import ReceiveMessage
from router.domain.model import CLOSED_INACTIVE, Contact, ContactState, DeliveryState, Message
from router.service import contacts
from router.service.channels import Channels
from router.service.delivery import Delivery
from router.service.journal import pseudonym_of, record, write_new_events
from router.service.outbox import may_message
from router.service.settings import RouterSettings
from router.service.turn import Turns
from router.service.turn_result import TurnResult
from router.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# How long back the answer times of the queue are read for the wait estimate.
RECENT = timedelta(hours=1)


class CallbackBooker(Protocol):
    """The callbacks service (router/service/callbacks.py) as the phone uses it."""

    def book(self, contact_id: int, *, reason: str, at: datetime | None = None) -> int: ...

    def cancel_pending(self, contact_id: int) -> bool | None: ...


class FollowUps(Protocol):
    """Follows up an accepted deflection: was the need completed digitally?"""

    def schedule(self, contact_id: int, need: str | None) -> None: ...


@dataclass(frozen=True)
class CallAnswered:
    """A call as the flow starts it: its contact and what the register says of the caller."""

    contact_id: int
    known: bool
    language: str | None
    # A callback booked on an earlier call and still to be made: when it calls (None: as
    # soon as an adviser is free); see `callback_pending`.
    callback_at: datetime | None = None
    callback_pending: bool = False


@dataclass(frozen=True)
class Input:
    """One input of a call: the call, and how many inputs it has had (unique per input)."""

    call_sid: str
    n: int

    @property
    def provider_id(self) -> str:
        return f"{self.call_sid}:{self.n}"


@dataclass(frozen=True)
class Spoken:
    """What a phone turn came to, as the call flow reads it.

    `action` is the policy's (None: no decision was made: the contact is with people, or
    has ended); `waiting`: the contact waits for, or is with, a person; `open`: people
    answer now; `again`: the provider sent the same input twice (nothing was decided).
    """

    action: str | None
    open: bool
    said: tuple[str, ...] = ()
    waiting: bool = False
    understood: bool = True
    again: bool = False
    result: TurnResult | None = None


@dataclass(frozen=True)
class Place:
    """Where a waiting caller stands in kanal's queue."""

    position: int  # 1 = next
    wait_seconds: int
    waiting: bool  # False: a person has taken the contact (or it has ended)


@dataclass(frozen=True)
class Booking:
    """A booked callback: when (None: as soon as an adviser is free) and whether open now."""

    ok: bool
    at: datetime | None
    open: bool


class Calls:
    """The phone's front door to the core, beside `Turns`."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        turns: Turns,
        delivery: Delivery,
        channels: Channels,
        settings: RouterSettings,
        clock: Callable[[], datetime],
        *,
        callbacks: CallbackBooker | None = None,
        followups: FollowUps | None = None,
        phone: str,
        sms: str,
    ) -> None:
        self.uow = uow
        self.turns = turns
        self.delivery = delivery
        self.channels = channels
        self.settings = settings
        self.clock = clock
        self.callbacks = callbacks
        self.followups = followups
        self.phone = phone  # the phone channel's name
        self.sms = sms  # the channel the digital route is texted through
        turns.finish_with(phone, self._finished)

    # -- the call starts -----------------------------------------------------------------

    def answer(self, call_sid: str, number: str) -> CallAnswered:
        """Open the call's contact once (a retried webhook finds it again)."""
        now = self.clock()
        with self.uow() as uow:
            call = uow.calls.by_sid(call_sid)
            if call is not None and call.contact_id is not None:
                contact = uow.contacts.get(call.contact_id)
                citizen = uow.citizens.get(contact.citizen_id) if contact.citizen_id else None
                known = CallAnswered(contact.id, citizen is not None, call.language)
                return self._pending(uow, known, contact, now)
            citizen = uow.citizens.by_phone(number)
            contact = contacts.open_contact(uow, self.phone, number, now, citizen=citizen)
            language = citizen.language if citizen else None
            uow.calls.add(Call.answered(call_sid, contact.id, language, now))
            uow.commit()
            answered = CallAnswered(contact.id, citizen is not None, language)
            return self._pending(uow, answered, contact, now)

    def _pending(
        self, uow: UnitOfWork, answered: CallAnswered, contact: Contact, now: datetime
    ) -> CallAnswered:
        """Add the callback the caller booked before and is still waiting for, if any."""
        found = uow.callbacks.pending_for(contact.citizen_id, self.phone, contact.address)
        if found is None or found.contact_id == contact.id:
            return answered
        due = self.settings.business_hours.next_opening(max(found.not_before or now, now))
        return replace(answered, callback_at=due if due > now else None, callback_pending=True)

    def cancel_callback(self, contact_id: int) -> bool:
        """The caller cancels the callback they booked before; False when it could not be
        (it is ringing now, or there is none)."""
        if self.callbacks is None:
            return False
        return bool(self.callbacks.cancel_pending(contact_id))

    def choose_language(self, call_sid: str, language: str) -> None:
        """Remember the language the caller chose."""
        with self.uow() as uow:
            call = uow.calls.by_sid(call_sid)
            if call is not None and call.language != language:
                call.speak(language)
                uow.commit()

    # -- turns ----------------------------------------------------------------------------

    def turn(
        self,
        contact_id: int,
        number: str,
        heard: Input,
        text: str,
        *,
        confidence: float | None,
        input: str,
        language: str,
    ) -> Spoken:
        """Take what the caller said (or pressed) through the turn: policy and bot."""
        metadata: dict = {"input": input, "language": language}
        if confidence is not None:
            metadata["confidence"] = round(confidence, 3)
        cmd = ReceiveMessage(
            channel=self.phone,
            address=number,
            text=text or "(nothing)",
            provider_id=heard.provider_id,
            contact_id=contact_id,
            metadata=metadata,
        )
        return self._spoken(self.turns.receive(cmd))

    def escalate(
        self, contact_id: int, heard: Input, why: str, confidence: float | None = None
    ) -> Spoken:
        """The phone could not hear or understand the caller twice: the policy hands over.

        The speech confidence Twilio gave what was last heard is recorded with the turn."""
        data: dict = {"input": why}
        if confidence is not None:
            data["confidence"] = round(confidence, 3)
        text = f"({why.replace('_', ' ')})"
        return self._spoken(
            self.turns.escalate(contact_id, text, f"{heard.provider_id}:{why}", **data)
        )

    def _spoken(self, result: TurnResult | None) -> Spoken:
        is_open = self.settings.business_hours.open_at(self.clock())
        if result is None:  # the provider sent the same input again
            return Spoken(None, open=is_open, again=True)
        action = str(result.decision.action) if result.decision is not None else None
        said = tuple(m.text for m in result.replies if m.author == "bot")
        waiting = result.state in (ContactState.QUEUED, ContactState.ASSIGNED)
        return Spoken(action, open=is_open, said=said, waiting=waiting,
                      understood=result.understood is not False, result=result)  # fmt: skip

    def _finished(
        self,
        uow: UnitOfWork,
        contact: Contact,
        result: TurnResult,
        now: datetime,
        pseudonym: str | None,
    ) -> None:
        """The call's part of a phone turn, in the turn's last transaction: the digital
        route offered on the call; the call waiting in its queue for a person."""
        calls = [c for c in uow.calls.for_contact(contact.id) if c.direction == INBOUND]
        call = calls[-1] if calls else None
        action = str(result.decision.action) if result.decision is not None else None
        if action == "offer_digital":
            link = result.links[0] if result.links else None
            if call is not None:
                call.offer(link, need=result.need, route=self.sms, now=now)
                # Journaled now: the turn commits after this returns, when nothing holds
                # the call (the session keeps clean objects only weakly).
                write_new_events(uow)
            else:  # a contact on the phone channel without a call row (not answered here)
                record(uow, contact, ev.DEFLECTION_OFFERED, now, pseudonym,
                       need=result.need, route=self.sms, link=bool(link))  # fmt: skip
        waits = contact.state in (ContactState.QUEUED, ContactState.ASSIGNED)
        if call is not None and waits and action in (None, "assisted") and not call.has_ended:
            call.wait(self.queue_name(contact.id))

    # -- the digital route by SMS --------------------------------------------------------

    def text_link(self, contact_id: int, call_sid: str, template: str) -> str:
        """Text the offered link through the SMS channel: sent, opted_out or no_link.

        `template` is the text in the caller's language, with `{link}` where the link goes.
        """
        now = self.clock()
        sms = self.channels[self.sms]
        if sms.sender is None:
            return "no_link"
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id, for_update=True)
            call = uow.calls.by_sid(call_sid)
            if contact is None or call is None or not call.link:
                return "no_link"
            pseudonym = pseudonym_of(uow, contact)
            if not may_message(uow, sms, contact.address):
                call.link_blocked(route=sms.name, now=now)
                uow.commit()
                return "opted_out"
            body = template.format(link=call.link)
            message = uow.messages.add(
                Message(
                    channel=sms.name,
                    direction="out",
                    author="system",
                    text=body,
                    created_at=now,
                    contact_id=contact.id,
                    address=contact.address,
                    delivery_status=DeliveryState.PENDING,
                    processed=True,
                )
            )
            call.link_texted(need=contact.need, route=sms.name, message_id=message.id, now=now)
            claims = self.delivery.claim_new(uow, contact, pseudonym, [message])
            need = contact.need
            uow.commit()
        self.delivery.send(claims)
        if self.followups is not None:
            try:
                self.followups.schedule(contact_id, need)
            except Exception:  # the caller got the link; a follow-up is best effort
                log.exception("could not schedule the follow-up of contact %s", contact_id)
        return "sent"

    # -- the queue ------------------------------------------------------------------------

    def queue_name(self, contact_id: int) -> str:
        return f"contact-{contact_id}"

    def enqueued(self, call_sid: str, contact_id: int) -> None:
        """Note that the caller's audio waits in the contact's own Twilio queue (the turn
        that put the contact in the queue has noted it already, most often)."""
        name = self.queue_name(contact_id)
        with self.uow() as uow:
            call = uow.calls.by_sid(call_sid)
            if call is not None and not call.waits_in(name):
                call.wait(name)
                uow.commit()

    def place(self, contact_id: int) -> Place:
        """Return the caller's position in kanal's queue and the wait estimated from how
        fast agents took contacts in the last hour (the average handle time until then)."""
        now = self.clock()
        with self.uow() as uow:
            waiting = uow.queue.waiting(limit=1000)
            answered = uow.queue.answered_since(now - RECENT)
        ids = [item.contact_id for item in waiting]
        if contact_id not in ids:
            return Place(1, 0, False)
        position = ids.index(contact_id) + 1
        if len(answered) >= 2:
            span = (answered[-1] - answered[0]).total_seconds()
            every = span / (len(answered) - 1)
        else:
            every = self.settings.average_handle_seconds
        return Place(position, int(position * every), True)

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
                contacts.enqueue(uow, contact, "general", 0, now, pseudonym)
            record(uow, contact, ev.CALLBACK_SCHEDULED, now, pseudonym, reason=reason,
                   call_at=at.isoformat() if at else None)  # fmt: skip
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

    def connected(self, call_sid: str) -> None:
        """Record that an agent's leg has dequeued the caller (the caller hears "connected")."""
        with self.uow() as uow:
            call = uow.calls.by_sid(call_sid)
            if call is not None and call.bridge():
                uow.commit()

    def wait_ended(self, call_sid: str, result: str) -> None:
        """Record how the wait in the Twilio queue ended (the Enqueue action's QueueResult)."""
        with self.uow() as uow:
            call = uow.calls.by_sid(call_sid)
            if call is None:
                return
            # Hung up while waiting, with no callback booked: the caller abandoned the queue.
            call.wait_ended(result)
            uow.commit()

    # -- the call ends --------------------------------------------------------------------

    def ended(self, call_sid: str, status: str, seconds: int | None = None) -> bool:
        """Record how the call ended; False for a CallSid kanal never answered.

        A caller who hangs up while still with the bot ends that conversation; one who hangs
        up while waiting (without a booked callback) abandons their place in the queue.
        """
        now = self.clock()
        reported = CallStatus.of(status)
        with self.uow() as uow:
            call = uow.calls.by_sid(call_sid)
            if call is None:
                return False
            if reported not in ENDED:
                if reported is not None:
                    call.progress(reported)
                uow.commit()
                return True
            if not call.end(reported, now, seconds):  # told before (Twilio retries callbacks)
                return True
            contact = (
                uow.contacts.get(call.contact_id, for_update=True) if call.contact_id else None
            )
            if contact is not None:
                pseudonym = pseudonym_of(uow, contact)
                keep = call.keeps_contact or contact.state == ContactState.ASSIGNED
                if contact.is_open and not keep:
                    contacts.close(uow, contact, now, CLOSED_INACTIVE, pseudonym, digital=False)
            uow.commit()
            return True

    def call_for_contact(self, contact_id: int) -> Call | None:
        with self.uow() as uow:
            found = uow.calls.for_contact(contact_id)
            return found[-1] if found else None
