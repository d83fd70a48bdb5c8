"""SLA timers: how long a queue lets a contact wait, and what happens as the wait grows.

Each queue has a target wait (`[routing] target_wait_seconds`, per queue or for all; 120 s by
default). A waiting item that has waited 80 % of its target gets a warning (shown on the
supervisor board); at 100 % it is in breach: its priority is raised one step and, on a
written channel (SMS, web chat), its citizen is offered a callback. Each at most once per
item (`QueueItem.warn_sla`, `QueueItem.breach_sla`).
"""

from __future__ import annotations

from datetime import datetime

from router.domain.channels import WRITTEN

WARN_AT = 0.8
DEFAULT_TARGET_WAIT = 120
# Channels where a waiting citizen can be offered a callback in writing.
CALLBACK_CHANNELS = WRITTEN
# The priorities a supervisor may set (the policy's: 0 normal, higher goes first).
PRIORITIES = range(0, 10)

ON_TIME = "on_time"
WARNING = "warning"
BREACHED = "breached"


def stage(enqueued_at: datetime, now: datetime, target_seconds: int) -> str:
    """Return where a wait stands against its target: on time, warning (80 %) or breached."""
    waited = (now - enqueued_at).total_seconds()
    if waited >= target_seconds:
        return BREACHED
    if waited >= WARN_AT * target_seconds:
        return WARNING
    return ON_TIME


def offers_callback(channel: str | None) -> bool:
    """Return True when a citizen waiting on this channel may be offered a callback."""
    return channel in CALLBACK_CHANNELS
