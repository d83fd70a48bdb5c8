"""A waiting citizen accepts the callback the SLA timers offered (router/service/sla_timers.py).

A reply of CALL (RING in Danish) on the web chat or SMS conversation that was offered a
callback books it through the callbacks' own booking (`book_in`, reason `waited_too_long`) in
the turn's first transaction: the message is filed in the conversation as any other, the
confirmation is claimed and sent after the commit, and the turn writes the callback's job
after its commit. The conversation keeps its place: an agent who takes it first calls back
themselves ("Call back now"). Any other message takes its turn as before.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from router.domain import events as ev
from router.domain.model import ContactState, InboxEntry
from router.service import filing
from router.service.callbacks import book_in
from router.service.channels import Channels
from router.service.delivery import Delivery
from router.service.followups import is_acceptance
from router.service.journal import pseudonym_of
from router.service.outbox import say
from router.service.translations import N_, translator
from router.service.turn_result import Booked, TurnResult
from router.service.unit_of_work import UnitOfWork

BOOKED = N_("Thank you. An adviser will phone you as soon as one is free.")
Answerer = Callable[[UnitOfWork, InboxEntry, datetime], TurnResult | None]


class SlaCallbacks:
    """Answers a CALL to the SLA timers' offer by booking the callback."""

    def __init__(self, channels: Channels, delivery: Delivery, phone: str) -> None:
        self.channels = channels
        self.delivery = delivery
        self.phone = phone

    def answer(self, uow: UnitOfWork, entry: InboxEntry, now: datetime) -> TurnResult | None:
        """Book the offered callback; None when the message is no acceptance of an offer."""
        if entry.kind != "message" or not is_acceptance(entry.text):
            return None
        channel = self.channels[entry.channel]
        if entry.contact_id is not None:
            contact = uow.contacts.get(entry.contact_id, for_update=True)
        else:
            since = now - channel.inactivity
            contact = uow.contacts.open_on(entry.channel, entry.address, since)
        if contact is None or contact.state != ContactState.QUEUED:
            return None
        offered = any(e.type == ev.SLA_CALLBACK_OFFERED for e in uow.events.for_contact(contact.id))
        if not offered:
            return None
        message = filing.file_message(uow, entry, contact, channel, now)
        callback, new = book_in(
            uow, contact, reason="waited_too_long", at=None, now=now, phone=self.phone
        )
        reply = say(uow, contact, channel, "system", translator(contact.language)(BOOKED), now)
        claims = self.delivery.claim_new(uow, contact, pseudonym_of(uow, contact), [reply])
        self.delivery.after_commit(uow, claims)
        return TurnResult(
            contact.id, contact.state, message.id, (reply,), message=message,
            booked=(Booked(callback.id, now),) if new else (),
        )  # fmt: skip


def either(first: Answerer, then: Answerer) -> Answerer:
    """Answer with `first`, else with `then` (one channel, two kinds of offer)."""

    def answer(uow: UnitOfWork, entry: InboxEntry, now: datetime) -> TurnResult | None:
        answered = first(uow, entry, now)
        return answered if answered is not None else then(uow, entry, now)

    return answer
