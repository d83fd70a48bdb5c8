"""One citizen's messages one after another, across every process: the turn's lanes.

A lane is one citizen's address on one channel (`sms:+4512345678`). Every process that takes
a turn from the inbox (the web processes' turn threads, `kanal worker`, the scheduler's sweep)
holds the turn's lane against every other process for the whole turn, bot and replies
included (the Inbox port's `lane`: a PostgreSQL advisory lock), and inside it takes the
lane's waiting entries oldest first. Within one process the turn worker also keeps a queue
per lane (router/entrypoints/worker.py), so its threads never wait on each other's locks.
"""

from __future__ import annotations

import logging

from router.service.turn import Turns

log = logging.getLogger(__name__)


def take_in_order(turns: Turns, entry_id: int, lane: str) -> None:
    """Run this entry's turn after every earlier entry of its lane, whichever process
    acknowledged them. An entry another process took meanwhile is skipped."""
    with turns.inbox.lane(lane):
        for waiting_id in turns.inbox.waiting_in(lane, up_to=entry_id):
            if waiting_id == entry_id:
                turns.take(entry_id)
                continue
            try:
                turns.take(waiting_id)
            except Exception:  # its own worker or the sweep retries it; go on in order
                log.exception("an earlier turn of the lane failed; it will be retried")


def resume_in_order(turns: Turns, message_id: int, lane: str | None) -> None:
    """Finish a stopped turn while holding its lane (None: a chat, whose turns run in their
    requests), so that it never runs beside a later turn of the same citizen."""
    if lane is None:
        turns.resume(message_id)
        return
    with turns.inbox.lane(lane):
        turns.resume(message_id)
