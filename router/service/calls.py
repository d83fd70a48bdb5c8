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
from datetime import datetime

from router.domain.calls import ENDED, INBOUND, Call, CallStatus
from router.domain.commands import ReceiveMessage
from router.domain.model import CLOSED_INACTIVE, Contact, ContactState
from router.service import contacts
from router.service.call_callbacks import CallbackBooker, CallbacksOnThePhone
from router.service.call_queue import CallerInQueue
from router.service.channels import Channels
from router.service.deflection import FollowUps, LinkByText
from router.service.delivery import Delivery
from router.service.journal import pseudonym_of
from router.service.settings import RouterSettings
from router.service.turn import Turns
from router.service.turn_result import TurnResult
from router.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


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
    surge: bool = False  # a surge rule decided (router/policy/surge.py)


class Calls(CallerInQueue, CallbacksOnThePhone, LinkByText):
    """The phone's front door to the core, beside `Turns`: the call's start, its turns and
    its end here; the queue (`call_queue.py`), callbacks (`call_callbacks.py`) and the
    texted link (`deflection.py`) in their own modules."""

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
            contact = contacts.open_contact(
                uow, self.phone, number, now, citizen=citizen,
                timezone=self.settings.business_hours.timezone,
            )  # fmt: skip
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
        surge = result.decision is not None and result.decision.surge
        return Spoken(action, open=is_open, said=said, waiting=waiting,
                      understood=result.understood is not False, result=result,
                      surge=surge)  # fmt: skip

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
            else:  # a contact on the phone channel without a call row (not answered here)
                contact.deflection_offered(now, need=result.need, route=self.sms, link=bool(link))
        waits = contact.state in (ContactState.QUEUED, ContactState.ASSIGNED)
        if call is not None and waits and action in (None, "assisted") and not call.has_ended:
            call.wait(self.queue_name(contact.id))

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
