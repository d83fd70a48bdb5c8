"""Appending contact events: the log analytics reads."""

from __future__ import annotations

from datetime import datetime

from router.domain.model import Contact, ContactEvent


def record(uow, contact: Contact, type_: str, at: datetime, citizen: str | None, **data) -> None:
    """Append one event about a contact to the log."""
    uow.events.append(
        ContactEvent(
            type=type_,
            at=at,
            channel=contact.channel,
            contact_id=contact.id,
            citizen=citizen,
            need=contact.need,
            data=data,
        )
    )


def pseudonym(uow, contact: Contact) -> str | None:
    """Return the pseudonym of the contact's citizen, if identified."""
    if contact.citizen_id is None:
        return None
    citizen = uow.citizens.get(contact.citizen_id)
    return citizen.pseudonym if citizen else None
