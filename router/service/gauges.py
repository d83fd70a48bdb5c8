"""Operational gauges for monitoring: what is open, waiting and undelivered right now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from router.service.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Gauges:
    open_contacts: dict[tuple[str, str], int]
    waiting: dict[str, int]
    oldest_wait_seconds: dict[str, float]
    outbound: dict[tuple[str, str], int]


def read_gauges(uow_factory: Callable[[], UnitOfWork], now: datetime) -> Gauges:
    """Read the current gauges in one unit of work."""
    with uow_factory() as uow:
        waiting = uow.queue.waiting_by_skill()
        return Gauges(
            open_contacts=uow.contacts.count_open_by_state(),
            waiting={skill: n for skill, (n, _) in waiting.items()},
            oldest_wait_seconds={
                skill: max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
                for skill, (_, oldest) in waiting.items()
            },
            outbound=uow.messages.count_outbound_by_status(),
        )
