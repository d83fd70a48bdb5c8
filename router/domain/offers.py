"""An offer: a waiting contact held for one agent for a short time.

offered → accepted (the agent took it) | expired (not accepted in time: it goes to the next
agent) | declined | withdrawn (someone else took it, or the agent went offline). An offer
holds its item: other agents pass over it while the offer is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from router.domain.model import Aggregate, IllegalTransition

OFFER_MADE = "offer_made"  # {"offer_id", "queue_item_id", "agent_id", "expires_at"}
OFFER_ACCEPTED = "offer_accepted"  # {"offer_id", "agent_id"}
OFFER_EXPIRED = "offer_expired"  # {"offer_id", "agent_id"}
OFFER_DECLINED = "offer_declined"  # {"offer_id", "agent_id"}
OFFER_WITHDRAWN = "offer_withdrawn"  # {"offer_id", "agent_id", "why"}


class OfferState(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


@dataclass
class Offer(Aggregate):
    """A waiting item offered to one agent until `expires_at`."""

    queue_item_id: int
    contact_id: int
    agent_id: int
    channel: str | None
    offered_at: datetime
    expires_at: datetime
    state: str = OfferState.OFFERED
    closed_at: datetime | None = None
    id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.state == OfferState.OFFERED

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and now >= self.expires_at

    def _close(self, to: OfferState, now: datetime, type_: str, **data: object) -> None:
        if not self.is_open:
            raise IllegalTransition(f"an offer {self.state} cannot be {to}")
        self.state = to
        self.closed_at = now
        self._happened(type_, now, offer_id=self.id, agent_id=self.agent_id, **data)

    def made(self) -> None:
        """Record the offer once it is stored (it has its id)."""
        if not self.is_open:
            raise IllegalTransition(f"an offer {self.state} was made already")
        self._happened(
            OFFER_MADE, self.offered_at, offer_id=self.id, queue_item_id=self.queue_item_id,
            agent_id=self.agent_id, expires_at=self.expires_at.isoformat(timespec="seconds"),
        )  # fmt: skip

    def accept(self, agent_id: int, now: datetime) -> None:
        """The agent it was made to takes it, in time."""
        if agent_id != self.agent_id:
            raise IllegalTransition("an offer is accepted only by the agent it was made to")
        if self.is_overdue(now):
            raise IllegalTransition("an offer past its time cannot be accepted")
        self._close(OfferState.ACCEPTED, now, OFFER_ACCEPTED)

    def expire(self, now: datetime) -> None:
        """Not accepted in time: the item goes to the next agent."""
        if not self.is_overdue(now):
            raise IllegalTransition("an offer still in its time cannot expire")
        self._close(OfferState.EXPIRED, now, OFFER_EXPIRED)

    def decline(self, now: datetime) -> None:
        self._close(OfferState.DECLINED, now, OFFER_DECLINED)

    def withdraw(self, now: datetime, why: str) -> None:
        """Someone else took the item, or the agent cannot take it any more."""
        self._close(OfferState.WITHDRAWN, now, OFFER_WITHDRAWN, why=why)
