"""An agent's presence at the desk: available, busy, away or offline.

- **available**: takes new work (offers, Take next);
- **busy**: works on what they hold, and is offered nothing new;
- **away**: on a break; offered nothing;
- **offline**: signed out, or not seen at the desk for the agency's timeout.

Signing in makes an agent available or away; every state can go offline; the three working
states move freely between each other. Each change is recorded (`presence_changed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from router.domain.model import Aggregate, IllegalTransition

PRESENCE_CHANGED = "presence_changed"  # {"agent_id", "from", "to", "why"}
# The log's channel of an agent's own events (about no contact).
DESK = "desk"


class PresenceState(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"
    OFFLINE = "offline"


P = PresenceState
MOVES = {
    P.OFFLINE: {P.AVAILABLE, P.AWAY},
    P.AVAILABLE: {P.BUSY, P.AWAY, P.OFFLINE},
    P.BUSY: {P.AVAILABLE, P.AWAY, P.OFFLINE},
    P.AWAY: {P.AVAILABLE, P.BUSY, P.OFFLINE},
}
del P


def parse_status(status: str) -> PresenceState:
    """Return the presence a status names, or raise ValueError saying which exist."""
    try:
        return PresenceState(status)
    except ValueError:
        names = ", ".join(s.value for s in PresenceState)
        raise ValueError(f"status must be one of {names} (got {status!r})") from None


@dataclass
class Presence(Aggregate):
    """One agent's presence; changes only through the methods below."""

    agent_id: int
    state: str = PresenceState.OFFLINE
    since: datetime | None = None
    seen_at: datetime | None = None

    @property
    def takes_offers(self) -> bool:
        return self.state == PresenceState.AVAILABLE

    @property
    def is_online(self) -> bool:
        return self.state != PresenceState.OFFLINE

    def change(self, to: PresenceState, now: datetime, why: str = "agent") -> bool:
        """Move to `to` (the agent said so, or the desk did); False when already there."""
        to = PresenceState(to)
        self.seen_at = now
        if self.state == to:
            return False
        if to not in MOVES[PresenceState(self.state)]:
            raise IllegalTransition(f"an agent who is {self.state} cannot become {to}")
        before = self.state
        self.state = to
        self.since = now
        self._happened(
            PRESENCE_CHANGED, now, agent_id=self.agent_id, **{"from": str(before)}, to=str(to),
            why=why,
        )  # fmt: skip
        return True

    def working(self, now: datetime, every: timedelta = timedelta(0)) -> bool:
        """The agent asks for work (Take next): available unless they already are (then
        seen, noted at most `every`)."""
        if self.state == PresenceState.AVAILABLE:
            if self.seen_at is None or now - self.seen_at >= every:
                self.seen_at = now
            return False
        return self.change(PresenceState.AVAILABLE, now, why="took work")

    def seen(self, now: datetime) -> None:
        """The agent is at the desk (a page or the API was used)."""
        self.seen_at = now

    def sign_out(self, now: datetime) -> bool:
        return self.change(PresenceState.OFFLINE, now, why="signed out")

    def time_out(self, now: datetime, after: timedelta) -> bool:
        """Go offline when not seen for `after`; True when that happened."""
        if not self.is_online or (self.seen_at is not None and now - self.seen_at < after):
            return False
        return self.change(PresenceState.OFFLINE, now, why="timed out")


@dataclass(frozen=True)
class StatusChange:
    """One `presence_changed` of an agent, as the log keeps it."""

    at: datetime
    before: str
    after: str
    why: str


def time_in_states(
    changes: Iterable[StatusChange], start: datetime, end: datetime, now_in: str
) -> dict[str, int]:
    """Return the seconds an agent spent in each state from `start` to `end`, given their
    changes in that time, oldest first: before the first they were in its `before` state;
    with none, in the state they are `now_in` all along."""
    changes = [c for c in changes if start <= c.at <= end]
    spent = {str(s): 0 for s in PresenceState}
    state, since = (changes[0].before if changes else now_in), start
    for change in changes:
        spent[str(state)] = spent.get(str(state), 0) + int((change.at - since).total_seconds())
        state, since = change.after, change.at
    spent[str(state)] = spent.get(str(state), 0) + int((end - since).total_seconds())
    return spent
