"""Appending contact events: the log analytics reads.

Aggregates record what happened as they change (`Happened`); the unit of work collects it
(`collect_new_events`) and `write_new_events` appends it here, in the transaction that made
the change. `record` appends an event a service observed itself (a message received, a
decision made) and first writes what the aggregates recorded before it, so the log keeps the
order in which things happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from router.domain.events import DESK_WIDE, DESK_WIDE_KINDS, ContactChanged, Happened
from router.domain.model import Contact, ContactEvent
from router.domain.presence import DESK, Presence
from router.service.unit_of_work import UnitOfWork


def record(
    uow: UnitOfWork, contact: Contact, type_: str, at: datetime, pseudonym: str | None, **data
) -> None:
    """Append one event about a contact to the log (with the citizen's pseudonym only)."""
    write_new_events(uow)
    _append(uow, contact.channel, contact.id, pseudonym, contact.need, type_, at, data)


def record_all(
    uow: UnitOfWork,
    contact: Contact,
    happened: Iterable[Happened],
    at: datetime,
    pseudonym: str | None,
) -> None:
    """Append what a domain object reported it did, now (it is not collected again)."""
    happened = list(happened)
    contact.forget(happened)
    for h in happened:
        record(uow, contact, h.type, at, pseudonym, **h.data)


def record_events(
    uow: UnitOfWork,
    aggregate,  # noqa: ANN001 - any Aggregate about a contact
    *,
    channel: str,
    contact_id: int | None,
    pseudonym: str | None,
    need: str | None,
    at: datetime,
) -> list[object]:
    """Append what one aggregate recorded, about a contact the caller already knows (so no
    contact is read for it); return its events that are not for the log."""
    others: list[object] = []
    for event in aggregate.collect_events():
        if not isinstance(event, Happened):
            others.append(event)
        elif contact_id is not None:
            at_ = event.at or at
            _append(uow, channel, contact_id, pseudonym, need, event.type, at_, event.data)
    return others


def record_for_citizen(
    uow: UnitOfWork, aggregate, *, channel: str, contact_id: int | None,  # noqa: ANN001
    pseudonym: str | None, at: datetime,
) -> None:  # fmt: skip
    """Append what an aggregate about a citizen recorded (an exemption's reminder), with the
    citizen's pseudonym only; `contact_id` is None when no conversation was opened for it."""
    for event in aggregate.collect_events():
        if isinstance(event, Happened):
            _append(
                uow, channel, contact_id, pseudonym, None, event.type, event.at or at, event.data
            )


def record_for_service(uow: UnitOfWork, aggregate, *, channel: str, at: datetime) -> None:  # noqa: ANN001
    """Append what an aggregate about the whole service recorded (surge mode, router/domain/
    surge.py): no contact, no citizen."""
    for event in aggregate.collect_events():
        if isinstance(event, Happened):
            _append(uow, channel, None, None, None, event.type, event.at or at, event.data)


def write_new_events(uow: UnitOfWork) -> list[object]:
    """Append what the aggregates of this unit of work recorded since the last call.

    Events that are not for the log (work for after the commit) are kept
    on the unit of work (`uow.after_commit`) for the message bus.
    """
    for aggregate, event in uow.collect_new_events():
        if not isinstance(event, Happened):
            uow.after_commit.append(event)
            continue
        if isinstance(aggregate, Presence):
            # An agent's own event: about no contact, on the desk, so a supervisor can read
            # an agent's day from the log.
            _append(uow, DESK, None, None, None, event.type, event.at, event.data)
            # The board and the queue pages hear of it (no conversation's: contact id 0).
            if event.type in DESK_WIDE_KINDS:
                uow.after_commit.append(ContactChanged(DESK_WIDE, event.type))
            continue
        contact = aggregate if isinstance(aggregate, Contact) else None
        if contact is None and getattr(aggregate, "contact_id", None) is not None:
            contact = uow.contacts.get(aggregate.contact_id)
        if contact is None:
            continue  # nothing the log is about
        _append(
            uow, contact.channel, contact.id, pseudonym_of(uow, contact), contact.need,
            event.type, event.at, event.data,
        )  # fmt: skip
    return uow.after_commit


def _append(uow, channel, contact_id, pseudonym, need, type_, at, data) -> None:  # noqa: ANN001
    """Append one event to the log: every builder of a `ContactEvent` comes here."""
    if contact_id is not None:  # live pages hear of a conversation's events after the commit
        uow.after_commit.append(ContactChanged(contact_id, type_))
    uow.events.append(
        ContactEvent(
            type=type_,
            at=at,
            channel=channel,
            contact_id=contact_id,
            citizen=pseudonym,
            need=need,
            data=dict(data),
        )
    )


def pseudonym_of(uow: UnitOfWork, contact: Contact) -> str | None:
    """Return the pseudonym of the contact's citizen, if identified."""
    if contact.citizen_id is None:
        return None
    citizen = uow.citizens.get(contact.citizen_id)
    return citizen.pseudonym if citizen else None
