"""A callback: kanal's promise to call a citizen back, and the moves it may make.

    booked ─► calling (an agent held, the citizen's phone rings) ─► answered
      ▲  │        │ not answered: booked again for a retry, or failed when attempts are used up
      │  │        ▼
      │  └──► closed (settled by the system, cancelled by the citizen)
      └── failed ─► booked (staff call again) / closed (staff close it with a note)

Each move checks where the callback is, raises `IllegalTransition` otherwise, and records
what happened (the unit of work collects it for the contact's log).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from router.domain import events as ev
from router.domain.events import Happened
from router.domain.model import Aggregate, IllegalTransition

# Why a callback was booked.
# "policy": the routing policy chose a callback for a citizen writing in (chat, SMS).
# "surge": a surge rule of the policy chose it instead of a long wait, on any channel
# (router/policy/surge.py), so a surge's callbacks are told apart from the ones asked for.
CALLBACK_REASONS = (
    "waited_too_long", "out_of_hours", "asked", "digital_not_completed", "policy", "surge",
)  # fmt: skip


class CallbackState(StrEnum):
    """Where a callback is.

    booked → calling (an agent is held, the citizen's phone rings) → answered (connected to
    the agent); a call that is not answered goes back to booked for a retry, or to failed
    when the attempts are used up; staff close a failed callback with a note, or book it
    again (call again).
    """

    BOOKED = "booked"
    CALLING = "calling"
    ANSWERED = "answered"
    FAILED = "failed"
    CLOSED = "closed"


# A callback still to be made: booked (waiting for its time or an agent) or ringing.
PENDING = (CallbackState.BOOKED, CallbackState.CALLING)


@dataclass
class Callback(Aggregate):
    """A promise to call a citizen back about one contact, with its attempts."""

    contact_id: int
    reason: str
    booked_at: datetime
    not_before: datetime | None = None  # None: as soon as an agent is free
    state: str = CallbackState.BOOKED
    attempts: int = 0
    next_attempt_at: datetime | None = None
    agent_id: int | None = None
    call_sid: str | None = None
    last_status: str | None = None  # the last call's end: busy, no-answer, failed, rejected…
    note: str | None = None  # staff's note when they closed it (shown on the desk only)
    closed_by: int | None = None
    closed_at: datetime | None = None
    id: int | None = None

    @classmethod
    def book(cls, contact_id: int, *, reason: str, at: datetime | None, now: datetime) -> Callback:
        """A new callback (its `booked` event once stored: `was_booked`)."""
        if reason not in CALLBACK_REASONS:
            raise ValueError(f"reason must be one of {', '.join(CALLBACK_REASONS)}")
        return cls(
            contact_id=contact_id, reason=reason, booked_at=now, not_before=at,
            next_attempt_at=at or now,
        )  # fmt: skip

    @property
    def is_pending(self) -> bool:
        return self.state in PENDING

    def _require(self, *states: CallbackState) -> None:
        if self.state not in states:
            raise IllegalTransition(f"a callback in state {self.state!r} cannot do that")

    def was_booked(self, now: datetime) -> list[Happened]:
        """Record the booking, once the callback is stored (it has its id)."""
        not_before = self.not_before.isoformat() if self.not_before else None
        data = {"callback_id": self.id, "reason": self.reason, "not_before": not_before}
        return [self._happened(ev.CALLBACK_BOOKED, now, **data)]

    def dial(self, agent_id: int, now: datetime) -> None:
        """Hold `agent_id` and ring the citizen: one more attempt starts now."""
        self._require(CallbackState.BOOKED, CallbackState.FAILED)
        self.state = CallbackState.CALLING
        self.agent_id = agent_id
        self.attempts += 1
        self.call_sid = None
        self.next_attempt_at = now  # when this attempt started ringing

    def placed(
        self, outcome: str, call_sid: str | None, attempt: int, agent_id: int, now: datetime
    ) -> list[Happened]:
        """The provider took attempt `attempt`'s call (or may have): keep its id while it
        rings."""
        if outcome == "accepted" and self.state == CallbackState.CALLING and not self.call_sid:
            self.call_sid = call_sid
        data = {"callback_id": self.id, "attempt": attempt, "agent_id": agent_id,
                "outcome": outcome}  # fmt: skip
        return [self._happened(ev.CALLBACK_PLACED, now, **data)]

    def rings_for(self, call_sid: str) -> bool:
        """Return True while the call `call_sid` (or a call not yet named) rings for it."""
        return self.state == CallbackState.CALLING and self.call_sid in (None, call_sid)

    def answer(self, call_sid: str | None, now: datetime) -> list[Happened]:
        """The citizen answered: the held agent is connected."""
        self._require(CallbackState.CALLING)
        self.state = CallbackState.ANSWERED
        self.call_sid = call_sid or self.call_sid
        data = {"callback_id": self.id, "agent_id": self.agent_id, "attempt": self.attempts}
        return [self._happened(ev.CALLBACK_ANSWERED, now, **data)]

    def not_answered(
        self,
        status: str,
        now: datetime,
        *,
        attempts: int,
        retry_after: timedelta,
        final: bool = False,
    ) -> list[Happened]:
        """The call did not reach the citizen: booked again for `now + retry_after` while
        attempts remain (and not `final`), else failed."""
        self._require(CallbackState.CALLING)
        self.last_status = status
        self.agent_id = None
        self.call_sid = None
        retry = not final and self.attempts < attempts
        happened = [
            self._happened(
                ev.CALLBACK_NOT_ANSWERED, now, callback_id=self.id, attempt=self.attempts,
                status=status, retry=retry,
            )
        ]  # fmt: skip
        if retry:
            self.state = CallbackState.BOOKED
            self.next_attempt_at = now + retry_after
            return happened
        self.state = CallbackState.FAILED
        happened.append(
            self._happened(
                ev.CALLBACK_FAILED, now, callback_id=self.id, attempts=self.attempts,
                status=status,
            )
        )  # fmt: skip
        return happened

    def call_again(self, now: datetime, by: int) -> list[Happened]:
        """Staff book a failed callback again: a new round of attempts, from now."""
        self._require(CallbackState.FAILED)
        self.state = CallbackState.BOOKED
        self.attempts = 0
        self.next_attempt_at = now
        data = {"callback_id": self.id, "reason": self.reason, "not_before": None, "by": by}
        return [self._happened(ev.CALLBACK_BOOKED, now, **data)]

    def close(
        self, now: datetime, *, by: str, note: str, closed_by: int | None = None
    ) -> list[Happened]:
        """End the callback uncalled: settled by the system or cancelled by the citizen
        (while booked), or closed by staff with a note (once failed)."""
        self._require(CallbackState.FAILED if by == "staff" else CallbackState.BOOKED)
        before = str(self.state)
        self.state = CallbackState.CLOSED
        self.closed_at = now
        self.note = note
        self.closed_by = closed_by
        data = {"callback_id": self.id, "by": by, "state_before": before}
        return [self._happened(ev.CALLBACK_CLOSED, now, **data)]
