"""An agent's day, as a supervisor reads it: their presence changes from the event log
(`presence_changed`, written about no contact on the desk's channel) and the time they spent
in each state since midnight in the agency's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from router.domain.presence import (
    PRESENCE_CHANGED,
    PresenceState,
    StatusChange,
    time_in_states,
)
from router.service.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class AgentDay:
    user_id: int
    username: str
    day: date
    changes: list[StatusChange]
    seconds_in: dict[str, int]  # per presence state, from midnight to now (or the day's end)


def read_day(
    uow: UnitOfWork, user_id: int, username: str, start: datetime, end: datetime
) -> AgentDay:
    """Return the agent's presence changes from `start` to `end` and the time in each state."""
    changes = [
        StatusChange(e.at, e.data.get("from", ""), e.data.get("to", ""), e.data.get("why", ""))
        for e in uow.events.on_desk(start, end)
        if e.type == PRESENCE_CHANGED and e.data.get("agent_id") == user_id
    ]
    presence = uow.presence.get(user_id)
    now_in = presence.state if presence is not None else PresenceState.OFFLINE
    spent = time_in_states(changes, start, end, str(now_in))
    return AgentDay(user_id, username, start.date(), changes, spent)
