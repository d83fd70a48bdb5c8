"""Messages to the citizen, on the channel of their contact, and the consent they gave."""

from __future__ import annotations

from datetime import datetime

from router.domain.model import Consent, Contact, DeliveryState, Message
from router.service.channels import Channel
from router.service.unit_of_work import UnitOfWork


def may_message(uow: UnitOfWork, channel: Channel, address: str | None) -> bool:
    """Return False when the address has opted out of a channel that needs consent."""
    if not channel.needs_consent or not address:
        return True
    consent = uow.consents.get(channel.name, address)
    return consent is None or consent.opted_in


def say(
    uow: UnitOfWork,
    contact: Contact,
    channel: Channel,
    author: str,
    text: str,
    now: datetime,
    *,
    agent_id: int | None = None,
    notice: bool = False,
) -> Message:
    """Add an outbound message to a contact.

    On a channel with a sender the message waits (`pending`, the outbox row) for delivery;
    to an address that opted out it is stored as `blocked` (`Message.block`, which records
    `message_blocked`) and never sent, so the desk can show why the citizen did not get it.
    `notice` marks service texts (HELP answers): the answer to the citizen's own HELP is sent
    even after STOP, as carriers' messaging rules expect.
    """
    address = None
    allowed = True
    if channel.sender is not None:
        address = contact.address
        allowed = notice or may_message(uow, channel, address)
    message = uow.messages.add(
        Message(
            channel=contact.channel,
            direction="out",
            author=author,
            text=text,
            created_at=now,
            contact_id=contact.id,
            address=address,
            agent_id=agent_id,
            delivery_status=DeliveryState.PENDING if channel.sender is not None else None,
            kind="notice" if notice else "message",
            processed=True,
        )
    )
    if not allowed:
        message.block(now)  # records `message_blocked`
    return message


def set_consent(
    uow: UnitOfWork, channel: str, address: str, opted_in: bool, keyword: str, now: datetime
) -> None:
    """Record an opt-out or opt-in for a channel address."""
    consent = uow.consents.get(channel, address)
    if consent is None:
        uow.consents.add(
            Consent(
                channel=channel, address=address, opted_in=opted_in, keyword=keyword, changed_at=now
            )
        )
    else:
        consent.opted_in = opted_in
        consent.keyword = keyword
        consent.changed_at = now
