"""A phone call (by the provider's CallSid), the contact it belongs to, and how it goes.

A call's status follows what the provider reports and what kanal saw of its wait:
ringing or in-progress, queued (the caller waits for a person), then one end: completed,
busy, no-answer, failed, canceled, or abandoned (hung up while waiting, no callback booked).
Statuses can arrive late or twice (the provider retries): an ended call keeps its end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from router.domain import events as ev
from router.domain.events import Happened
from router.domain.model import Aggregate


class CallStatus(StrEnum):
    """Where a call is (Twilio's CallStatus values, and kanal's own `abandoned`)."""

    QUEUED = "queued"  # kanal: the caller waits in the contact's queue
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"
    ABANDONED = "abandoned"  # hung up while waiting for a person

    @classmethod
    def of(cls, text: str) -> CallStatus | None:
        """The status a provider's word names, None for one kanal does not know."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            return None


# The provider's final statuses: the call has ended.
ENDED = frozenset({CallStatus.COMPLETED, CallStatus.BUSY, CallStatus.NO_ANSWER,
                   CallStatus.FAILED, CallStatus.CANCELED})  # fmt: skip
# The final statuses that mean the citizen did not answer.
NOT_ANSWERED = ENDED - {CallStatus.COMPLETED}

INBOUND = "inbound"
OUTBOUND = "outbound"
# How a wait for a person ended (`queue_result`): a booked callback outranks what follows.
BY_CALLBACK = "callback"
BRIDGED = "bridged"
HUNG_UP = "hangup"


@dataclass
class Call(Aggregate):
    """One phone call, by Twilio's CallSid, and the contact it belongs to.

    `queue_result` says how the wait ended (bridged, hangup, callback, ...); `link` is the
    digital route offered on the call.
    """

    call_sid: str
    direction: str  # inbound | outbound
    status: str
    started_at: datetime
    contact_id: int | None = None
    language: str | None = None
    queue_name: str | None = None
    queue_result: str | None = None
    link: str | None = None
    ended_at: datetime | None = None
    id: int | None = None

    @classmethod
    def answered(cls, call_sid: str, contact_id: int, language: str | None, now: datetime) -> Call:
        """A citizen's call kanal has answered."""
        return cls(call_sid=call_sid, direction=INBOUND, status=CallStatus.IN_PROGRESS,
                   started_at=now, contact_id=contact_id, language=language)  # fmt: skip

    @classmethod
    def placed(
        cls, call_sid: str, contact_id: int | None, language: str | None, now: datetime
    ) -> Call:
        """A callback's call to a citizen, placed by kanal."""
        return cls(call_sid=call_sid[:64], direction=OUTBOUND, status=CallStatus.RINGING,
                   started_at=now, contact_id=contact_id, language=language)  # fmt: skip

    @property
    def has_ended(self) -> bool:
        return self.ended_at is not None

    def follow(self, status: CallStatus, now: datetime) -> None:
        """A placed call's status as the provider reports it: forward only."""
        if self.has_ended:
            return  # told before (the provider retries status callbacks)
        if self.status == CallStatus.IN_PROGRESS and status == CallStatus.RINGING:
            return  # a late "ringing" after the answer
        self.status = status
        if status in ENDED:
            self.ended_at = now

    def speak(self, language: str) -> None:
        """The caller chose the language of the call."""
        self.language = language

    def offer(self, link: str | None, *, need: str | None, route: str, now: datetime) -> None:
        """The digital route was offered on the call (its link, when there is one), to be
        texted through `route`."""
        self.link = link[:500] if link else None
        self._happened(ev.DEFLECTION_OFFERED, now, need=need, route=route, link=bool(link))

    def link_texted(self, *, need: str | None, route: str, message_id: int, now: datetime) -> None:
        """The caller took the digital route: its link is texted through `route`."""
        self._happened(ev.DEFLECTION_ACCEPTED, now, need=need, route=route, message_id=message_id)

    def link_blocked(self, *, route: str, now: datetime) -> None:
        """The caller took the digital route, but their number opted out of `route`."""
        self._happened(ev.MESSAGE_BLOCKED, now, why="opted_out", route=route)

    def wait(self, queue_name: str) -> None:
        """The caller's audio waits in a queue for a person."""
        self.status = CallStatus.QUEUED
        self.queue_name = queue_name

    def waits_in(self, queue_name: str) -> bool:
        """Return True when the caller waits in that queue already."""
        return self.status == CallStatus.QUEUED and self.queue_name == queue_name

    def book_callback(self) -> None:
        """The caller booked a callback: that is how their wait ends, whatever follows."""
        self.queue_result = BY_CALLBACK

    def bridge(self) -> bool:
        """An agent's leg took the caller from the queue; False when nothing changed."""
        if self.has_ended or self.queue_result == BY_CALLBACK:
            return False
        self.queue_result = BRIDGED
        return True

    def wait_ended(self, result: str) -> None:
        """The wait in the queue ended (Twilio's QueueResult); hung up: abandoned."""
        if self.queue_result != BY_CALLBACK:
            self.queue_result = result[:24]
        abandoned = self.queue_result == HUNG_UP
        self.status = CallStatus.ABANDONED if abandoned else CallStatus.IN_PROGRESS

    def progress(self, status: CallStatus) -> None:
        """A status on the way (ringing, in-progress…) for a call not waiting nor ended."""
        if self.status not in ENDED and self.status not in (
            CallStatus.ABANDONED,
            CallStatus.QUEUED,
        ):
            self.status = status

    def end(self, status: CallStatus, now: datetime, seconds: int | None) -> list[Happened]:
        """The call ended; nothing when told before. Still waiting for a person with no
        end of the wait heard (no Enqueue action): abandoned."""
        if self.has_ended:
            return []
        self.ended_at = now
        waiting = self.status == CallStatus.QUEUED and self.queue_result is None
        if self.status == CallStatus.ABANDONED or waiting:
            self.status = CallStatus.ABANDONED
        else:
            self.status = status
        data = {"status": str(self.status), "queue_result": self.queue_result,
                "seconds": seconds}  # fmt: skip
        return [self._happened(ev.CALL_ENDED, now, **data)]

    @property
    def keeps_contact(self) -> bool:
        """The contact outlives the call: a callback was booked on it."""
        return self.queue_result == BY_CALLBACK
