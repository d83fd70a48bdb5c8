"""Filing a citizen's message in its contact (the turn's first transaction): the contact it
belongs to, found or opened (stale ones closed), the message stored, and the conversation's
language."""

from __future__ import annotations

import hmac
from datetime import datetime

from router.domain.channels import WEBCHAT
from router.domain.commands import ReceiveMessage, StartChat
from router.domain.model import CLOSED_INACTIVE, Citizen, Contact, ContactState, InboxEntry, Message
from router.service import contacts, languages
from router.service.channels import Channel
from router.service.errors import Ended, NotFound, Unauthorized
from router.service.journal import pseudonym_of
from router.service.unit_of_work import UnitOfWork


def entry_of(cmd: ReceiveMessage) -> InboxEntry:
    """Return a message received in the request (web chat) as the inbox would have kept it."""
    return InboxEntry(
        channel=cmd.channel,
        address=cmd.address,
        text=cmd.text,
        received_at=cmd.received_at,
        provider_id=cmd.provider_id,
        kind=cmd.kind,
        contact_id=cmd.contact_id,
    )


def session_contact(uow: UnitOfWork, channel: str, address: str, secret_hash: str) -> Contact:
    """Return the contact of a chat session (the latest on its address, its row locked)
    once `secret_hash`, the hash of the token the request carried, is the session's."""
    contact = uow.contacts.latest_on(channel, address, for_update=True)
    if contact is None:
        raise NotFound("No such chat session.")
    kept = contact.secret_hash
    if not (secret_hash and kept and hmac.compare_digest(secret_hash, kept)):
        raise Unauthorized("The session's token does not match.")
    return contact


def contact_for(
    uow: UnitOfWork,
    entry: InboxEntry,
    channel: Channel,
    now: datetime,
    timezone: str | None = None,
) -> tuple[Contact, Citizen | None]:
    """Return the contact the message belongs to, opening one when needed (the citizen's
    exemptions as on the agency's day in `timezone`)."""
    if entry.contact_id is not None:
        contact = uow.contacts.get(entry.contact_id, for_update=True)
        if contact is None:
            raise NotFound("No such contact.")
        if contact.state == ContactState.CLOSED:
            raise Ended("This conversation has ended. Please start a new one.", contact.id)
    else:
        uow.contacts.lock_address(entry.channel, entry.address)
        contact = uow.contacts.open_on(entry.channel, entry.address, now - channel.inactivity)
    if contact is not None:
        citizen = uow.citizens.get(contact.citizen_id) if contact.citizen_id else None
        return contact, citizen
    for stale in uow.contacts.stale_open_on(entry.channel, entry.address):
        contacts.close(
            uow, stale, now, CLOSED_INACTIVE, pseudonym_of(uow, stale), digital=channel.digital
        )
    citizen = uow.citizens.by_phone(entry.address) if channel.address_is_phone else None
    opened = contacts.open_contact(
        uow, entry.channel, entry.address, now, citizen=citizen, timezone=timezone
    )
    return opened, citizen


def file_message(
    uow: UnitOfWork,
    entry: InboxEntry,
    contact: Contact,
    channel: Channel,
    now: datetime,
    **heard: object,
) -> Message:
    """Store the entry as the contact's message (its id noted on the entry)."""
    message = uow.messages.add(
        Message(
            channel=entry.channel,
            direction="in",
            author="citizen",
            text=entry.text,
            created_at=entry.received_at,
            contact_id=contact.id,
            address=entry.address if channel.address_is_phone else None,
            provider_id=entry.provider_id,
            kind=entry.kind if entry.kind not in ("too_long", "unheard") else "message",
        )
    )
    entry.message_id = message.id
    contact.received(message.id, now, **heard)
    return message


def conversation_language(
    served: tuple[str, ...], contact: Contact, citizen: Citizen | None, chosen: str | None = None
) -> str:
    """Return the conversation's language (the agency's first until it is known).

    A language the caller chose that the agency does not serve in text is still the bot's.
    """
    found = languages.resolve(served, citizen, contact, None, None)
    if not found.sure and chosen and citizen is None:
        return chosen
    return found.language


def open_chat(
    uow: UnitOfWork,
    cmd: StartChat,
    address: str,
    now: datetime,
    served: tuple[str, ...],
    timezone: str | None = None,
) -> Contact:
    """Open a web-chat contact, identified when the session carries a citizen (its
    exemptions as on the agency's day in `timezone`)."""
    citizen = None
    if cmd.citizen_pseudonym:
        citizen = uow.citizens.by_pseudonym(cmd.citizen_pseudonym)
        if citizen is None:
            raise NotFound("Unknown citizen.")
    contact = contacts.open_contact(
        uow, WEBCHAT, address, now, citizen=citizen, secret_hash=cmd.secret_hash, timezone=timezone
    )
    if cmd.language in served:
        contact.language = cmd.language  # chosen by the citizen; the register still wins
    languages.settle(served, citizen, contact, None, None)
    return contact
