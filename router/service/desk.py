"""Handlers for the agent desk: take the next contact, reply, resolve."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from router.domain.commands import AgentReply, ClaimNext, Resolve
from router.domain.model import (
    CLOSED_RESOLVED,
    Contact,
    ContactState,
    DeliveryState,
    IllegalTransition,
    Message,
)
from router.domain.notes import InternalNote
from router.domain.routing import Routing
from router.domain.wrapup import outcome_of
from router.service import contacts
from router.service.assignments import Assignments, Claimed
from router.service.channels import Channels
from router.service.delivery import Delivery
from router.service.errors import Conflict, Forbidden, NotFound
from router.service.journal import pseudonym_of
from router.service.outbox import say
from router.service.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Replied:
    message: Message
    blocked: bool


class Desk:
    """What agents do to contacts; replies leave through the contact's channel."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        channels: Channels,
        delivery: Delivery,
        clock: Callable[[], datetime],
        assignments: Assignments | None = None,
    ) -> None:
        self.uow = uow
        self.channels = channels
        self.delivery = delivery
        self.clock = clock
        self.assignments = assignments or Assignments(uow, Routing(), clock)

    def claim_next(self, cmd: ClaimNext) -> Claimed | None:
        """Assign the next contact the agent may take; None when nothing matches them.

        The routing rules (queues, language, capacity, offers, rank) and the locks are
        `Assignments.claim`'s: two agents never get the same contact. Raises `Busy` when
        claims at the same moment kept it from finishing (work may be waiting).
        """
        return self.assignments.claim(cmd.agent_id, cmd.skills)

    def reply(self, cmd: AgentReply) -> Replied:
        """Send an agent's answer on the citizen's own channel (never to an opted-out number)."""
        text = cmd.text.strip()
        if not text:
            raise Conflict("The reply is empty.")
        now = self.clock()
        with self.uow() as uow:
            contact = self._owned(uow, cmd.contact_id, cmd.agent_id)
            channel = self.channels[contact.channel]
            message = say(uow, contact, channel, "agent", text, now, agent_id=cmd.agent_id)
            item = uow.queue.open_for_contact(contact.id)
            first = item is not None and item.answer(now)
            contact.agent_replied(now, message_id=message.id, agent_id=cmd.agent_id, first=first)
            pseudonym = pseudonym_of(uow, contact)
            blocked = message.delivery_status == DeliveryState.BLOCKED  # logged by `say`
            claims = self.delivery.claim_new(uow, contact, pseudonym, [message])
            uow.commit()
        self.delivery.send(claims)
        return Replied(message, blocked)

    def resolve(self, cmd: Resolve) -> None:
        """Close a contact with its wrap-up code and outcome (ValueError for an unknown one)."""
        outcome = outcome_of(cmd.outcome) if cmd.outcome is not None else None
        now = self.clock()
        with self.uow() as uow:
            contact = self._owned(uow, cmd.contact_id, cmd.agent_id)
            contacts.close(
                uow,
                contact,
                now,
                CLOSED_RESOLVED,
                pseudonym_of(uow, contact),
                agent_id=cmd.agent_id,
                wrap_up=cmd.wrap_up,
                completed=cmd.completed,
                outcome=outcome,
                digital=self.channels[contact.channel].digital,
            )
            uow.commit()

    def add_note(self, agent_id: int, contact_id: int, text: str) -> int:
        """Keep an internal note on a contact for colleagues; it is never sent to the citizen.

        Whoever may open the conversation may note on it (the desk's access rule guards the
        route). An empty or too long note raises Conflict.
        """
        now = self.clock()
        with self.uow() as uow:
            if uow.contacts.get(contact_id) is None:
                raise NotFound("No such contact.")
            try:
                note = InternalNote(contact_id=contact_id, agent_id=agent_id, text=text, at=now)
            except IllegalTransition as exc:
                raise Conflict(f"The note was not kept: {exc}.") from None
            uow.notes.add(note)
            note.written()
            uow.commit()
            return note.id

    def taking_calls(self, agent_id: int) -> bool:
        """Return whether the agent said they take calls (callbacks are placed for them)."""
        with self.uow() as uow:
            user = uow.users.get(agent_id)
            return bool(user and user.available_for_calls)

    def set_taking_calls(self, agent_id: int, taking: bool) -> None:
        """An agent says at the desk whether callbacks may be placed for them."""
        with self.uow() as uow:
            user = uow.users.get(agent_id)
            if user is None:
                raise NotFound("No such member of staff.")
            user.available_for_calls = taking
            uow.commit()

    def settle_review(self, contact_id: int, message_id: int, *, resend: bool, by: int) -> str:
        """Settle a message that may or may not have gone out (see Delivery.settle_review)."""
        return self.delivery.settle_review(contact_id, message_id, resend=resend, by=by)

    @staticmethod
    def _owned(uow: UnitOfWork, contact_id: int, agent_id: int) -> Contact:
        contact = uow.contacts.get(contact_id, for_update=True)
        if contact is None:
            raise NotFound("No such contact.")
        if contact.state == ContactState.CLOSED:
            raise Conflict("This contact is closed.")
        if contact.agent_id != agent_id:
            raise Forbidden("This contact is assigned to someone else. Claim it first.")
        return contact
