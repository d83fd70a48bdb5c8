"""Appending contact events: the log analytics reads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from router.domain.events import Happened
from router.domain.model import Contact, ContactEvent
from router.service.unit_of_work import UnitOfWork


def record(
    uow: UnitOfWork, contact: Contact, type_: str, at: datetime, pseudonym: str | None, **data
) -> None:
    """Append one event about a contact to the log (with the citizen's pseudonym only)."""
    uow.events.append(
        ContactEvent(
            type=type_,
            at=at,
            channel=contact.channel,
            contact_id=contact.id,
            citizen=pseudonym,
            need=contact.need,
            data=data,
        )
    )


def record_all(
    uow: UnitOfWork,
    contact: Contact,
    happened: Iterable[Happened],
    at: datetime,
    pseudonym: str | None,
) -> None:
    """Append what a domain object reported it did."""
    for h in happened:
        record(uow, contact, h.type, at, pseudonym, **h.data)


def pseudonym_of(uow: UnitOfWork, contact: Contact) -> str | None:
    """Return the pseudonym of the contact's citizen, if identified."""
    if contact.citizen_id is None:
        return None
    citizen = uow.citizens.get(contact.citizen_id)
    return citizen.pseudonym if citizen else None
