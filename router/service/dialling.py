"""Dialling callbacks: the durable job places the call when an agent is free for it.

The job places the call once an agent is free for it: an agent who said at the desk that
they take calls, holds no open assigned call and is not held for another callback ringing,
with no more contacts ahead of this one in the queue than agents free, in opening hours.
The agent is held while the citizen's phone rings; when the citizen answers (the provider
fetches the callback's leg) the contact is assigned to that agent and the call is connected
to them. A call that is not answered (busy, no-answer, failed) is tried again after a while,
a bounded number of times; then the callback lands on the desk's list of failed callbacks.
The calls leave through the `Dialler` port, whose adapter (`ivr/dialler.py`) knows the
provider's URLs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from router.domain.callbacks import Callback, CallbackState
from router.domain.calls import CallStatus
from router.domain.model import Contact, ContactState
from router.service.callback_calls import CallbackCalls, CallbackSettings, track_call
from router.service.callbacks import Callbacks, reopen
from router.service.ports import CallResult, Dialler
from router.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    """One call of a callback, held for an agent: whom it rings, and since when."""

    callback_id: int
    to: str
    n: int  # the callback's attempt number
    agent: int
    started: datetime


class Dialling(CallbackCalls):
    """Place, retry and settle callbacks' calls; ring the desk's agent legs (what the
    provider reports of a callback's call: `CallbackCalls`, router/service/callback_calls.py)."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        callbacks: Callbacks,
        dialler: Dialler,
        settings: CallbackSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self.uow = uow
        self.callbacks = callbacks
        self.dialler = dialler
        self.settings = settings
        self.clock = clock
        self.phone = callbacks.phone

    # -- the durable job ----------------------------------------------------------------------

    def run(self, callback_id: int) -> str:
        """Place the callback's call if its time has come and an agent is free for it.

        Returns what happened: "placed", "waiting" (checked again later), "failed", or
        "settled" (nothing to do: answered, closed, or already ringing).
        """
        now = self.clock()
        with self.uow() as uow:
            # One placement at a time picks an agent (PostgreSQL: an advisory lock; SQLite's
            # single writer holds already), so two callbacks never hold the same agent.
            uow.contacts.lock_address(self.phone, "callback-agents")
            callback = uow.callbacks.get(callback_id, for_update=True)
            if callback is not None and callback.state == CallbackState.CALLING:
                return self._ringing_too_long(uow, callback, now)
            if callback is None or callback.state != CallbackState.BOOKED:
                return "settled"
            contact = uow.contacts.get(callback.contact_id)
            if contact is not None and contact.state == ContactState.ASSIGNED:
                # An agent took the contact from the queue: theirs to call back ("Call back
                # now" on the desk); looked at again later, in case they close it instead.
                uow.rollback()
                self.callbacks.schedule(callback_id, now + self.settings.recheck)
                return "waiting"
            if contact is not None and not contact.is_open and contact.wrap_up is None:
                # The caller hung up after booking (the call ended, nobody resolved it): the
                # callback stands, on a phone contact of its own that waits where they did.
                contact = reopen(
                    uow, contact, now, callback.booked_at, phone=self.phone,
                    routing=self.callbacks.routing,
                )  # fmt: skip
                callback.contact_id = contact.id
            if contact is None or not contact.is_open:
                # The conversation was resolved first (an agent helped the citizen).
                # Recorded on the contact, when there is one still.
                callback.close(
                    now, by="system", note="settled: the conversation was resolved first"
                )
                uow.commit()
                return "settled"
            due = self.settings.hours.next_opening(
                max(callback.next_attempt_at or callback.booked_at, now)
            )
            agent_id = self._free_agent(uow, contact.id) if due <= now else None
            later = due if due > now else now + self.settings.recheck
            if agent_id is not None:
                attempt = self.hold(uow, callback, contact, agent_id, now)
            uow.commit()  # the call about to ring, or a contact reopened for the callback
        if agent_id is None:
            # Written after the transaction ends: the job store is another connection.
            self.callbacks.schedule(callback_id, later)
            return "waiting"
        return self.ring(attempt)

    def hold(
        self, uow: UnitOfWork, callback: Callback, contact: Contact, agent: int, now: datetime
    ) -> Attempt:
        """Hold `agent` for the callback in the caller's transaction; once it has
        committed, `ring` the attempt."""
        callback.dial(agent, now)
        citizen = uow.citizens.get(contact.citizen_id) if contact.citizen_id else None
        to = citizen.phone if citizen and citizen.phone else contact.address
        return Attempt(callback.id, to, callback.attempts, agent, now)

    def ring(self, attempt: Attempt) -> str:
        """Place the call of an attempt held by `hold`; answer "placed", "waiting" or
        "failed"."""
        try:
            result = self.dialler.call_citizen(attempt.to, attempt.callback_id)
        except Exception as exc:  # an adapter bug: whether the call went out is unknown
            log.exception("the caller failed")
            result = CallResult("uncertain", error=f"caller error: {type(exc).__name__}")
        outcome = self._placed(attempt, result)
        if outcome == "placed":
            # A watchdog: should no status ever come (kanal was down when the provider sent
            # it), the agent is not held for ever.
            watchdog = attempt.started + self.settings.ring_timeout
            self.callbacks.schedule(attempt.callback_id, watchdog)
        return outcome

    def _ringing_too_long(self, uow: UnitOfWork, callback: Callback, now: datetime) -> str:
        """A call placed long ago with neither answer nor status: count it as not answered."""
        started = callback.next_attempt_at or callback.booked_at
        if now < started + self.settings.ring_timeout:
            return "settled"
        contact = uow.contacts.get(callback.contact_id)
        outcome = self._not_answered(uow, callback, contact, "no status", now)
        retry_at = callback.next_attempt_at
        uow.commit()
        if outcome == "waiting":
            self.callbacks.schedule(callback.id, retry_at)
        return outcome

    def _placed(self, attempt: Attempt, result: CallResult) -> str:
        now = self.clock()
        callback_id = attempt.callback_id
        with self.uow() as uow:
            callback = uow.callbacks.get(callback_id, for_update=True)
            contact = uow.contacts.get(callback.contact_id)
            callback.placed(result.outcome, result.call_sid, attempt.n, attempt.agent, now)
            if result.outcome == "accepted":
                if result.call_sid:
                    track_call(uow, result.call_sid, contact, CallStatus.RINGING, now)
                uow.commit()
                return "placed"
            if result.outcome == "uncertain":
                # It may be ringing: its status callback (by callback id) settles it.
                uow.commit()
                return "placed"
            if callback.state != CallbackState.CALLING:  # its status came first and settled it
                uow.commit()
                return "settled"
            status = "rejected" if result.outcome == "rejected" else "not placed"
            outcome = self._not_answered(uow, callback, contact, status, now,
                                         final=result.outcome == "rejected")  # fmt: skip
            retry_at = callback.next_attempt_at
            uow.commit()
        if outcome == "waiting":
            self.callbacks.schedule(callback_id, retry_at)
        return outcome

    def _free_agent(self, uow: UnitOfWork, contact_id: int) -> int | None:
        """Return an agent free to take this contact's callback now, or None."""
        busy = uow.contacts.agents_holding(self.phone) | uow.callbacks.agents_calling()
        free = [u.id for u in uow.users.available_for_calls() if u.id not in busy]
        if not free:
            return None
        # A caller whose callback failed waits for staff, not for an agent's free line.
        parked = {c.contact_id for c in uow.callbacks.in_states((CallbackState.FAILED,), 1000)}
        waiting = [
            item.contact_id
            for item in uow.queue.waiting(limit=1000)
            if item.contact_id not in parked
        ]
        ahead = waiting.index(contact_id) if contact_id in waiting else 0
        # Those ahead in the queue are served first: keep this contact's place.
        return free[0] if len(free) > ahead else None

    # -- the desk's agent legs ----------------------------------------------------------------

    def ring_agent(self, agent_id: int, contact_id: int) -> CallResult:
        """Ring the agent's endpoint; answering bridges the caller waiting in the contact."""
        try:
            return self.dialler.ring_agent(agent_id, contact_id)
        except Exception as exc:  # an adapter bug: whether the call went out is unknown
            log.exception("the dialler failed")
            return CallResult("uncertain", error=f"dialler error: {type(exc).__name__}")
