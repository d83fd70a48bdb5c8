"""Web chats their citizens left while waiting for a person: abandoned, and back on return.

A citizen waiting in the queue is there while their chat stream is open (the stream process
reports them every `HEARTBEAT_SECONDS`, `LeftChats.present`) or while they write or poll. A
queued web chat with none of that for `after` (KANAL_CHAT_ABANDON_SECONDS) is abandoned by
the scheduler's job (`LeftChats.sweep`): `Contact.abandon` closes it with `contact_closed`
(`why: abandoned`, `state_before: queued`), which analytics counts as an abandon
(docs/domain.md §4.2, "abandonment"). When the citizen returns (opens the stream again or
writes), `LeftChats.come_back` puts the contact back in the queue in the place it had.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from router.domain import events as ev
from router.domain.model import CLOSED_ABANDONED, ContactState
from router.service.unit_of_work import UnitOfWork

HEARTBEAT_SECONDS = 30.0  # how often the stream process says who is there


class LeftChats:
    """Abandon the queued chats whose citizen left; bring them back when they return."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Callable[[], datetime],
        *,
        channel: str,
        after: timedelta,
        limit: int = 2000,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.channel = channel
        self.after = after
        self.limit = limit

    def present(self, contact_ids: Iterable[int]) -> int:
        """The citizens of these contacts have their chat open: note it on the waiting ones."""
        here = set(contact_ids)
        if not here:
            return 0
        now = self.clock()
        noted = 0
        with self.uow() as uow:
            for contact in uow.contacts.list_by_state((ContactState.QUEUED,), limit=self.limit):
                if contact.id in here and contact.channel == self.channel:
                    contact.citizen_present(now)
                    noted += 1
            uow.commit()
        return noted

    def sweep(self) -> int:
        """Abandon the queued chats not seen for `after`; return how many."""
        now = self.clock()
        left_before = now - self.after
        abandoned = 0
        with self.uow() as uow:
            for contact in uow.contacts.list_by_state((ContactState.QUEUED,), limit=self.limit):
                seen = contact.last_activity_at or contact.opened_at
                if contact.channel != self.channel or seen >= left_before:
                    continue
                contact.abandon(uow.queue.open_for_contact(contact.id), now)
                abandoned += 1
            uow.commit()
        return abandoned

    def come_back(self, contact_id: int) -> bool:
        """The citizen of an abandoned chat returned: queue it again. False if it was not."""
        now = self.clock()
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id, for_update=True)
            if contact is None or contact.state != ContactState.CLOSED:
                return False
            if contact.wrap_up != CLOSED_ABANDONED:
                return False
            queued = [e for e in uow.events.for_contact(contact_id) if e.type == ev.QUEUED]
            item = uow.queue.get(queued[-1].data["queue_item_id"]) if queued else None
            if item is None:
                return False
            contact.come_back(item, now)
            uow.commit()
        return True
