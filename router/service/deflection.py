"""The digital route offered on a call, texted through the SMS channel (its sender and its
consent: never to a number that sent STOP), and its follow-up scheduled (`Calls` is made of
this part)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from router.domain.model import DeliveryState, Message
from router.service.channels import Channels
from router.service.delivery import Delivery
from router.service.journal import pseudonym_of
from router.service.outbox import may_message
from router.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class FollowUps(Protocol):
    """Follows up an accepted deflection: was the need completed digitally?"""

    def schedule(self, contact_id: int, need: str | None) -> None: ...


class LinkByText:
    """What the phone asks of the core when the caller takes the digital route."""

    uow: Callable[[], UnitOfWork]
    clock: Callable[[], datetime]
    channels: Channels
    delivery: Delivery
    followups: FollowUps | None
    sms: str

    def text_link(self, contact_id: int, call_sid: str, template: str) -> str:
        """Text the offered link through the SMS channel: sent, opted_out or no_link.

        `template` is the text in the caller's language, with `{link}` where the link goes.
        """
        now = self.clock()
        sms = self.channels[self.sms]
        if sms.sender is None:
            return "no_link"
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id, for_update=True)
            call = uow.calls.by_sid(call_sid)
            if contact is None or call is None or not call.link:
                return "no_link"
            pseudonym = pseudonym_of(uow, contact)
            if not may_message(uow, sms, contact.address):
                call.link_blocked(route=sms.name, now=now)
                uow.commit()
                return "opted_out"
            body = template.format(link=call.link)
            message = uow.messages.add(
                Message(
                    channel=sms.name,
                    direction="out",
                    author="system",
                    text=body,
                    created_at=now,
                    contact_id=contact.id,
                    address=contact.address,
                    delivery_status=DeliveryState.PENDING,
                    processed=True,
                )
            )
            call.link_texted(need=contact.need, route=sms.name, message_id=message.id, now=now)
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
