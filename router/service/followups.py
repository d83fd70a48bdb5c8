"""Deflection follow-ups: a caller who took the digital route is offered a callback if the
need was not completed digitally within the window.

When a caller accepts the digital route (the SMS with the link), the voice channel calls
`schedule(contact_id, need)`. After the window a durable job looks: if the agency's
self-service reported the need completed (`POST /api/v1/events/digital-completion`), nothing
is sent; otherwise the citizen gets one SMS offering a callback (never to a number that
texted STOP), and a reply of CALL books it (`Callbacks.book(…, reason="digital_not_completed")`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from router.domain import events as ev
from router.domain.followups import Followup, FollowupState
from router.domain.model import (
    Contact,
    ContactEvent,
    ContactState,
    DeliveryState,
    InboxEntry,
    Message,
)
from router.service.callbacks import Callbacks, book_in
from router.service.channels import Channels
from router.service.delivery import ClaimedReplies, Delivery
from router.service.errors import DuplicateDelivery, NotFound
from router.service.journal import pseudonym_of
from router.service.outbox import say
from router.service.ports import DurableJobs
from router.service.turn_result import Booked, TurnResult
from router.service.unit_of_work import UnitOfWork

RUN_JOB = "run_followup"  # the durable job's name (bootstrap's registry)
# Replies that accept the callback offer (English and Danish), as a whole message.
ACCEPT_WORDS = frozenset({"CALL", "CALL ME", "RING", "RING OP", "RING MIG OP", "RING TIL MIG"})
OFFER = {
    "en": "You were sent a link for {need}. If it did not work out, we can call you: "
    "reply CALL and an adviser will phone you. Reply STOP to stop messages.",
    "da": "Du fik et link om {need}. Hvis det ikke lykkedes, kan vi ringe til dig: "
    "svar RING, så ringer en rådgiver. Svar STOP for at stoppe beskeder.",
}
BOOKED = {
    "en": "Thank you. An adviser will phone you as soon as one is free.",
    "da": "Tak. En rådgiver ringer til dig, så snart en er ledig.",
}


def is_acceptance(text: str) -> bool:
    """Return True when an SMS reply accepts the callback offer (CALL, RING)."""
    return " ".join(text.strip().strip(".!").upper().split()) in ACCEPT_WORDS


@dataclass(frozen=True)
class Completed:
    """What a digital-completion report changed."""

    citizen: str | None  # the citizen's pseudonym, when known
    need: str
    followups_closed: int


class Followups:
    """Schedule, run and answer deflection follow-ups."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        channels: Channels,
        delivery: Delivery,
        callbacks: Callbacks,
        jobs: DurableJobs,
        window: timedelta,
        clock: Callable[[], datetime],
        *,
        sms_channel: str,
    ) -> None:
        self.uow = uow
        self.channels = channels
        self.delivery = delivery
        self.callbacks = callbacks
        self.jobs = jobs
        self.window = window
        self.clock = clock
        self.sms_channel = sms_channel

    def schedule(self, contact_id: int, need: str | None) -> int | None:
        """Start the window after a caller accepted the digital route; return the id.

        None when the need is not known: a completion could never be matched to it.
        """
        if not need:
            return None
        now = self.clock()
        due = now + self.window
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id)
            if contact is None:
                raise NotFound("No such contact.")
            for waiting in uow.followups.scheduled_on_need(need, contact_id=contact_id):
                return waiting.id  # one follow-up per accepted deflection
            followup = uow.followups.add(
                Followup(
                    contact_id=contact.id,
                    citizen_id=contact.citizen_id,
                    need=need,
                    due_at=due,
                    scheduled_at=now,
                )
            )
            followup.was_scheduled()
            uow.commit()
            followup_id = followup.id
        self.jobs.schedule(RUN_JOB, f"followup-{followup_id}", due, followup_id)
        return followup_id

    def schedule_waiting(self, limit: int = 1000) -> int:
        """Write the job of every follow-up still scheduled again, at its due time.

        The follow-up's row is its durable record; its job is not. APScheduler removes a
        job's row when it hands the job to a thread, so a scheduler killed then (or a
        process stopped between the follow-up's commit and its job) leaves a scheduled
        follow-up without a job. The scheduler runs this at its start and every minute. The
        job's id is the key and the due time, so writing it again only replaces it; a run
        checks the follow-up's state, so a second run of one follow-up offers nothing twice.
        Returns how many.
        """
        with self.uow() as uow:
            waiting = [(f.id, f.due_at) for f in uow.followups.waiting(limit)]
        for followup_id, due in waiting:
            self.jobs.schedule(RUN_JOB, f"followup-{followup_id}", due, followup_id)
        return len(waiting)

    def completed(
        self, need: str, *, pseudonym: str | None = None, contact_id: int | None = None
    ) -> Completed:
        """Record that the agency's self-service saw the need completed; close follow-ups.

        The citizen is named by pseudonym or by the contact that was deflected.
        Raises NotFound when neither names anyone kanal knows.
        """
        now = self.clock()
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id) if contact_id is not None else None
            if contact_id is not None and contact is None:
                raise NotFound(f"No contact {contact_id}.")
            citizen = uow.citizens.by_pseudonym(pseudonym) if pseudonym else None
            if pseudonym and citizen is None:
                raise NotFound("No citizen with that pseudonymous id.")
            citizen_id = citizen.id if citizen else (contact.citizen_id if contact else None)
            found: dict[int, Followup] = {}
            if citizen_id is not None:
                found.update(
                    (f.id, f) for f in uow.followups.scheduled_on_need(need, citizen_id=citizen_id)
                )
            if contact is not None:
                found.update(
                    (f.id, f) for f in uow.followups.scheduled_on_need(need, contact_id=contact.id)
                )
            for followup in found.values():
                followup.complete()
            who = citizen.pseudonym if citizen else pseudonym_of(uow, contact) if contact else None
            uow.events.append(
                ContactEvent(
                    type=ev.DIGITAL_COMPLETED,
                    at=now,
                    channel=contact.channel if contact else "self_service",
                    contact_id=contact.id if contact else None,
                    citizen=who,
                    need=need,
                    data={"source": "self_service", "followups_closed": len(found)},
                )
            )
            uow.commit()
        return Completed(who, need, len(found))

    def run(self, followup_id: int) -> str:
        """After the window: offer a callback by SMS unless the need was completed.

        Returns "completed", "offered", "not_sent" or "settled" (nothing to do).
        """
        now = self.clock()
        channel = self.channels[self.sms_channel]
        with self.uow() as uow:
            followup = uow.followups.get(followup_id, for_update=True)
            if followup is None or followup.state != FollowupState.SCHEDULED:
                return "settled"
            if followup.due_at > now:
                due = followup.due_at
                uow.rollback()
                self.jobs.schedule(RUN_JOB, f"followup-{followup_id}", due, followup_id)
                return "settled"
            deflected = uow.contacts.get(followup.contact_id)
            citizen = uow.citizens.get(followup.citizen_id) if followup.citizen_id else None
            pseudonym = citizen.pseudonym if citizen else None
            again = self._contacted_again(uow, followup)
            phone = citizen.phone if citizen and citizen.phone else None
            if phone is None and deflected.channel == self.callbacks.phone:
                phone = deflected.address if deflected.address.startswith("+") else None
            if phone is None or channel.sender is None:
                followup.offer(sent=False, why="no phone number", contacted_again=again, now=now)
                uow.commit()
                return "not_sent"
            offer = uow.contacts.add(
                Contact(
                    channel=channel.name,
                    address=phone,
                    opened_at=now,
                    # The offer is the agency's message, not a citizen's contact: it opens
                    # and closes at once, and a reply finds it through the follow-up.
                    state=ContactState.CLOSED,
                    closed_at=now,
                    citizen_id=followup.citizen_id,
                    need=followup.need,
                    last_activity_at=now,
                )
            )
            language = citizen.language if citizen and citizen.language in OFFER else "en"
            text = OFFER[language].format(need=followup.need.replace("_", " "))
            message = say(uow, offer, channel, "system", text, now)
            sent = message.delivery_status == DeliveryState.PENDING
            followup.offer(
                sent=sent, why=None if sent else "opted_out", contacted_again=again, now=now,
                offer_contact_id=offer.id,
            )  # fmt: skip
            claims = self.delivery.claim_new(uow, offer, pseudonym, [message])
            uow.commit()
        self.delivery.send(claims)
        return "offered" if sent else "not_sent"

    @staticmethod
    def _contacted_again(uow: UnitOfWork, followup: Followup) -> bool:
        """Return True when the citizen contacted kanal again about the need since."""
        if followup.citizen_id is None:
            return False
        resolved = uow.contacts.resolved_on_need_since(
            followup.citizen_id, followup.need, followup.scheduled_at, followup.contact_id
        )
        return resolved > 0

    def accept_reply(self, phone: str, text: str, provider_id: str) -> bool:
        """Book the callback a citizen accepted by SMS; False when no offer is open to them.

        The SMS channel hands the reply to the turn (`answer`, in the turn's transaction);
        this runs the same answer in a transaction of its own.
        """
        now = self.clock()
        entry = InboxEntry(channel=self.sms_channel, address=phone, text=text,
                           received_at=now, provider_id=provider_id)  # fmt: skip
        try:
            with self.uow() as uow:
                if uow.messages.by_provider_id(self.sms_channel, provider_id) is not None:
                    return True  # a retried webhook: received (and answered) already
                answered = self.answer(uow, entry, now)
                if answered is None:
                    return False
                uow.commit()
                claims = [c for e in uow.published if isinstance(e, ClaimedReplies)
                          for c in e.claims]  # fmt: skip
        except DuplicateDelivery:
            return True  # a retried webhook: booked already
        for booking in answered.booked:
            self.callbacks.schedule(booking.callback_id, booking.at)
        self.delivery.send(claims)
        return True

    def answer(self, uow: UnitOfWork, entry: InboxEntry, now: datetime) -> TurnResult | None:
        """Answer a reply of CALL to a callback offer, in the turn's first transaction.

        The callback is booked, the follow-up accepted and the confirmation written in the
        offer's conversation, claimed for sending after the commit (`ClaimedReplies`): the
        turn writes the callback's job and sends the confirmation after its commit, and should
        the process stop first, the callbacks' sweep and the dispatcher still do (once). None
        when the message is no reply to an offer (it takes its turn as any other).
        """
        if entry.kind != "message" or not is_acceptance(entry.text):
            return None
        citizen = uow.citizens.by_phone(entry.address)
        followup = uow.followups.offered_to(citizen.id) if citizen else None
        if followup is None:
            return None
        channel = self.channels[entry.channel]
        offer = uow.contacts.get(followup.offer_contact_id)
        received = uow.messages.add(
            Message(
                channel=channel.name, direction="in", author="citizen", text=entry.text.strip(),
                created_at=now, contact_id=offer.id, address=entry.address,
                provider_id=entry.provider_id, processed=True,
            )
        )  # fmt: skip
        entry.message_id = received.id
        language = citizen.language if citizen.language in BOOKED else "en"
        deflected = uow.contacts.get(followup.contact_id, for_update=True)
        callback, new = book_in(
            uow, deflected, reason="digital_not_completed", at=None, now=now,
            phone=self.callbacks.phone, routing=self.callbacks.routing,
        )  # fmt: skip
        followup.accept(callback.id, now)
        reply = say(uow, offer, channel, "system", BOOKED[language], now)
        # Claimed now, sent once this transaction has committed (one transaction less than
        # claiming after it; a process that stops first leaves it to the dispatcher).
        claims = self.delivery.claim_new(uow, offer, citizen.pseudonym, [reply])
        self.delivery.after_commit(uow, claims)
        return TurnResult(
            offer.id, offer.state, received.id, (reply,), message=received,
            booked=(Booked(callback.id, now),) if new else (),
        )  # fmt: skip
