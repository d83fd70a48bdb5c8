"""Housekeeping the scheduler runs: finish turns left behind, close what citizens left."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from router.domain.model import CLOSED_INACTIVE, ContactState
from router.service import contacts, lanes
from router.service.channels import Channels
from router.service.journal import pseudonym_of
from router.service.ports import Inbox
from router.service.turn import Turns
from router.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def finish_left_turns(
    turns: Turns, uow: Callable[[], UnitOfWork], now: datetime, older_than: timedelta
) -> int:
    """Run the turns a stopped worker left: inbox entries not taken, messages not finished."""
    before = now - older_than
    entries = turns.inbox.waiting(before)
    with uow() as u:
        messages = [
            (m.id, f"{m.channel}:{m.address}" if m.address else None)
            for m in u.messages.unprocessed_inbound(before)
        ]
    for entry_id, lane in entries:
        _safely(lambda entry_id, lane=lane: lanes.take_in_order(turns, entry_id, lane), entry_id)
    for message_id, lane in messages:  # in its citizen's lane, as the web processes take it
        _safely(
            lambda message_id, lane=lane: lanes.resume_in_order(turns, message_id, lane), message_id
        )
    return len(entries) + len(messages)


def _safely(run: Callable[[int], object], item_id: int) -> None:
    try:
        run(item_id)
    except Exception:  # one bad turn must not stop the others; the next sweep retries it
        log.exception("a left-over turn failed; the next sweep retries it")


def close_inactive(
    uow: Callable[[], UnitOfWork], channels: Channels, now: datetime, limit: int = 500
) -> int:
    """Close bot conversations the citizen left; return how many."""
    closed = 0
    with uow() as u:
        for contact in u.contacts.list_by_state((ContactState.BOT,), limit=limit):
            channel = channels[contact.channel]
            if contact.last_activity_at and contact.last_activity_at < now - channel.inactivity:
                contacts.close(
                    u,
                    contact,
                    now,
                    CLOSED_INACTIVE,
                    pseudonym_of(u, contact),
                    digital=channel.digital,
                )
                closed += 1
        u.commit()
    return closed


def purge_inbox(inbox: Inbox, now: datetime, keep: timedelta) -> int:
    """Forget inbox entries taken long ago (kept only to recognise retried webhooks)."""
    return inbox.purge_taken(now - keep)
