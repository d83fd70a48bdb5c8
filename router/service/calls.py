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
from router.domain.commands import ReceiveMessage
from router.domain.model import CLOSED_INACTIVE, Call, ContactState, Message
from router.service import contacts
from router.service.channels import Channels
from router.service.delivery import Delivery
from router.service.journal import pseudonym_of, record
from router.service.outbox import may_message
from router.service.settings import RouterSettings
from router.service.turn import TurnResult, Turns
from router.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

VOICE = "voice"
SMS = "sms"
# How long back the answer times of the queue are read for the wait estimate.
RECENT = timedelta(hours=1)
ENDED = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


class CallbackBooker(Protocol):
    """The callbacks service (router/service/callbacks.py) as the phone uses it."""

    def book(self, contact_id: int, *, reason: str, at: datetime | None = None) -> int: ...

    def cancel_pending(self, contact_id: int) -> bool | None: ...


class FollowUps(Protocol):
    """Follows up an accepted deflection: was the need completed digitally?"""

    def schedule(self, contact_id: int, need: str | None) -> None: ...


@dataclass(frozen=True)
class Answered:
    """A call as the flow starts it: its contact and what the register says of the caller."""

    contact_id: int
    known: bool
    language: str | None
    # A callback booked on an earlier call and still to be made: when it calls (None: as
    # soon as an adviser is free); see `callback_pending`.
    callback_at: datetime | None = None
    callback_pending: bool = False


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
    ) -> None:
        self.uow = uow
        self.turns = turns
        self.delivery = delivery
        self.channels = channels
        self.settings = settings
        self.clock = clock
        self.callbacks = callbacks
        self.followups = followups

    # -- the call starts -----------------------------------------------------------------

    def answer(self, call_sid: str, number: str) -> Answered:
        """Open the call's contact once (a retried webhook finds it again)."""
        now = self.clock()
        with self.uow() as uow:
            call = uow.calls.by_sid(call_sid)
            if call is not None and call.contact_id is not None:
                contact = uow.contacts.get(call.contact_id)
                citizen = uow.citizens.get(contact.citizen_id) if contact.citizen_id else None
                return self._pending(
                    uow, Answered(contact.id, citizen is not None, call.language), contact, now
                )
            citizen = uow.citizens.by_phone(number)
            contact = contacts.open_contact(uow, VOICE, number, now, citizen=citizen)
            language = citizen.language if citizen else None
            uow.calls.add(
                Call(
                    call_sid=call_sid,
                    direction="inbound",
                    status="in-progress",
                    started_at=now,
                    contact_id=contact.id,
                    language=language,
                )
            )
            uow.commit()
            return self._pending(uow, Answered(contact.id, citizen is not None, language),
                                 contact, now)  # fmt: skip

    def _pending(self, uow: UnitOfWork, answered: Answered, contact, now: datetime) -> Answered:  # noqa: ANN001
        """Add the callback the caller booked before and is still waiting for, if any."""
        found = uow.callbacks.pending_for(contact.citizen_id, VOICE, contact.address)
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
                call.language = language
                uow.commit()

    # -- turns ----------------------------------------------------------------------------

    def turn(
        self,
        contact_id: int,
        number: str,
        provider_id: str,
        text: str,
        *,
        confidence: float | None,
        input: str,
        language: str,
    ) -> TurnResult | None:
        """Take what the caller said (or pressed) through the turn: policy and bot."""
        metadata: dict = {"input": input, "language": language}
        if confidence is not None:
            metadata["confidence"] = round(confidence, 3)
        cmd = ReceiveMessage(
            channel=VOICE,
            address=number,
            text=text or "(nothing)",
            provider_id=provider_id,
            contact_id=contact_id,
            metadata=metadata,
        )
        result = self.turns.receive(cmd)
        decision = result.decision if result is not None else None
        if decision is not None and str(decision.action) == "offer_digital":
            self._offered(contact_id, provider_id.split(":")[0], result)
        return result

    def escalate(
        self, contact_id: int, provider_id: str, why: str, confidence: float | None = None
    ) -> TurnResult | None:
        """The phone could not hear or understand the caller twice: the policy hands over.

        The speech confidence Twilio gave what was last heard is recorded with the turn."""
        heard: dict = {"input": why}
        if confidence is not None:
            heard["confidence"] = round(confidence, 3)
        return self.turns.escalate(contact_id, f"({why.replace('_', ' ')})", provider_id, **heard)

    def _offered(self, contact_id: int, call_sid: str, result: TurnResult) -> None:
        now = self.clock()
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id)
            call = uow.calls.by_sid(call_sid)
            if call is not None:
                call.link = result.links[0][:500] if result.links else None
            record(
                uow, contact, ev.DEFLECTION_OFFERED, now, pseudonym_of(uow, contact),
                need=result.need, route=SMS, link=bool(result.links),
            )  # fmt: skip
            uow.commit()

    # -- the digital route by SMS --------------------------------------------------------

    def text_link(self, contact_id: int, call_sid: str, template: str) -> str:
        """Text the offered link through the SMS channel: sent, opted_out or no_link.

        `template` is the text in the caller's language, with `{link}` where the link goes.
        """
        now = self.clock()
        sms = self.channels[SMS]
        if sms.sender is None:
            return "no_link"
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id, for_update=True)
            call = uow.calls.by_sid(call_sid)
            if contact is None or call is None or not call.link:
                return "no_link"
            pseudonym = pseudonym_of(uow, contact)
            if not may_message(uow, sms, contact.address):
                record(uow, contact, ev.MESSAGE_BLOCKED, now, pseudonym, why="opted_out",
                       route=SMS)  # fmt: skip
                uow.commit()
                return "opted_out"
            body = template.format(link=call.link)
            message = uow.messages.add(
                Message(
                    channel=SMS,
                    direction="out",
                    author="system",
                    text=body,
                    created_at=now,
                    contact_id=contact.id,
                    address=contact.address,
                    delivery_status="pending",
                    processed=True,
                )
            )
            record(uow, contact, ev.DEFLECTION_ACCEPTED, now, pseudonym, need=contact.need,
                   route=SMS, message_id=message.id)  # fmt: skip
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
        """Note that the caller's audio waits in the contact's own Twilio queue."""
        with self.uow() as uow:
            call = uow.calls.by_sid(call_sid)
            if call is not None:
                call.status = "queued"
                call.queue_name = self.queue_name(contact_id)
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
            self._note(call_sid, "callback")
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
                call.queue_result = "callback"
            uow.commit()
        return Booking(True, at, is_open)

    def _note(self, call_sid: str, queue_result: str) -> None:
        with self.uow() as uow:
            call = uow.calls.by_sid(call_sid)
            if call is not None:
                call.queue_result = queue_result
                uow.commit()

    def connected(self, call_sid: str) -> None:
        """Record that an agent's leg has dequeued the caller (the caller hears "connected")."""
        with self.uow() as uow:
            call = uow.calls.by_sid(call_sid)
            if call is not None and call.ended_at is None and call.queue_result != "callback":
                call.queue_result = "bridged"
                uow.commit()

    def wait_ended(self, call_sid: str, result: str) -> None:
        """Record how the wait in the Twilio queue ended (the Enqueue action's QueueResult)."""
        with self.uow() as uow:
            call = uow.calls.by_sid(call_sid)
            if call is None:
                return
            if call.queue_result != "callback":
                call.queue_result = result[:24]
            # Hung up while waiting, with no callback booked: the caller abandoned the queue.
            call.status = "abandoned" if call.queue_result == "hangup" else "in-progress"
            uow.commit()

    # -- the call ends --------------------------------------------------------------------

    def ended(self, call_sid: str, status: str, seconds: int | None = None) -> bool:
        """Record how the call ended; False for a CallSid kanal never answered.

        A caller who hangs up while still with the bot ends that conversation; one who hangs
        up while waiting (without a booked callback) abandons their place in the queue.
        """
        now = self.clock()
        with self.uow() as uow:
            call = uow.calls.by_sid(call_sid)
            if call is None:
                return False
            if status not in ENDED:
                if call.status not in ENDED and call.status not in ("abandoned", "queued"):
                    call.status = status[:16]
                uow.commit()
                return True
            if call.ended_at is not None:  # told before (Twilio retries callbacks)
                return True
            call.ended_at = now
            # Still waiting when the call ended (no Enqueue action heard): abandoned too.
            waiting = call.status == "queued" and call.queue_result is None
            call.status = "abandoned" if call.status == "abandoned" or waiting else status[:16]
            contact = (
                uow.contacts.get(call.contact_id, for_update=True) if call.contact_id else None
            )
            if contact is not None:
                pseudonym = pseudonym_of(uow, contact)
                record(uow, contact, ev.CALL_ENDED, now, pseudonym, status=call.status,
                       queue_result=call.queue_result, seconds=seconds)  # fmt: skip
                keep = call.queue_result == "callback" or contact.state == ContactState.ASSIGNED
                if contact.is_open and not keep:
                    contacts.close(uow, contact, now, CLOSED_INACTIVE, pseudonym, digital=False)
            uow.commit()
            return True

    def language(self, call_sid: str) -> str | None:
        with self.uow() as uow:
            call = uow.calls.by_sid(call_sid)
            return call.language if call else None

    def call_for_contact(self, contact_id: int) -> Call | None:
        with self.uow() as uow:
            found = uow.calls.for_contact(contact_id)
            return found[-1] if found else None
