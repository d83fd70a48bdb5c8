"""Booking callbacks: a citizen is called back when an agent is free, instead of waiting.

Booking keeps the contact's place in kanal's queue (its queue item stays waiting) and stores
a durable job (it survives restarts of the scheduler); the job places the call
(`router/service/dialling.py`), and staff act on callbacks that failed at the desk
(`router/service/callback_desk.py`). One callback is pending (booked or ringing) per citizen
at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from router.domain.callbacks import Callback, CallbackState
from router.domain.model import CLOSED_RESOLVED, Contact, ContactState
from router.domain.routing import Routing
from router.service import contacts
from router.service.errors import NotFound
from router.service.journal import pseudonym_of, record_all
from router.service.ports import DurableJobs
from router.service.unit_of_work import UnitOfWork

RUN_JOB = "run_callback"  # the durable job's name (bootstrap's registry)


def pending(uow: UnitOfWork, contact: Contact) -> Callback | None:
    """Return the citizen's callback still to be made (booked or ringing), if any.

    Looked up on the contact itself and, for a citizen the register knows, on their other
    contacts (a caller who booked a callback and then called again); for an unknown
    caller, on other contacts from the same address.
    """
    for existing in uow.callbacks.for_contact(contact.id):
        if existing.is_pending:
            return existing
    return uow.callbacks.pending_for(contact.citizen_id, contact.channel, contact.address)


def book_in(
    uow: UnitOfWork,
    contact: Contact,
    *,
    reason: str,
    at: datetime | None,
    now: datetime,
    phone: str | None = None,
    routing: Routing | None = None,
) -> tuple[Callback, bool]:
    """Book a callback on a contact within the caller's transaction.

    Returns the callback and whether it is new; the caller writes its durable job
    (`Callbacks.schedule`) once the transaction has committed. One callback at a time per
    citizen: with one pending already, that one is returned and nothing is booked. A closed
    contact opens a new contact on the `phone` channel that waits.
    """
    callback = Callback.book(contact.id, reason=reason, at=at, now=now)
    existing = pending(uow, contact)
    if existing is not None:
        return existing, False
    if not contact.is_open:
        if phone is None:
            raise ValueError("a closed contact is called back on the phone: name its channel")
        contact = reopen(uow, contact, now, phone=phone, routing=routing)
        callback.contact_id = contact.id
    elif uow.queue.open_for_contact(contact.id) is None:
        _enqueue(uow, contact, now, routing)
    callback = uow.callbacks.add(callback)
    callback.was_booked(now)
    return callback, True


def reopen(
    uow: UnitOfWork,
    closed: Contact,
    now: datetime,
    waiting_since: datetime | None = None,
    *,
    phone: str,
    routing: Routing | None = None,
) -> Contact:
    """Open a phone contact for a citizen to be called back about a closed one's need.

    It waits in the queue since `waiting_since` (now when not given), in the queue the
    agency's `routing` gives its need, language and the phone.
    """
    citizen = uow.citizens.get(closed.citizen_id) if closed.citizen_id else None
    address = citizen.phone if citizen and citizen.phone else closed.address
    contact = uow.contacts.add(
        Contact(
            channel=phone,
            address=address,
            opened_at=now,
            state=ContactState.BOT,
            citizen_id=closed.citizen_id,
            need=closed.need,
            last_activity_at=now,
            language=closed.language,
        )
    )
    contact.opened(now, reopens=closed.id)
    _enqueue(uow, contact, now, routing, waiting_since)
    return contact


def _enqueue(  # noqa: ANN202
    uow: UnitOfWork,
    contact: Contact,
    now: datetime,
    routing: Routing | None,
    since: datetime | None = None,
):
    """Queue a callback's contact as other assisted work is queued: its need's skill (the
    profile's `[skills]`), in the queue the `[routing]` section gives that skill, the
    contact's language and channel."""
    routing = routing or Routing()
    skill = routing.skill_for(contact.need)
    item = uow.queue.add(contacts.new_item(contact, skill, 0, since or now, routing))
    record_all(uow, contact, contact.enqueue(item), now, pseudonym_of(uow, contact))


class Callbacks:
    """Book callbacks, write their jobs, and cancel one a citizen no longer wants."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        jobs: DurableJobs,
        clock: Callable[[], datetime],
        *,
        phone: str,
        routing: Routing | None = None,
    ) -> None:
        self.uow = uow
        self.jobs = jobs
        self.clock = clock
        self.phone = phone  # the phone channel's name: callbacks are phone contacts
        self.routing = routing or Routing()  # the agency's queues (the profile's [routing])

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
            callback, new = book_in(
                uow, contact, reason=reason, at=at, now=now, phone=self.phone, routing=self.routing
            )
            uow.commit()
            callback_id = callback.id
        if new:
            self.schedule(callback_id, at or now)
        return callback_id

    def schedule(self, callback_id: int, at: datetime) -> None:
        """Write the callback's durable job (after the booking's transaction committed)."""
        self.jobs.schedule(RUN_JOB, f"callback-{callback_id}", at, callback_id)

    def schedule_booked(self, limit: int = 1000) -> int:
        """Write the job of every booked callback again, at its next attempt (or now).

        A callback's row is its durable record: a booking commits before its job is written
        (the job store is another connection), so a process that stops in between leaves a
        booked callback without a job. The scheduler runs this every minute; the job is keyed
        by the callback, so writing it again only moves it, and the job checks the
        callback's state, so an early run does nothing twice. Returns how many.
        """
        now = self.clock()
        with self.uow() as uow:
            booked = uow.callbacks.in_states((CallbackState.BOOKED,), limit)
            due = [(c.id, max(c.next_attempt_at or now, now)) for c in booked]
        for callback_id, at in due:
            self.schedule(callback_id, at)
        return len(due)

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
                raise NotFound("No such contact.")
            found = pending(uow, contact)
            if found is None:
                return None
            callback = uow.callbacks.get(found.id, for_update=True)
            if callback.state != CallbackState.BOOKED:
                return False
            waiting = uow.contacts.get(callback.contact_id, for_update=True)
            pseudonym = pseudonym_of(uow, waiting)
            callback.close(now, by="citizen", note="cancelled by the citizen")
            if waiting.is_open and waiting.state != ContactState.ASSIGNED:
                contacts.close(
                    uow, waiting, now, CLOSED_RESOLVED, pseudonym,
                    wrap_up="callback_cancelled", completed=False, digital=False,
                )  # fmt: skip
            uow.commit()
            return True
