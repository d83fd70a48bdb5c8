"""The desk's actions on callbacks: staff call a failed callback again or close it with a
note; an agent calls a citizen back now, or connects their own leg to a queued caller.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from router.domain.callbacks import Callback, CallbackState
from router.domain.model import CLOSED_RESOLVED, ContactState
from router.service import contacts
from router.service.dialling import Dialling
from router.service.errors import Conflict, NotFound
from router.service.journal import pseudonym_of
from router.service.ports import CallResult
from router.service.unit_of_work import UnitOfWork


class CallbackDesk:
    """What staff do with callbacks at the desk."""

    def __init__(
        self, uow: Callable[[], UnitOfWork], dialling: Dialling, clock: Callable[[], datetime]
    ) -> None:
        self.uow = uow
        self.dialling = dialling
        self.callbacks = dialling.callbacks
        self.clock = clock

    def failed(self, limit: int = 200) -> list[Callback]:
        """Return the callbacks whose attempts are used up, oldest first."""
        with self.uow() as uow:
            return uow.callbacks.in_states((CallbackState.FAILED,), limit)

    def contact_of(self, callback_id: int) -> int | None:
        """Return the contact a callback was booked on; None when there is no such callback."""
        with self.uow() as uow:
            callback = uow.callbacks.get(callback_id)
            return callback.contact_id if callback is not None else None

    def for_contact(self, contact_id: int) -> list[Callback]:
        """Return the contact's callbacks, oldest first."""
        return self.callbacks.for_contact(contact_id)

    def call_again(self, callback_id: int, by: int) -> None:
        """Staff book a failed callback again: a new round of attempts, from now."""
        now = self.clock()
        with self.uow() as uow:
            callback = self._failed(uow, callback_id)
            contact = uow.contacts.get(callback.contact_id, for_update=True)
            if not contact.is_open:
                raise Conflict("The contact is closed; book a new callback from a new call.")
            callback.call_again(now, by)
            uow.commit()
        self.callbacks.schedule(callback_id, now)

    def close(self, callback_id: int, by: int, note: str) -> None:
        """Staff close a failed callback with a note; its contact closes too."""
        note = note.strip()
        if not note:
            raise Conflict("Write a note saying why the callback is closed.")
        now = self.clock()
        with self.uow() as uow:
            callback = self._failed(uow, callback_id)
            contact = uow.contacts.get(callback.contact_id, for_update=True)
            pseudonym = pseudonym_of(uow, contact)
            callback.close(now, by="staff", note=note[:2000], closed_by=by)
            if contact.is_open:
                contacts.close(
                    uow, contact, now, CLOSED_RESOLVED, pseudonym, agent_id=by,
                    wrap_up="callback_failed", completed=False, digital=False,
                )  # fmt: skip
            uow.commit()

    @staticmethod
    def _failed(uow: UnitOfWork, callback_id: int) -> Callback:
        callback = uow.callbacks.get(callback_id, for_update=True)
        if callback is None:
            raise NotFound("No such callback.")
        if callback.state != CallbackState.FAILED:
            raise Conflict("This callback is not on the failed list any more.")
        return callback

    def call_back_now(self, contact_id: int, agent: int) -> str:
        """The agent who took a contact waiting for its callback calls the citizen now.

        Answers the callback's state after placing: "calling", or "booked"/"failed" when
        the call could not be placed.
        """
        now = self.clock()
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id)
            if contact is None:
                raise NotFound("No such contact.")
            if contact.state != ContactState.ASSIGNED or contact.agent_id != agent:
                raise Conflict("Take this contact first: it is not assigned to you.")
            booked = [
                c for c in uow.callbacks.for_contact(contact_id)
                if c.state in (CallbackState.BOOKED, CallbackState.FAILED)
            ]  # fmt: skip
            if not booked:
                raise Conflict("No callback is waiting on this contact.")
            callback = uow.callbacks.get(booked[-1].id, for_update=True)
            attempt = self.dialling.hold(uow, callback, contact, agent, now)
            uow.commit()
        outcome = self.dialling.ring(attempt)
        if outcome == "placed":
            return "calling"
        return "booked" if outcome == "waiting" else outcome

    def connect_agent(self, contact_id: int, agent: int) -> CallResult:
        """Place the agent's leg to a queued caller (the desk's "Connect call").

        The agent's phone or browser client rings; answering fetches the agent-leg TwiML,
        which dials the caller's own queue.
        """
        now = self.clock()
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id)
            if contact is None:
                raise NotFound("No such contact.")
            if contact.channel != self.dialling.phone:
                raise Conflict("Only phone calls are connected; answer this one in writing.")
            if not contact.is_open:
                raise Conflict("The caller is gone: the call ended before you connected.")
            if contact.state != ContactState.ASSIGNED or contact.agent_id != agent:
                raise Conflict("Take this call first: it is not assigned to you.")
        result = self.dialling.ring_agent(agent, contact_id)
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id)
            contact.agent_call_placed(now, agent_id=agent, outcome=result.outcome)
            uow.commit()
        return result
