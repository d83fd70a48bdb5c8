"""A callback's call as the provider reports it: answered (the contact goes to the held
agent, whom the call is connected to), or ended not answered (tried again later, or listed as
failed); every status kept on the call's own row (`Dialling` is made of this part).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from router.domain.callbacks import Callback, CallbackState
from router.domain.calls import NOT_ANSWERED, Call, CallStatus
from router.domain.model import Contact, ContactState
from router.service import contacts
from router.service.callbacks import Callbacks
from router.service.journal import pseudonym_of, record_all
from router.service.ports import Dialler
from router.service.settings import BusinessHours
from router.service.unit_of_work import UnitOfWork

# A call that ended without reaching kanal's answer URL: the citizen was not connected.
UNCONNECTED = "ended unconnected"


@dataclass(frozen=True)
class CallbackAnswered:
    """A callback the citizen has answered: what the call says and whom it connects to."""

    callback_id: int
    contact_id: int
    language: str
    agent_endpoint: str | None  # None: the callback is no longer waiting for this call


def track_call(
    uow: UnitOfWork, call_sid: str, contact: Contact, status: CallStatus, now: datetime
) -> None:
    """Keep a callback's outbound call in the contact's calls (`calls`, by CallSid), beside
    the citizen's own calls in: placed, answered, and how it ended."""
    call = uow.calls.by_sid(call_sid)
    if call is None:
        citizen = uow.citizens.get(contact.citizen_id) if contact.citizen_id else None
        language = citizen.language if citizen else None
        call = uow.calls.add(Call.placed(call_sid, contact.id, language, now))
    call.follow(status, now)


@dataclass(frozen=True)
class CallbackSettings:
    """How callbacks are placed: attempts and waits."""

    attempts: int = 3  # calls placed before a callback counts as failed
    retry_after: timedelta = timedelta(minutes=10)  # between a call not answered and the next
    recheck: timedelta = timedelta(seconds=20)  # when no agent is free, look again after this
    # A call neither answered nor reported on after this is counted as not answered (the
    # provider's status callback was lost); Twilio rings for 60 s by default.
    ring_timeout: timedelta = timedelta(minutes=5)
    # Callbacks are placed in opening hours only; outside them the job sleeps until opening.
    hours: BusinessHours = BusinessHours(always_open=True)


class CallbackCalls:
    """What the provider tells of a callback's call."""

    uow: Callable[[], UnitOfWork]
    clock: Callable[[], datetime]
    dialler: Dialler
    settings: CallbackSettings
    callbacks: Callbacks

    def answered(self, callback_id: int, call_sid: str | None) -> CallbackAnswered | None:
        """The citizen answered: assign the contact to the held agent and say whom to dial.

        None for an unknown callback. A callback no longer ringing (closed meanwhile) answers
        with no agent, so the call only apologises.
        """
        now = self.clock()
        with self.uow() as uow:
            callback = uow.callbacks.get(callback_id, for_update=True)
            if callback is None:
                return None
            contact = uow.contacts.get(callback.contact_id, for_update=True)
            citizen = uow.citizens.get(contact.citizen_id) if contact.citizen_id else None
            # The register's language, else the one the caller chose (the conversation's).
            language = (citizen.language if citizen else None) or contact.language or "en"
            agent_id = callback.agent_id
            if callback.state == CallbackState.ANSWERED and agent_id is not None:
                endpoint = self.dialler.endpoint(agent_id)
                return CallbackAnswered(callback.id, contact.id, language, endpoint)
            if callback.state != CallbackState.CALLING or agent_id is None:
                return CallbackAnswered(callback.id, contact.id, language, None)
            pseudonym = pseudonym_of(uow, contact)
            if contact.state == ContactState.QUEUED:
                item = uow.queue.open_for_contact(contact.id)
                if item is not None and contacts.claim_item(uow, item.id, agent_id, now):
                    item = uow.queue.get(item.id)
                    record_all(uow, contact, contact.assign(item, agent_id, now), now, pseudonym)
                    if item.answered_at is None:
                        item.answered_at = now
            callback.answer(call_sid, now)
            if call_sid:
                track_call(uow, call_sid, contact, CallStatus.IN_PROGRESS, now)
            uow.commit()
            return CallbackAnswered(
                callback.id, contact.id, language, self.dialler.endpoint(agent_id)
            )

    def call_status(self, callback_id: int, call_sid: str, status: str) -> str | None:
        """Apply an outbound callback call's status; None for an unknown callback.

        Only a final status not answered (busy, no-answer, failed, canceled) changes the
        callback: the call that was ringing ends and the callback is retried or fails.
        Statuses of an older call (another sid) are ignored.
        """
        reported = CallStatus.of(status)
        now = self.clock()
        with self.uow() as uow:
            callback = uow.callbacks.get(callback_id, for_update=True)
            if callback is None:
                return None
            contact = uow.contacts.get(callback.contact_id)
            if call_sid and reported is not None:
                # The call's own row (the contact's list of calls) follows every status.
                track_call(uow, call_sid, contact, reported, now)
            # Completed without ever reaching kanal's answer URL (an error on our side, or
            # the citizen hung up at once): the citizen was not connected to anyone.
            ended = UNCONNECTED if reported == CallStatus.COMPLETED else reported
            if ended not in NOT_ANSWERED | {UNCONNECTED} or not callback.rings_for(call_sid):
                uow.commit()
                return str(callback.state)
            outcome = self._not_answered(uow, callback, contact, str(ended), now)
            state, retry_at = str(callback.state), callback.next_attempt_at
            uow.commit()
        if outcome == "waiting":
            self.callbacks.schedule(callback_id, retry_at)
        return state

    def _not_answered(
        self,
        uow: UnitOfWork,
        callback: Callback,
        contact: Contact,
        status: str,
        now: datetime,
        *,
        final: bool = False,
    ) -> str:
        """A call did not reach the citizen: try again later, or list the callback as failed.

        Answers "waiting" (the caller schedules the retry at `next_attempt_at`, after its
        commit) or "failed".
        """
        callback.not_answered(
            status, now, attempts=self.settings.attempts, retry_after=self.settings.retry_after,
            final=final,
        )  # fmt: skip
        return "waiting" if callback.state == CallbackState.BOOKED else "failed"
