"""A claim's own SQL: few round trips, and little Python between them.

Take next is the desk's hottest transaction and, on PostgreSQL, its rows are contended by
every web process at once; a claim is one short transaction of two reads and one write:

1. the agent's presence locked, with their profile, what they hold by channel and their
   open offers' count (`at_desk`);
2. the best-ranked waiting item the agent's `Match` lets through, locked with its contact
   (`FOR UPDATE SKIP LOCKED`), its citizen, and what the agent holds read again (`next_item`):
   a statement that waited for the presence lock read the rest as it was when it began, so
   the service compares the two reads and starts again when they differ;
3. at the commit, the rows' changes and the transaction's events in one statement on
   PostgreSQL (data-modifying CTEs), a few cheap ones on SQLite (`write`).

The rows are read with Core and built into the domain's own objects (not loaded through the
ORM's identity map: that cost more Python than the database took to answer); they are
*tracked*: the repositories hand out the same object for the same row for the rest of the
unit of work, the unit of work collects their events, and what the domain changed in them
(compared with what was read) is written at the commit. The domain decides as everywhere
else (`match_for`, `Match.allows`, `QueueItem.claim`, `Contact.assign`, `Presence.working`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, bindparam, cast, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.instrumentation import manager_of_class

from router.adapters.desk_tables import agent_profiles, offers
from router.adapters.desk_tables import presence as presence_table
from router.adapters.orm import calls, citizens, contact_events, contacts, messages, queue_items
from router.domain.calls import Call
from router.domain.model import Citizen, Contact, ContactState, Message, QueueItem, QueueState
from router.domain.offers import OfferState
from router.domain.presence import Presence
from router.domain.routing import AgentProfile, Match

# session.info keys: the rows this transaction read and tracks, {(class, id): Tracked}; the
# unit of work's aggregates, by id() (router/adapters/uow.py), which collect their events.
TRACKED = "kanal_tracked"
SEEN = "kanal_seen"
# The turn's contact and message rows are tracked the same way (router/adapters/conversations.py).
TABLES = {QueueItem: queue_items, Contact: contacts, Presence: presence_table, Citizen: citizens,
          Message: messages, Call: calls}  # fmt: skip
KEYS = {QueueItem: "id", Contact: "id", Presence: "agent_id", Citizen: "id", Message: "id",
        Call: "id"}  # fmt: skip


class Tracked:
    """A row read by a claim: its object, and its columns' values as last written."""

    __slots__ = ("obj", "values")

    def __init__(self, obj: object, values: dict[str, Any]) -> None:
        self.obj = obj
        self.values = values

    def changes(self) -> dict[str, Any]:
        was = self.values
        now = _values(self.obj, was)
        return {name: _copy(v) for name, v in now.items() if v != was[name]}


def tracked(session: Session, cls: type, id_: object) -> Any | None:
    """Return the object a claim built for this row in this transaction, if any."""
    found = session.info.get(TRACKED, {}).get((cls, id_))
    return found.obj if found is not None else None


def _values(obj: object, names: Iterable[str]) -> dict[str, Any]:
    """The object's columns' values (read from its dictionary: each is set, as loaded or made)."""
    found = obj.__dict__
    try:
        return {name: found[name] for name in names}
    except KeyError:  # one not set yet: as the attribute answers it
        return {name: getattr(obj, name) for name in names}


def track(session: Session, obj: object, names: tuple[str, ...]) -> Any:
    values = {name: _copy(v) for name, v in _values(obj, names).items()}
    key = (type(obj), getattr(obj, KEYS[type(obj)]))
    session.info.setdefault(TRACKED, {})[key] = Tracked(obj, values)
    seen = session.info.get(SEEN)
    if seen is not None:  # the unit of work collects what it records
        seen[id(obj)] = obj
    return obj


def _copy(value: Any) -> Any:
    return type(value)(value) if isinstance(value, list | dict) else value


def build(session: Session, cls: type, names: tuple[str, ...], values: tuple) -> Any:
    """The domain's object for a row, made as the ORM loads one (its constructor is not
    run: 7 µs, not 66), tracked from now."""
    return track(session, made(cls, names, values), names)


def made(cls: type, names: tuple[str, ...], values: tuple) -> Any:
    obj = manager_of_class(cls).new_instance()
    obj.__dict__.update(zip(names, values, strict=True))
    return obj


def _holdings(agent_id):  # noqa: ANN001, ANN202
    """What an agent holds (their assigned contacts' channels) and their open offers."""
    by_channel = (
        select(contacts.c.channel, func.count().label("n"))
        .where(contacts.c.agent_id == agent_id, contacts.c.state == ContactState.ASSIGNED)
        .group_by(contacts.c.channel)
        .subquery()
    )
    held = select(
        func.aggregate_strings(
            by_channel.c.channel.concat(":").concat(cast(by_channel.c.n, String)), ","
        )
    ).scalar_subquery()
    offered = (
        select(func.count(offers.c.id))
        .where(offers.c.agent_id == agent_id, offers.c.state == OfferState.OFFERED)
        .scalar_subquery()
    )
    return held, offered


def held_of(counts: str | None) -> dict[str, int]:
    """What an agent holds by channel, from the reads' "webchat:2,sms:1"."""
    held = {}
    for part in counts.split(",") if counts else ():
        channel, _, n = part.rpartition(":")
        held[channel] = int(n)
    return held


PRESENCE = tuple(c.name for c in presence_table.c)
PROFILE = tuple(c.name for c in agent_profiles.c)
ITEM = tuple(c.name for c in queue_items.c)
CONTACT = tuple(c.name for c in contacts.c)
CITIZEN = tuple(c.name for c in citizens.c)
MESSAGE = tuple(c.name for c in messages.c)
CALL = tuple(c.name for c in calls.c)


@functools.cache
def _at_desk_statement():  # noqa: ANN202
    held, offered = _holdings(bindparam("agent_id"))
    return (
        select(*presence_table.c, *agent_profiles.c, held, offered)
        .select_from(
            presence_table.outerjoin(
                agent_profiles, agent_profiles.c.user_id == presence_table.c.agent_id
            )
        )
        .where(presence_table.c.agent_id == bindparam("agent_id"))
        .with_for_update(of=presence_table)
    )


def at_desk(
    session: Session, agent_id: int
) -> tuple[Presence, AgentProfile | None, str | None, int] | None:
    """Lock the agent's presence and read their profile, holdings and open offers' count;
    None when they have no presence row yet."""
    row = _connection(session).execute(_at_desk_statement(), {"agent_id": agent_id}).first()
    if row is None:
        return None
    p, q = len(PRESENCE), len(PRESENCE) + len(PROFILE)
    found = tracked(session, Presence, agent_id)
    presence = found or build(session, Presence, PRESENCE, tuple(row[:p]))
    profile = made(AgentProfile, PROFILE, tuple(row[p:q])) if row[p] is not None else None
    return presence, profile, row[q], int(row[q + 1])


@functools.cache
def _next_statement(by_queue: bool, by_language: bool):  # noqa: ANN202
    offered_elsewhere = (
        select(offers.c.id)
        .where(
            offers.c.queue_item_id == queue_items.c.id,
            offers.c.state == OfferState.OFFERED,
            offers.c.agent_id != bindparam("agent_id"),
        )
        .exists()
    )
    held, offered = _holdings(bindparam("agent_id"))
    stmt = (
        select(*queue_items.c, *contacts.c, *citizens.c, held, offered)
        .select_from(
            queue_items.join(contacts, contacts.c.id == queue_items.c.contact_id).outerjoin(
                citizens, citizens.c.id == contacts.c.citizen_id
            )
        )
        .where(
            queue_items.c.state == QueueState.WAITING,
            queue_items.c.channel.is_(None)
            | queue_items.c.channel.in_(bindparam("channels", expanding=True)),
            ~offered_elsewhere,
        )
    )
    if by_queue:
        stmt = stmt.where(queue_items.c.queue.in_(bindparam("queues", expanding=True)))
    if by_language:
        stmt = stmt.where(
            queue_items.c.language.is_(None)
            | queue_items.c.language.in_(bindparam("languages", expanding=True))
        )
    return (
        stmt.order_by(queue_items.c.rank_at, queue_items.c.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=(queue_items, contacts))
    )


def next_item(session: Session, match: Match) -> tuple[QueueItem, str | None, int] | None:
    """Lock the best-ranked waiting item the match lets through, with its contact (both
    tracked), its citizen, and what the agent holds read again; None when there is none."""
    params: dict[str, object] = {"agent_id": match.agent_id, "channels": list(match.channels)}
    if match.queues is not None:
        params["queues"] = list(match.queues)
    if match.languages is not None:
        params["languages"] = list(match.languages)
    stmt = _next_statement(match.queues is not None, match.languages is not None)
    row = _connection(session).execute(stmt, params).first()
    if row is None:
        return None
    a, b = len(ITEM), len(ITEM) + len(CONTACT)
    c = b + len(CITIZEN)
    item = build(session, QueueItem, ITEM, tuple(row[:a]))
    build(session, Contact, CONTACT, tuple(row[a:b]))
    if row[b] is not None:
        build(session, Citizen, CITIZEN, tuple(row[b:c]))
    return item, row[c], int(row[c + 1])


def _connection(session: Session) -> Connection:
    return session.connection()


# -- the commit's writes ---------------------------------------------------------------------


@functools.cache
def _update(cls: type, names: tuple[str, ...], n: int):  # noqa: ANN202
    table = TABLES[cls]
    key = table.c[KEYS[cls]]
    return (
        update(table)
        .where(key == bindparam(f"k{n}", type_=key.type))
        .values({name: bindparam(f"u{n}_{name}", type_=table.c[name].type) for name in names})
    )


EVENT_COLUMNS = ("type", "at", "channel", "contact_id", "citizen", "need", "data")


@functools.cache
def _written_together(shape: tuple[tuple[type, tuple[str, ...]], ...], event: bool):  # noqa: ANN202
    """One statement for the rows' updates and an event, PostgreSQL's data-modifying CTEs:
    the event's INSERT (else the last update) is the statement, the updates before it its
    CTEs. Built once per shape (a multi-row INSERT would not be cached: one event only)."""
    updates = [_update(cls, names, n) for n, (cls, names) in enumerate(shape)]
    if event:
        row = {c: bindparam(f"e0_{c}", type_=contact_events.c[c].type) for c in EVENT_COLUMNS}
        last = insert(contact_events).values(row)
    else:
        last = updates.pop()
    return last.add_cte(*(u.cte(f"u{n}") for n, u in enumerate(updates))) if updates else last


def write(session: Session, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Write what the domain changed in the tracked rows; on PostgreSQL in one statement,
    with the event when there is one (a claim's `agent_assigned`). Return the events still
    to write."""
    changed = [(cls, t, t.changes()) for (cls, _), t in session.info.get(TRACKED, {}).items()]
    changed = [(cls, t, c) for cls, t, c in changed if c]
    if not changed:
        return events
    conn = _connection(session)
    if conn.dialect.name == "postgresql":
        event = len(events) == 1
        params: dict[str, Any] = {}
        for n, (cls, t, c) in enumerate(changed):
            params[f"k{n}"] = getattr(t.obj, KEYS[cls])
            params.update({f"u{n}_{name}": value for name, value in c.items()})
        if event:
            params.update({f"e0_{name}": events[0][name] for name in EVENT_COLUMNS})
        shape = tuple((cls, tuple(c)) for cls, _, c in changed)
        conn.execute(_written_together(shape, event), params)
        left = [] if event else events
    else:  # SQLite: in-process statements cost little
        for cls, t, c in changed:
            params = {"k0": getattr(t.obj, KEYS[cls])}
            params.update({f"u0_{name}": value for name, value in c.items()})
            conn.execute(_update(cls, tuple(c), 0), params)
        left = events
    for _, t, c in changed:
        t.values.update(c)  # written: what changes next is compared with this
    return left


def forget(session: Session) -> None:
    """The transaction ended without writing: what was read is not the rows' state."""
    session.info.pop(TRACKED, None)
