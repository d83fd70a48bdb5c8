"""SLA timers, a scheduler job: warn at 80 % of a queue's target wait, act at 100 %.

Each waiting item is looked at under its lock: at 80 % of its queue's target wait it is
warned about (`sla_warned`, shown on the supervisor board); at 100 % it breaches
(`sla_breached`): its priority goes up one step and, on a written channel (SMS, web chat)
where kanal knows the citizen's phone number, the citizen is offered a callback in their
conversation instead of waiting (`sla_callback_offered`; a reply of CALL books it,
router/service/sla_callbacks.py). The offer is claimed
in the same transaction and sent by the message bus after the commit (the outbox keeps it
should the process stop first). Each happens at most once per item (router/domain/sla.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from router.domain import sla
from router.domain.model import QueueItem
from router.domain.routing import Routing
from router.service.channels import Channels
from router.service.delivery import Delivery
from router.service.journal import pseudonym_of
from router.service.outbox import say
from router.service.translations import N_, translator
from router.service.unit_of_work import UnitOfWork

CALLBACK_OFFER = N_(
    "Sorry for the wait: it is longer than we aim for. You keep your place. If you would "
    "rather be called back, reply CALL and an adviser will phone you."
)


@dataclass(frozen=True)
class Checked:
    warned: int = 0
    breached: int = 0
    offered: int = 0


class SlaTimers:
    """Warnings, breaches and callback offers of waiting items (a scheduler job)."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        routing: Routing,
        clock: Callable[[], datetime],
        channels: Channels,
        delivery: Delivery,
    ) -> None:
        self.uow = uow
        self.routing = routing
        self.clock = clock
        self.channels = channels
        self.delivery = delivery

    def check(self, limit: int = 1000) -> Checked:
        """Look at every waiting item once; return how many were warned, breached, offered."""
        now = self.clock()
        warned = breached = offered = 0
        with self.uow() as uow:
            due = [i.id for i in uow.queue.waiting(limit=limit) if self._due(i, now)]
        for item_id in due:
            with self.uow() as uow:
                item = uow.queue.lock(item_id)
                if item is None or not self._due(item, now):
                    uow.rollback()
                    continue
                target = self.routing.target_wait(item.queue)
                if sla.stage(item.enqueued_at, now, target) == sla.WARNING:
                    item.warn_sla(now, target)
                    warned += 1
                else:
                    item.breach_sla(now, target, self.routing.aging_seconds)
                    breached += 1
                    offered += self._offer_callback(uow, item, now)
                uow.commit()
        return Checked(warned, breached, offered)

    def _due(self, item: QueueItem, now: datetime) -> bool:
        if not item.is_waiting or item.sla_breached_at is not None:
            return False
        stage = sla.stage(item.enqueued_at, now, self.routing.target_wait(item.queue))
        return stage == sla.BREACHED or (stage == sla.WARNING and item.sla_warned_at is None)

    def _offer_callback(self, uow: UnitOfWork, item: QueueItem, now: datetime) -> bool:
        """Tell a citizen waiting in writing that a callback can be booked; False when the
        channel cannot carry it or kanal has no phone number to call."""
        if not sla.offers_callback(item.channel):
            return False
        contact = uow.contacts.get(item.contact_id)
        if contact is None or contact.channel not in self.channels.names():
            return False
        citizen = uow.citizens.get(contact.citizen_id) if contact.citizen_id else None
        phone = citizen.phone if citizen is not None and citizen.phone else None
        if phone is None and contact.address.startswith("+"):
            phone = contact.address  # an SMS thread: its number
        channel = self.channels[contact.channel]
        if phone is None:
            return False
        text = translator(contact.language)(CALLBACK_OFFER)
        message = say(uow, contact, channel, "system", text, now)
        pseudonym = pseudonym_of(uow, contact)
        item.callback_offered(now, message.id)
        self.delivery.after_commit(uow, self.delivery.claim_new(uow, contact, pseudonym, [message]))
        return True
