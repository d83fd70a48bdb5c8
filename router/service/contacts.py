"""Opening, queueing and closing contacts: the domain's state changes, recorded."""

from __future__ import annotations

import secrets
from datetime import datetime

from router.domain.citizens import age_band, register_day
from router.domain.model import Citizen, Contact, QueueItem
from router.domain.routing import Routing, rank_at
from router.service.journal import record_all
from router.service.unit_of_work import UnitOfWork


def valid_grounds(
    uow: UnitOfWork, citizen: Citizen, now: datetime, timezone: str | None = None
) -> tuple[str, ...]:
    """Return the citizen's exemption grounds valid today, sorted: today in the agency's
    `timezone`, whose calendar days the register's dates are (UTC's when none is given)."""
    today = register_day(now, timezone)
    return tuple(
        sorted({e.ground for e in uow.citizens.exemptions(citizen.id) if e.is_valid_on(today)})
    )


def open_contact(
    uow: UnitOfWork,
    channel: str,
    address: str,
    now: datetime,
    *,
    citizen: Citizen | None = None,
    secret_hash: str | None = None,
    timezone: str | None = None,
) -> Contact:
    """Open a contact for a citizen (identified once, if known) and record both; the
    citizen's exemptions and age band as on the agency's day (`timezone`, see register_day)."""
    contact = uow.contacts.add(
        Contact(
            channel=channel,
            address=address,
            opened_at=now,
            last_activity_at=now,
            bot_sender="k_" + secrets.token_hex(12),
            citizen_id=citizen.id if citizen else None,
            secret_hash=secret_hash,
        )
    )
    if citizen is None:
        contact.opened(now)
    else:
        grounds = valid_grounds(uow, citizen, now, timezone)
        today = register_day(now, timezone)
        contact.opened(now, grounds=grounds, age_band=age_band(citizen.birth_year, today))
    return contact


def enqueue(
    uow: UnitOfWork,
    contact: Contact,
    skill: str,
    priority: int,
    now: datetime,
    pseudonym: str | None,
    routing: Routing | None = None,
) -> QueueItem:
    """Put a contact in the assisted queue (once) and record it: in the queue the agency's
    routing gives its skill, language and channel, ranked by priority and aging."""
    item = uow.queue.open_for_contact(contact.id)
    if item is not None:
        # Already waiting or with a person: nothing new for the log.
        contact.forget(contact.enqueue(item))
        return item
    item = uow.queue.add(new_item(contact, skill, priority, now, routing or Routing()))
    record_all(uow, contact, contact.enqueue(item), now, pseudonym)
    return item


def new_item(
    contact: Contact,
    skill: str,
    priority: int,
    since: datetime,
    routing: Routing,
    queue: str | None = None,
) -> QueueItem:
    """Return a waiting item for a contact, in `queue` or the one routing gives it."""
    return QueueItem(
        contact_id=contact.id, skill=skill, priority=priority, enqueued_at=since,
        queue=queue or routing.queue_for(skill, contact.language, contact.channel),
        channel=contact.channel, language=contact.language,
        rank_at=rank_at(since, priority, routing.aging_seconds),
    )  # fmt: skip


def close(
    uow: UnitOfWork, contact: Contact, now: datetime, why: str, pseudonym: str | None, **how
) -> None:
    """Close a contact, whoever closes it (the bot, the desk, the inactivity sweep)."""
    item = uow.queue.open_for_contact(contact.id)
    record_all(uow, contact, contact.close(now, why, item=item, **how), now, pseudonym)


def claim_item(uow: UnitOfWork, item_id: int, agent_id: int, now: datetime) -> bool:
    """Give a waiting queue item to an agent unless someone took it first (it is locked)."""
    item = uow.queue.lock(item_id)
    if item is None or not item.is_waiting:
        return False
    item.claim(agent_id, now)
    return True
