"""Handlers for a citizen's inbound message: commit it, then route it.

Accepting and processing are separate so a channel can acknowledge a provider as soon as the
message is committed (SMS) and route it afterwards; web chat does both in one request.
The bot is called between two short transactions, never while holding a database lock.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from router.domain import events as ev
from router.domain.citizens import age_band
from router.domain.commands import ReceiveMessage
from router.domain.model import Contact, Message
from router.policy import Action, Decision, PolicyContext, decide
from router.service import escalation
from router.service.conversation import asks_for_person, bot_failed, need_of
from router.service.errors import Conflict, DuplicateDelivery, NotFound
from router.service.journal import pseudonym, record
from router.service.ports import BotTurn


@dataclass(frozen=True)
class Accepted:
    """A committed inbound message (or the one committed before, for a retried delivery)."""

    message_id: int
    contact_id: int
    duplicate: bool = False


@dataclass(frozen=True)
class Snapshot:
    """What the first transaction read, for the bot call and the second transaction."""

    message_id: int
    contact_id: int
    text: str
    kind: str
    state: str
    bot_sender: str
    language: str
    context: PolicyContext
    citizen_id: int | None


def open_contact(uow, channel: str, address: str, now: datetime, **fields) -> Contact:
    """Open a contact, identify the citizen once, and record both."""
    contact = uow.contacts.add(
        Contact(
            channel=channel,
            address=address,
            opened_at=now,
            last_activity_at=now,
            bot_sender="k_" + secrets.token_hex(12),
            **fields,
        )
    )
    citizen = None
    if contact.citizen_id is not None:
        citizen = uow.citizens.get(contact.citizen_id)
    elif channel in ("sms", "voice"):
        citizen = uow.citizens.by_phone(address)
        if citizen is not None:
            contact.citizen_id = citizen.id
    record(uow, contact, ev.CONTACT_OPENED, now, citizen.pseudonym if citizen else None)
    if citizen is not None:
        grounds = [
            e.ground for e in uow.citizens.exemptions(citizen.id) if e.is_valid_on(now.date())
        ]
        record(
            uow,
            contact,
            ev.CITIZEN_IDENTIFIED,
            now,
            citizen.pseudonym,
            exempt=bool(grounds),
            grounds=grounds,
            age_band=age_band(citizen.birth_year, now.date()),
        )
    return contact


def accept(uow, cmd: ReceiveMessage, now: datetime, inactivity: timedelta) -> Accepted:
    """Commit an inbound message once, joining or opening the citizen's contact."""
    try:
        return _accept(uow, cmd, now, inactivity)
    except DuplicateDelivery:
        with uow:
            seen = uow.messages.by_provider_id(cmd.channel, cmd.provider_id)
            return Accepted(seen.id, seen.contact_id, duplicate=True)


def _accept(uow, cmd: ReceiveMessage, now: datetime, inactivity: timedelta) -> Accepted:
    with uow:
        if cmd.provider_id:
            seen = uow.messages.by_provider_id(cmd.channel, cmd.provider_id)
            if seen is not None:
                return Accepted(seen.id, seen.contact_id, duplicate=True)
        if cmd.contact_id is not None:
            contact = uow.contacts.get(cmd.contact_id)
            if contact is None:
                raise NotFound("No such conversation.")
            if contact.state == "closed":
                raise Conflict("This conversation has ended. Please start a new one.")
        else:
            contact = uow.contacts.open_on(cmd.channel, cmd.address, now - inactivity)
            if contact is None:
                for stale in uow.contacts.stale_open_on(cmd.channel, cmd.address):
                    escalation.close_inactive(uow, stale, now)
                contact = open_contact(uow, cmd.channel, cmd.address, now)
        message = uow.messages.add(
            Message(
                channel=cmd.channel,
                direction="in",
                author="citizen",
                text=cmd.text,
                created_at=now,
                contact_id=contact.id,
                address=cmd.address if cmd.channel != "webchat" else None,
                provider_id=cmd.provider_id,
                kind=cmd.kind,
            )
        )
        contact.last_activity_at = now
        record(
            uow, contact, ev.MESSAGE_RECEIVED, now, pseudonym(uow, contact), message_id=message.id
        )
        uow.commit()
        return Accepted(message.id, contact.id)


def snapshot(uow, message_id: int, now: datetime, settings, profile_wait) -> Snapshot | None:
    """Read what routing one message needs; None when it was routed already."""
    with uow:
        message = uow.messages.get(message_id)
        if message is None or message.processed:
            return None
        contact = uow.contacts.get(message.contact_id)
        citizen = uow.citizens.get(contact.citizen_id) if contact.citizen_id else None
        grounds: tuple[str, ...] = ()
        if citizen is not None:
            grounds = tuple(
                sorted(
                    {
                        e.ground
                        for e in uow.citizens.exemptions(citizen.id)
                        if e.is_valid_on(now.date())
                    }
                )
            )
        context = PolicyContext(
            channel=contact.channel,
            exemptions=grounds,
            age_band=age_band(citizen.birth_year, now.date()) if citizen else None,
            identified=citizen is not None,
            bot_failures=contact.bot_failures,
            asked_for_person=asks_for_person(message.text),
            business_hours=settings.business_hours.open_at(now),
            queue_wait_seconds=profile_wait(uow),
            digital_offered=contact.digital_offered,
        )
        return Snapshot(
            message_id=message.id,
            contact_id=contact.id,
            text=message.text,
            kind=message.kind,
            state=contact.state,
            bot_sender=contact.bot_sender,
            language=citizen.language if citizen else "en",
            context=context,
            citizen_id=citizen.id if citizen else None,
        )


def after_bot(context: PolicyContext, turn: BotTurn, repeat: bool) -> PolicyContext:
    """Return the policy context once the bot has seen the message."""
    failed = bot_failed(turn.ok, turn.intent)
    return replace(
        context,
        need=need_of(turn.intent, turn.entities) or turn.intent,
        repeat_contact=repeat,
        confidence=turn.confidence if turn.ok else None,
        bot_failures=context.bot_failures + 1 if failed else 0,
        bot_available=turn.ok or turn.error is None,
        asked_for_person=context.asked_for_person
        or turn.handoff
        or turn.intent == "request_person",
    )


Trail = list[tuple[str, Decision, PolicyContext]]


def route(snap: Snapshot, profile, bot, is_repeat) -> tuple[Trail, BotTurn | None]:
    """Decide, asking the bot only when the policy says self-service.

    `is_repeat(need)` tells whether the citizen came back on the same need within the
    repeat window; it reads the database in its own short transaction.
    """
    first = decide(snap.context, profile)
    trail = [("before_bot", first, snap.context)]
    if first.action != Action.SELF_SERVICE:
        return trail, None
    turn = bot.turn(snap.bot_sender, snap.text, language=snap.language)
    need = need_of(turn.intent, turn.entities)
    context = after_bot(snap.context, turn, bool(need) and is_repeat(need))
    trail.append(("after_bot", decide(context, profile), context))
    return trail, turn
