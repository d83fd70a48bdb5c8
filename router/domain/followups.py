"""A deflection follow-up: after a caller took the digital route, was the need completed, or
do they want a callback?

    scheduled ─► completed (the self-service reported the need done)
              ─► offered (one SMS offers a callback) ─► accepted (the citizen replied CALL)
              ─► not_sent (opted out of SMS, or no phone number)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from router.domain import events as ev
from router.domain.events import Happened
from router.domain.model import Aggregate, IllegalTransition


class FollowupState(StrEnum):
    """Where a deflection follow-up is: waiting for its window, then one of its ends."""

    SCHEDULED = "scheduled"
    COMPLETED = "completed"  # the need was completed digitally: nothing to offer
    OFFERED = "offered"  # a callback was offered by SMS
    ACCEPTED = "accepted"  # the citizen replied to book the callback
    NOT_SENT = "not_sent"  # opted out of SMS (STOP), or no phone number in the register


@dataclass
class Followup(Aggregate):
    """After a caller accepted the digital route: did they complete the need, or do they
    want a callback? One per accepted deflection."""

    contact_id: int
    need: str
    due_at: datetime
    scheduled_at: datetime
    citizen_id: int | None = None
    state: str = FollowupState.SCHEDULED
    offered_at: datetime | None = None
    offer_contact_id: int | None = None  # the SMS conversation the offer was sent in
    callback_id: int | None = None
    id: int | None = None

    def _require(self, *states: FollowupState) -> None:
        if self.state not in states:
            raise IllegalTransition(f"a follow-up in state {self.state!r} cannot do that")

    def was_scheduled(self) -> list[Happened]:
        """Record the scheduling, once the follow-up is stored (it has its id)."""
        data = {"followup_id": self.id, "due_at": self.due_at.isoformat()}
        return [self._happened(ev.FOLLOWUP_SCHEDULED, self.scheduled_at, **data)]

    def complete(self) -> None:
        """The self-service reported the need completed: nothing to offer."""
        self._require(FollowupState.SCHEDULED)
        self.state = FollowupState.COMPLETED

    def offer(
        self, *, sent: bool, why: str | None, contacted_again: bool, now: datetime,
        offer_contact_id: int | None = None,
    ) -> list[Happened]:  # fmt: skip
        """The window ended: the callback offered by SMS (`sent`), or not sent and why."""
        self._require(FollowupState.SCHEDULED)
        if offer_contact_id is not None:
            self.offer_contact_id = offer_contact_id
            self.offered_at = now
        self.state = FollowupState.OFFERED if sent else FollowupState.NOT_SENT
        data = {"followup_id": self.id, "sent": sent, "why": why,
                "contacted_again": contacted_again}  # fmt: skip
        return [self._happened(ev.FOLLOWUP_OFFERED, now, **data)]

    def accept(self, callback_id: int, now: datetime) -> list[Happened]:
        """The citizen replied to the offer: the callback `callback_id` is booked."""
        self._require(FollowupState.OFFERED)
        self.state = FollowupState.ACCEPTED
        self.callback_id = callback_id
        data = {"followup_id": self.id, "callback_id": callback_id}
        return [self._happened(ev.FOLLOWUP_ACCEPTED, now, **data)]
