"""Callbacks: a citizen is called back when an agent is free, instead of waiting on the line.

Booking keeps the contact's place in kanal's queue (its queue item stays waiting) and stores
a durable job (it survives restarts of the scheduler). The job places the call once an agent
is free for it: an agent who said at the desk that they take calls, holds no open assigned
call and is not held for another callback ringing, with no more contacts ahead of this one
in the queue than agents free. The agent is held while the citizen's phone rings; when the
citizen answers (the provider fetches the callback's URL) the contact is assigned to that
agent and the call is connected to them. A call that is not answered (busy, no-answer,
failed) is tried again after a while, a bounded number of times; then the callback lands on
the desk's list of failed callbacks, where staff call again or close it with a note.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from router.domain import events as ev
from router.domain.model import (
    CALLBACK_REASONS,
    CLOSED_RESOLVED,
    Call,
    Callback,
    CallbackState,
    Contact,
    ContactState,
    QueueItem,
)
from router.service import contacts
from router.service.errors import Conflict, NotFound
from router.service.journal import pseudonym_of, record, record_all
from router.service.ports import Caller, CallResult, DurableJobs
from router.service.settings import BusinessHours
from router.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

RUN_JOB = "run_callback"  # the durable job's name in router.jobs.DURABLE
# Call statuses that mean the citizen did not answer (Twilio's final CallStatus values).
NOT_ANSWERED = frozenset({"busy", "no-answer", "failed", "canceled"})
# A call's final statuses (Twilio's), when its row gets its end time.
ENDED = NOT_ANSWERED | {"completed"}
# A callback still to be made: booked (waiting for its time or an agent) or ringing.
PENDING = (CallbackState.BOOKED, CallbackState.CALLING)


@dataclass(frozen=True)
class CallbackSettings:
    """How callbacks are placed: where the provider calls back, attempts, waits."""

    public_url: str  # what the provider fetches: <public_url>/twilio/voice/...
    attempts: int = 3  # calls placed before a callback counts as failed
    retry_after: timedelta = timedelta(minutes=10)  # between a call not answered and the next
    recheck: timedelta = timedelta(seconds=20)  # when no agent is free, look again after this
    # A call neither answered nor reported on after this is counted as not answered (the
    # provider's status callback was lost); Twilio rings for 60 s by default.
    ring_timeout: timedelta = timedelta(minutes=5)
    agent_endpoint: str = "client:agent-{id}"  # where an agent's leg rings ({id}: user id)
    # Callbacks are placed in opening hours only; outside them the job sleeps until opening.
    hours: BusinessHours = BusinessHours(always_open=True)


@dataclass(frozen=True)
class Answered:
    """A callback the citizen has answered: what the call says and whom it connects to."""

    callback_id: int
    contact_id: int
    language: str
    agent_endpoint: str | None  # None: the callback is no longer waiting for this call


def track_call(
    uow: UnitOfWork, call_sid: str, contact: Contact, status: str, now: datetime
) -> None:
    """Keep a callback's outbound call in the contact's calls (`calls`, by CallSid), beside
    the citizen's own calls in: placed, answered, and how it ended."""
    call = uow.calls.by_sid(call_sid)
    if call is None:
        citizen = uow.citizens.get(contact.citizen_id) if contact.citizen_id else None
        call = uow.calls.add(
            Call(
                call_sid=call_sid[:64],
                direction="outbound",
                status=status[:16],
                started_at=now,
                contact_id=contact.id,
                language=citizen.language if citizen else None,
            )
        )
    if call.ended_at is not None:
        return  # told before (the provider retries status callbacks)
    if call.status == "in-progress" and status == "ringing":
        return  # a late "ringing" after the answer
    call.status = status[:16]
    if status in ENDED:
        call.ended_at = now


def pending(uow: UnitOfWork, contact: Contact) -> Callback | None:
    """Return the citizen's callback still to be made (booked or ringing), if any.

    Looked up on the contact itself and, for a citizen the register knows, on their other
    contacts (a caller who booked a callback and then called again); for an unknown
    caller, on other contacts from the same address.
    """
    for existing in uow.callbacks.for_contact(contact.id):
        if existing.state in PENDING:
            return existing
    return uow.callbacks.pending_for(contact.citizen_id, contact.channel, contact.address)


def book_in(
    uow: UnitOfWork, contact: Contact, *, reason: str, at: datetime | None, now: datetime
) -> tuple[Callback, bool]:
    """Book a callback on a contact within the caller's transaction.

    Returns the callback and whether it is new; the caller writes its durable job
    (`Callbacks.schedule`) once the transaction has committed. One callback at a time per
    citizen: with one pending already, that one is returned and nothing is booked.
    """
    if reason not in CALLBACK_REASONS:
        raise ValueError(f"reason must be one of {', '.join(CALLBACK_REASONS)}")
    existing = pending(uow, contact)
    if existing is not None:
        return existing, False
    if not contact.is_open:
        contact = Callbacks._reopen(uow, contact, now)
    elif uow.queue.open_for_contact(contact.id) is None:
        Callbacks._enqueue(uow, contact, now)
    callback = uow.callbacks.add(
        Callback(
            contact_id=contact.id,
            reason=reason,
            booked_at=now,
            not_before=at,
            next_attempt_at=at or now,
        )
    )
    record(
        uow, contact, ev.CALLBACK_BOOKED, now, pseudonym_of(uow, contact),
        callback_id=callback.id, reason=reason, not_before=at.isoformat() if at else None,
    )  # fmt: skip
    return callback, True


class Callbacks:
    """Book, place, retry and settle callbacks; place the desk's agent legs."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        caller: Caller,
        jobs: DurableJobs,
        settings: CallbackSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self.uow = uow
        self.caller = caller
        self.jobs = jobs
        self.settings = settings
        self.clock = clock

    # -- booking ------------------------------------------------------------------------------

    def book(self, contact_id: int, *, reason: str, at: datetime | None = None) -> int:
        """Book a callback on a contact; return its id.

        `at` None: as soon as an agent is free; else not before `at` (e.g. opening time).
        A contact that waits keeps its place in the queue; a closed one (a citizen who took
        the digital route and did not complete it) opens a new phone contact that waits.
        A citizen with a callback pending already (booked on an earlier call, say) is not
        booked twice: the pending one's id is returned.
        """
        now = self.clock()
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id, for_update=True)
            if contact is None:
                raise NotFound("No such contact.")
            callback, new = book_in(uow, contact, reason=reason, at=at, now=now)
            uow.commit()
            callback_id = callback.id
        if new:
            self._schedule(callback_id, at or now)
        return callback_id

    def schedule(self, callback_id: int, at: datetime) -> None:
        """Write the callback's durable job (after the booking's transaction committed)."""
        self._schedule(callback_id, at)

    @staticmethod
    def _reopen(
        uow: UnitOfWork, closed: Contact, now: datetime, waiting_since: datetime | None = None
    ) -> Contact:
        """Open a phone contact for a citizen to be called back about a closed one's need.

        It waits in the queue since `waiting_since` (now when not given).
        """
        citizen = uow.citizens.get(closed.citizen_id) if closed.citizen_id else None
        address = citizen.phone if citizen and citizen.phone else closed.address
        contact = uow.contacts.add(
            Contact(
                channel="voice",
                address=address,
                opened_at=now,
                state=ContactState.BOT,
                citizen_id=closed.citizen_id,
                need=closed.need,
                last_activity_at=now,
                language=closed.language,
            )
        )
        pseudonym = pseudonym_of(uow, contact)
        record(uow, contact, ev.CONTACT_OPENED, now, pseudonym, reopens=closed.id)
        Callbacks._enqueue(uow, contact, now, waiting_since)
        return contact

    @staticmethod
    def _enqueue(
        uow: UnitOfWork, contact: Contact, now: datetime, since: datetime | None = None
    ) -> None:
        item = uow.queue.add(
            QueueItem(contact_id=contact.id, skill=contact.need or "general", priority=0,
                      enqueued_at=since or now)
        )  # fmt: skip
        record_all(uow, contact, contact.enqueue(item), now, pseudonym_of(uow, contact))

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
            uow.contacts.lock_address("voice", "callback-agents")
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
                self._schedule(callback_id, now + self.settings.recheck)
                return "waiting"
            if contact is not None and not contact.is_open and contact.wrap_up is None:
                # The caller hung up after booking (the call ended, nobody resolved it): the
                # callback stands, on a phone contact of its own that waits where they did.
                contact = self._reopen(uow, contact, now, waiting_since=callback.booked_at)
                callback.contact_id = contact.id
            if contact is None or not contact.is_open:
                # The conversation was resolved first (an agent helped the citizen).
                callback.state = CallbackState.CLOSED
                callback.closed_at = now
                callback.note = "settled: the conversation was resolved first"
                if contact is not None:
                    record(
                        uow, contact, ev.CALLBACK_CLOSED, now, pseudonym_of(uow, contact),
                        callback_id=callback.id, by="system", state_before="booked",
                    )  # fmt: skip
                uow.commit()
                return "settled"
            due = self.settings.hours.next_opening(
                max(callback.next_attempt_at or callback.booked_at, now)
            )
            agent_id = self._free_agent(uow, contact.id) if due <= now else None
            later = due if due > now else now + self.settings.recheck
            if agent_id is not None:
                citizen = uow.citizens.get(contact.citizen_id) if contact.citizen_id else None
                to = citizen.phone if citizen and citizen.phone else contact.address
                callback.state = CallbackState.CALLING
                callback.agent_id = agent_id
                callback.attempts += 1
                callback.call_sid = None
                callback.next_attempt_at = now  # when this attempt started ringing
                attempt = callback.attempts
            uow.commit()  # the call about to ring, or a contact reopened for the callback
        if agent_id is None:
            # Written after the transaction ends: the job store is another connection.
            self._schedule(callback_id, later)
            return "waiting"
        base = self.settings.public_url
        result = self._place(
            to,
            url=f"{base}/twilio/voice/callback/{callback_id}",
            status_callback=f"{base}/twilio/voice/call-status?callback={callback_id}",
        )
        outcome = self._placed(callback_id, attempt, agent_id, result)
        if outcome == "placed":
            # A watchdog: should no status ever come (kanal was down when the provider sent
            # it), the agent is not held for ever.
            self._schedule(callback_id, now + self.settings.ring_timeout)
        return outcome

    def _ringing_too_long(self, uow: UnitOfWork, callback: Callback, now: datetime) -> str:
        """A call placed long ago with neither answer nor status: count it as not answered."""
        started = callback.next_attempt_at or callback.booked_at
        if now < started + self.settings.ring_timeout:
            return "settled"
        contact = uow.contacts.get(callback.contact_id)
        outcome = self._not_answered(
            uow, callback, contact, pseudonym_of(uow, contact), "no status", now
        )
        retry_at = callback.next_attempt_at
        uow.commit()
        if outcome == "waiting":
            self._schedule(callback.id, retry_at)
        return outcome

    def _schedule(self, callback_id: int, at: datetime) -> None:
        self.jobs.schedule(RUN_JOB, f"callback-{callback_id}", at, callback_id)

    def _place(self, to: str, *, url: str, status_callback: str) -> CallResult:
        try:
            return self.caller.place(to, url=url, status_callback=status_callback)
        except Exception as exc:  # an adapter bug: whether the call went out is unknown
            log.exception("the caller failed")
            return CallResult("uncertain", error=f"caller error: {type(exc).__name__}")

    def _placed(self, callback_id: int, attempt: int, agent_id: int, result: CallResult) -> str:
        now = self.clock()
        with self.uow() as uow:
            callback = uow.callbacks.get(callback_id, for_update=True)
            contact = uow.contacts.get(callback.contact_id)
            pseudonym = pseudonym_of(uow, contact)
            record(
                uow, contact, ev.CALLBACK_PLACED, now, pseudonym, callback_id=callback_id,
                attempt=attempt, agent_id=agent_id, outcome=result.outcome,
            )  # fmt: skip
            if result.outcome == "accepted":
                if callback.state == CallbackState.CALLING and callback.call_sid is None:
                    callback.call_sid = result.call_sid
                if result.call_sid:
                    track_call(uow, result.call_sid, contact, "ringing", now)
                uow.commit()
                return "placed"
            if result.outcome == "uncertain":
                # It may be ringing: its status callback (by callback id) settles it.
                uow.commit()
                return "placed"
            status = "rejected" if result.outcome == "rejected" else "not placed"
            outcome = self._not_answered(uow, callback, contact, pseudonym, status, now,
                                         final=result.outcome == "rejected")  # fmt: skip
            retry_at = callback.next_attempt_at
            uow.commit()
        if outcome == "waiting":
            self._schedule(callback_id, retry_at)
        return outcome

    def _not_answered(
        self,
        uow: UnitOfWork,
        callback: Callback,
        contact: Contact,
        pseudonym: str | None,
        status: str,
        now: datetime,
        *,
        final: bool = False,
    ) -> str:
        """A call did not reach the citizen: try again later, or list the callback as failed.

        Answers "waiting" (the caller schedules the retry at `next_attempt_at`, after its
        commit) or "failed".
        """
        callback.last_status = status
        callback.agent_id = None
        callback.call_sid = None
        retry = not final and callback.attempts < self.settings.attempts
        record(
            uow, contact, ev.CALLBACK_NOT_ANSWERED, now, pseudonym, callback_id=callback.id,
            attempt=callback.attempts, status=status, retry=retry,
        )  # fmt: skip
        if retry:
            callback.state = CallbackState.BOOKED
            callback.next_attempt_at = now + self.settings.retry_after
            return "waiting"
        callback.state = CallbackState.FAILED
        record(
            uow, contact, ev.CALLBACK_FAILED, now, pseudonym, callback_id=callback.id,
            attempts=callback.attempts, status=status,
        )  # fmt: skip
        return "failed"

    def _free_agent(self, uow: UnitOfWork, contact_id: int) -> int | None:
        """Return an agent free to take this contact's callback now, or None."""
        busy = uow.contacts.agents_holding("voice") | uow.callbacks.agents_calling()
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

    # -- the provider's side of the call ----------------------------------------------------

    def answered(self, callback_id: int, call_sid: str | None) -> Answered | None:
        """The citizen answered: assign the contact to the held agent and say whom to dial.

        None for an unknown callback. A callback no longer ringing (closed meanwhile) answers
        with no agent, so the call only apologises.
        """
        now = self.clock()
        with self.uow() as uow:
            callback = uow.callbacks.get(callback_id, for_update=True)
            if callback is None:
                return None
            contact = uow.contacts.get(callback.contact_id, for_update=True)
            citizen = uow.citizens.get(contact.citizen_id) if contact.citizen_id else None
            # The register's language, else the one the caller chose (the conversation's).
            language = (citizen.language if citizen else None) or contact.language or "en"
            if callback.state == CallbackState.ANSWERED and callback.agent_id is not None:
                return Answered(
                    callback.id, contact.id, language, self._endpoint(callback.agent_id)
                )
            if callback.state != CallbackState.CALLING or callback.agent_id is None:
                return Answered(callback.id, contact.id, language, None)
            pseudonym = pseudonym_of(uow, contact)
            agent_id = callback.agent_id
            if contact.state == ContactState.QUEUED:
                item = uow.queue.open_for_contact(contact.id)
                if item is not None and contacts.claim_item(uow, item.id, agent_id, now):
                    item = uow.queue.get(item.id)
                    record_all(uow, contact, contact.assign(item, agent_id, now), now, pseudonym)
                    if item.answered_at is None:
                        item.answered_at = now
            callback.state = CallbackState.ANSWERED
            callback.call_sid = call_sid or callback.call_sid
            if call_sid:
                track_call(uow, call_sid, contact, "in-progress", now)
            record(
                uow, contact, ev.CALLBACK_ANSWERED, now, pseudonym, callback_id=callback.id,
                agent_id=agent_id, attempt=callback.attempts,
            )  # fmt: skip
            uow.commit()
            return Answered(callback.id, contact.id, language, self._endpoint(agent_id))

    def call_status(self, callback_id: int, call_sid: str, status: str) -> str | None:
        """Apply an outbound callback call's status; None for an unknown callback.

        Only a final status not answered (busy, no-answer, failed, canceled) changes the
        callback: the call that was ringing ends and the callback is retried or fails.
        Statuses of an older call (another sid) are ignored.
        """
        status = status.lower()
        now = self.clock()
        with self.uow() as uow:
            callback = uow.callbacks.get(callback_id, for_update=True)
            if callback is None:
                return None
            contact = uow.contacts.get(callback.contact_id)
            if call_sid:
                # The call's own row (the contact's list of calls) follows every status.
                track_call(uow, call_sid, contact, status, now)
            if status == "completed":
                # Ended without ever reaching kanal's answer URL (an error on our side, or
                # the citizen hung up at once): the citizen was not connected to anyone.
                status = "ended unconnected"
            if (
                callback.state != CallbackState.CALLING
                or status not in NOT_ANSWERED | {"ended unconnected"}
                or callback.call_sid not in (None, call_sid)
            ):
                uow.commit()
                return str(callback.state)
            pseudonym = pseudonym_of(uow, contact)
            outcome = self._not_answered(uow, callback, contact, pseudonym, status, now)
            state, retry_at = str(callback.state), callback.next_attempt_at
            uow.commit()
        if outcome == "waiting":
            self._schedule(callback_id, retry_at)
        return state

    def _endpoint(self, agent_id: int) -> str:
        return self.settings.agent_endpoint.format(id=agent_id)

    # -- the desk --------------------------------------------------------------------------------

    def failed(self, limit: int = 200) -> list[Callback]:
        """Return the callbacks whose attempts are used up, oldest first."""
        with self.uow() as uow:
            return uow.callbacks.in_states((CallbackState.FAILED,), limit)

    def for_contact(self, contact_id: int) -> list[Callback]:
        with self.uow() as uow:
            return uow.callbacks.for_contact(contact_id)

    def cancel_pending(self, contact_id: int) -> bool | None:
        """The citizen cancels their callback still to be made (from a new call).

        The callback is the one `pending` finds for the contact's citizen (or address).
        Returns True when cancelled (its conversation, waiting only for the call, ends
        too), False when it is ringing already, None when there is none.
        """
        now = self.clock()
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id)
            if contact is None:
                raise NotFound("No such conversation.")
            found = pending(uow, contact)
            if found is None:
                return None
            callback = uow.callbacks.get(found.id, for_update=True)
            if callback.state != CallbackState.BOOKED:
                return False
            waiting = uow.contacts.get(callback.contact_id, for_update=True)
            pseudonym = pseudonym_of(uow, waiting)
            callback.state = CallbackState.CLOSED
            callback.closed_at = now
            callback.note = "cancelled by the citizen"
            record(
                uow, waiting, ev.CALLBACK_CLOSED, now, pseudonym, callback_id=callback.id,
                by="citizen", state_before="booked",
            )  # fmt: skip
            if waiting.is_open and waiting.state != ContactState.ASSIGNED:
                contacts.close(
                    uow, waiting, now, CLOSED_RESOLVED, pseudonym,
                    wrap_up="callback_cancelled", completed=False, digital=False,
                )  # fmt: skip
            uow.commit()
            return True

    def call_again(self, callback_id: int, by: int) -> None:
        """Staff book a failed callback again: a new round of attempts, from now."""
        now = self.clock()
        with self.uow() as uow:
            callback = self._failed(uow, callback_id)
            contact = uow.contacts.get(callback.contact_id, for_update=True)
            if not contact.is_open:
                raise Conflict("The contact is closed; book a new callback from a new call.")
            callback.state = CallbackState.BOOKED
            callback.attempts = 0
            callback.next_attempt_at = now
            record(
                uow, contact, ev.CALLBACK_BOOKED, now, pseudonym_of(uow, contact),
                callback_id=callback.id, reason=callback.reason, not_before=None, by=by,
            )  # fmt: skip
            uow.commit()
        self._schedule(callback_id, now)

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
            callback.state = CallbackState.CLOSED
            callback.note = note[:2000]
            callback.closed_by = by
            callback.closed_at = now
            record(
                uow, contact, ev.CALLBACK_CLOSED, now, pseudonym, callback_id=callback.id,
                by="staff", state_before="failed",
            )  # fmt: skip
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
                raise NotFound("No such conversation.")
            if contact.state != ContactState.ASSIGNED or contact.agent_id != agent:
                raise Conflict("Take this contact first: it is not assigned to you.")
            booked = [
                c for c in uow.callbacks.for_contact(contact_id)
                if c.state in (CallbackState.BOOKED, CallbackState.FAILED)
            ]  # fmt: skip
            if not booked:
                raise Conflict("No callback is waiting on this contact.")
            callback = uow.callbacks.get(booked[-1].id, for_update=True)
            citizen = uow.citizens.get(contact.citizen_id) if contact.citizen_id else None
            to = citizen.phone if citizen and citizen.phone else contact.address
            callback.state = CallbackState.CALLING
            callback.agent_id = agent
            callback.attempts += 1
            callback.call_sid = None
            callback.next_attempt_at = now
            callback_id, attempt = callback.id, callback.attempts
            uow.commit()
        base = self.settings.public_url
        result = self._place(
            to,
            url=f"{base}/twilio/voice/callback/{callback_id}",
            status_callback=f"{base}/twilio/voice/call-status?callback={callback_id}",
        )
        outcome = self._placed(callback_id, attempt, agent, result)
        if outcome == "placed":
            self._schedule(callback_id, now + self.settings.ring_timeout)
            return "calling"
        return "booked" if outcome == "waiting" else outcome

    def taking_calls(self, agent_id: int) -> bool:
        """Return whether the agent said they take calls."""
        with self.uow() as uow:
            user = uow.users.get(agent_id)
            return bool(user and user.available_for_calls)

    def set_taking_calls(self, agent_id: int, taking: bool) -> None:
        """An agent says at the desk whether callbacks may be placed for them."""
        with self.uow() as uow:
            user = uow.users.get(agent_id)
            if user is None:
                raise NotFound("No such member of staff.")
            user.available_for_calls = taking
            uow.commit()

    # -- the desk's "Connect call" ----------------------------------------------------------

    def connect_agent(self, contact_id: int, agent: int) -> CallResult:
        """Place the agent's leg to a queued caller (the desk's "Connect call").

        The agent's phone or browser client rings; answering fetches the agent-leg TwiML,
        which dials the caller's own queue (`contact-<id>`).
        """
        now = self.clock()
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id)
            if contact is None:
                raise NotFound("No such conversation.")
            if contact.channel != "voice":
                raise Conflict("Only phone calls are connected; answer this one in writing.")
            if not contact.is_open:
                raise Conflict("The caller is gone: the call ended before you connected.")
            if contact.state != ContactState.ASSIGNED or contact.agent_id != agent:
                raise Conflict("Take this call first: it is not assigned to you.")
        base = self.settings.public_url
        result = self._place(
            self._endpoint(agent),
            url=f"{base}/twilio/voice/agent/{contact_id}",
            status_callback=f"{base}/twilio/voice/call-status?contact={contact_id}",
        )
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id)
            record(
                uow, contact, ev.AGENT_CALL_PLACED, now, pseudonym_of(uow, contact),
                agent_id=agent, outcome=result.outcome,
            )  # fmt: skip
            uow.commit()
        return result
