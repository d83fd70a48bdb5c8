"""Messages that may or may not have gone out (`Delivery` is made of this part).

A claim whose lease ran out with nothing recorded (its process stopped between the commit
that claimed the message and the record of the provider's answer) is settled by the
provider's own record (`SentLookup`): sent again if it never took the message, recorded if it
did, and left to a person (`review`) when that cannot be known. A person settles a message in
review after checking with the citizen (`settle_review`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from router.domain.model import DeliveryState
from router.domain.segments import count_segments
from router.service.channels import Channels
from router.service.errors import Conflict, NotFound
from router.service.journal import write_new_events
from router.service.ports import SendResult, SentLookup
from router.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class Review:
    """Settle what may have gone out: stale claims, and messages in review."""

    uow: Callable[[], UnitOfWork]
    channels: Channels
    clock: Callable[[], datetime]
    lease: timedelta

    def review_stale_claims(self) -> int:
        """Settle claims whose lease ran out with nothing recorded (their process stopped).

        Each channel's provider is asked, outside any transaction, whether it took the
        message since it was claimed: one it never took is claimable again (and sent by
        this dispatch), one it took is recorded as handed over, and one it cannot answer
        for goes to review (it may have gone out). Returns how many went to review.
        """
        now = self.clock()
        with self.uow() as uow:
            stale = [
                (m.id, m.channel, m.address, m.text, m.next_attempt_at)
                for channel in self.channels.with_senders()
                for m in uow.messages.in_delivery_status(
                    channel.name, (DeliveryState.SENDING_LOCAL,), now
                )
            ]
        reviewed = 0
        for message_id, channel, to, body, lease_end in stale:
            sender = self.channels[channel].sender
            found: SendResult | None = SendResult("uncertain")
            if isinstance(sender, SentLookup) and to and lease_end is not None:
                # Claimed a lease before `lease_end`; a minute more for the clocks' drift.
                since = lease_end - self.lease - timedelta(minutes=1)
                try:
                    found = sender.find_sent(to, body, since)
                except Exception:  # an adapter bug: whether it went out is unknown
                    log.exception("asking the %s provider about message %s", channel, message_id)
            reviewed += self._settle_stale(message_id, found, now)
        return reviewed

    def _settle_stale(self, message_id: int, found: SendResult | None, now: datetime) -> bool:
        """Apply the provider's word to one stale claim; True when it went to review."""
        with self.uow() as uow:
            message = uow.messages.get(message_id, for_update=True)
            stale = (
                message is not None
                and message.delivery_status == DeliveryState.SENDING_LOCAL
                and message.next_attempt_at is not None
                and message.next_attempt_at <= now
            )
            if not stale:  # recorded meanwhile, by a slow sender or a status callback
                return False
            if found is None:
                message.claim_lapsed(now)
            elif found.outcome == "accepted":
                segments = found.segments or count_segments(message.text).segments
                message.handed_over(now, found.provider_id, segments)
            else:
                message.claim_went_stale(now)
            uow.commit()
            return found is not None and found.outcome != "accepted"

    def settle_review(self, contact_id: int, message_id: int, *, resend: bool, by: int) -> str:
        """Settle a message whose sending may or may not have gone out; return its new state.

        A person decides: after checking with the citizen, either it arrived (mark it sent) or
        it did not (send it again, through the same consent check as every send).
        """
        now = self.clock()
        with self.uow() as uow:
            message = uow.messages.get(message_id, for_update=True)
            if message is None or message.contact_id != contact_id or message.direction != "out":
                raise NotFound("No such message in this contact.")
            if message.delivery_status != DeliveryState.REVIEW:
                raise Conflict("This message is not waiting for a check; nothing to settle.")
            message.settle(now, resend=resend, by=by)
            write_new_events(uow)  # journaled before the claim moves it on
            claims = self.claim(uow, [message_id]) if resend else ()
            uow.commit()
            state = message.delivery_status
        if not claims:
            return state
        self.send(claims)
        with self.uow() as uow:
            return uow.messages.get(message_id).delivery_status
