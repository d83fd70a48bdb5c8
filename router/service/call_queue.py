"""A caller and kanal's queue: the Twilio queue their audio waits in, their place in kanal's
queue with the wait estimated, and how the wait ended (`Calls` is made of this part)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from router.service.settings import RouterSettings
from router.service.unit_of_work import UnitOfWork

# How long back the answer times of the queue are read for the wait estimate.
RECENT = timedelta(hours=1)


@dataclass(frozen=True)
class Place:
    """Where a waiting caller stands in kanal's queue."""

    position: int  # 1 = next
    wait_seconds: int
    waiting: bool  # False: a person has taken the contact (or it has ended)


class CallerInQueue:
    """What the phone asks of the core while a caller waits for a person."""

    uow: Callable[[], UnitOfWork]
    clock: Callable[[], datetime]
    settings: RouterSettings

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
