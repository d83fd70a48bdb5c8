"""A conversation's rows on the turn's path, read and written with Core.

Every citizen message takes a turn (router/service/turn.py): its contact read and locked, its
message filed, what the policy needs read, the answers filed, and the message marked
processed. Through the ORM each of those rows cost more Python than the database took to
answer it (loading a contact about 7 times a Core read, an insert with its flush about 3
times a Core insert). So, as a claim does (router/adapters/claiming.py), the contact and
message rows are read with Core into the domain's own objects and *tracked* for the rest of
the unit of work: the repositories hand out the same object for the same row, the unit of
work collects its events, and what the domain changed in it is written at the commit. New
messages are inserted with Core at once (their id is named by the log and the replies'
claims) and tracked from then on. The domain decides as everywhere else.

An object the ORM already holds for the row (a contact a list loaded earlier in the same
unit of work) is handed out as it is, so a row never has two objects in one unit of work.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from router.adapters import claiming
from router.adapters.orm import calls, contact_events, contacts, messages
from router.domain.calls import Call
from router.domain.model import Contact, ContactEvent, Message

CONTACT = claiming.CONTACT
MESSAGE = claiming.MESSAGE
CALL = claiming.CALL
EVENT = tuple(c.name for c in contact_events.c)
# What the ORM would have written for a column left None (its Python-side default).
MESSAGE_DEFAULTS = {"kind": "message", "processed": False, "attempts": 0}
# session.info: messages read without a lock in this transaction (their ids).
UNLOCKED = "kanal_unlocked_messages"


@functools.cache
def _statements() -> dict[str, Any]:
    by_id = bindparam("id")
    contact = select(*contacts.c).where(contacts.c.id == by_id)
    message = select(*messages.c).where(messages.c.id == by_id)
    return {
        "contact_locked": contact.with_for_update(),
        "latest_contact_locked": select(*contacts.c)
        .where(
            contacts.c.channel == bindparam("channel"), contacts.c.address == bindparam("address")
        )
        .order_by(contacts.c.id.desc())
        .limit(1)
        .with_for_update(),
        "message": message,
        "message_locked": message.with_for_update(),
        "lock_message": select(messages.c.id).where(messages.c.id == by_id).with_for_update(),
        "message_with_contact": select(*messages.c, *contacts.c)
        .select_from(messages.join(contacts, contacts.c.id == messages.c.contact_id))
        .where(messages.c.id == by_id)
        .with_for_update(of=contacts),
        "insert_message": insert(messages),
        "calls_of": select(*calls.c)
        .where(calls.c.contact_id == bindparam("contact_id"))
        .order_by(calls.c.id),
        "call_by_sid": select(*calls.c).where(calls.c.call_sid == bindparam("call_sid")),
    }


def connection(session: Session) -> Connection:
    """The unit of work's connection, after writing what the ORM holds unwritten (as the
    ORM's own queries would: a count reads the queue items added before it)."""
    if session._new or session.dirty or session._deleted:  # noqa: SLF001 - cheap check first
        session.flush()
    return session.connection()


def _mapped(session: Session, cls: type, id_: object) -> Any | None:
    return session.identity_map.get(identity_key(cls, id_))


def locked_contact(session: Session, contact_id: int) -> Contact | None:
    """Lock the contact's row until the transaction ends and return its object."""
    found = claiming.tracked(session, Contact, contact_id)
    if found is not None:  # read locked by this transaction already (a claim, a turn)
        return found
    row = session.connection().execute(_statements()["contact_locked"], {"id": contact_id})
    row = row.first()
    if row is None:
        return None
    mapped = _mapped(session, Contact, contact_id)
    if mapped is not None:
        return mapped
    return claiming.build(session, Contact, CONTACT, tuple(row))


def latest_locked_contact(session: Session, channel: str, address: str) -> Contact | None:
    """Lock the latest contact's row on a channel address (a chat session's) and return its
    object."""
    params = {"channel": channel, "address": address}
    row = session.connection().execute(_statements()["latest_contact_locked"], params).first()
    if row is None:
        return None
    contact_id = row[CONTACT.index("id")]
    found = claiming.tracked(session, Contact, contact_id)
    if found is None:
        found = _mapped(session, Contact, contact_id)
    return found if found is not None else claiming.build(session, Contact, CONTACT, tuple(row))


def message(session: Session, message_id: int, *, for_update: bool = False) -> Message | None:
    """Return the message's object (its row locked until the transaction ends if
    `for_update`)."""
    unlocked = session.info.setdefault(UNLOCKED, set())
    found = claiming.tracked(session, Message, message_id)
    if found is not None:
        if for_update and message_id in unlocked:
            session.connection().execute(_statements()["lock_message"], {"id": message_id})
            unlocked.discard(message_id)
        return found
    mapped = _mapped(session, Message, message_id)
    if mapped is not None and not for_update:
        return mapped
    key = "message_locked" if for_update else "message"
    row = session.connection().execute(_statements()[key], {"id": message_id}).first()
    if row is None:
        return None
    if mapped is not None:
        return mapped
    if not for_update:
        unlocked.add(message_id)
    return claiming.build(session, Message, MESSAGE, tuple(row))


def message_with_contact(
    session: Session, message_id: int
) -> tuple[Message | None, Contact | None]:
    """The message and its contact (locked until the transaction ends) in one statement;
    as `message` and `locked_contact` one after the other when this unit of work holds
    either already."""
    held = session.info.get(claiming.TRACKED) or session.identity_map
    if held:
        found = message(session, message_id)
        if found is None or found.contact_id is None:
            return found, None
        return found, locked_contact(session, found.contact_id)
    params = {"id": message_id}
    row = session.connection().execute(_statements()["message_with_contact"], params).first()
    if row is None:  # no such message, or one of no contact
        found = message(session, message_id)
        return found, None
    cut = len(MESSAGE)
    session.info.setdefault(UNLOCKED, set()).add(message_id)
    found = claiming.build(session, Message, MESSAGE, tuple(row[:cut]))
    return found, claiming.build(session, Contact, CONTACT, tuple(row[cut:]))


def add_message(session: Session, obj: Message) -> Message:
    """Insert the message now (its id set on it) and track it for the commit."""
    row = {name: getattr(obj, name) for name in MESSAGE if name != "id"}
    for name, default in MESSAGE_DEFAULTS.items():
        if row[name] is None:
            row[name] = default
            setattr(obj, name, default)
    result = session.connection().execute(_statements()["insert_message"], row)
    obj.id = result.inserted_primary_key[0]
    return claiming.track(session, obj, MESSAGE)


def events(session: Session, statement: Any) -> list[ContactEvent]:
    """The log's events a statement selects (all of the log's columns), as the domain's
    objects (the log is never updated: nothing to track)."""
    rows = connection(session).execute(statement).all()
    return [claiming.made(ContactEvent, EVENT, tuple(row)) for row in rows]


def calls_of(session: Session, contact_id: int) -> list[Call]:
    """The contact's calls, oldest first (a phone turn records the digital route offered
    on its call)."""
    return _calls(session, "calls_of", {"contact_id": contact_id})


def call_by_sid(session: Session, call_sid: str) -> Call | None:
    found = _calls(session, "call_by_sid", {"call_sid": call_sid})
    return found[0] if found else None


def _calls(session: Session, statement: str, params: dict[str, Any]) -> list[Call]:
    rows = connection(session).execute(_statements()[statement], params).all()
    return [_call(session, tuple(row)) for row in rows]


def _call(session: Session, row: tuple) -> Call:
    id_ = row[0]
    found = claiming.tracked(session, Call, id_) or _mapped(session, Call, id_)
    return found if found is not None else claiming.build(session, Call, CALL, row)
