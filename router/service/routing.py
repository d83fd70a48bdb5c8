"""Carrying out the policy's decision on one turn, in the second short transaction."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from router.domain import events as ev
from router.domain.model import Contact, Message, RoutingDecision
from router.policy import Action, Decision
from router.service import escalation
from router.service.conversation import need_of
from router.service.inbound import Snapshot, Trail
from router.service.journal import pseudonym, record
from router.service.outbox import say, set_consent
from router.service.ports import BotTurn

HANDOFF_TEXT = (
    "I'm passing you to a person now. They will see everything you have written here, "
    "so you won't need to repeat it.{wait}"
)
CALLBACK_TEXT = (
    "Our staff answer {hours}. Your request is saved: a person will answer you here "
    "as soon as we open. You won't need to repeat anything."
)
BUSY_CALLBACK_TEXT = (
    "All our staff are busy right now. Your request is saved and a person will get back to you "
    "here as soon as one is free, so you don't have to wait on the line. "
    "You won't need to repeat anything."
)
RETRY_TEXT = (
    "Sorry, I didn't manage to answer that. You can say it in other words, "
    'or write "person" at any time to talk to a person.'
)
OFFER_TEXT = (
    "You can do this online yourself at any time. If that doesn't work for you, "
    'write "person" and a person will help.'
)
CLOSE_TEXT = "Thank you for contacting us. Goodbye."


@dataclass(frozen=True)
class TurnResult:
    """What a turn left behind: the contact's state and the messages it produced."""

    contact_id: int
    state: str
    replies: tuple[Message, ...] = ()
    decision: Decision | None = None


def _wait_phrase(seconds: int) -> str:
    if seconds <= 60:
        return " Someone should be with you in about a minute."
    return f" The expected wait is about {round(seconds / 60)} minutes."


def _store_trail(uow, contact: Contact, snap: Snapshot, trail: Trail, profile: str, now, citizen):
    for stage, decision, context in trail:
        uow.decisions.add(
            RoutingDecision(
                contact_id=contact.id,
                message_id=snap.message_id,
                profile=profile,
                rule_id=decision.rule_id,
                action=str(decision.action),
                reason=decision.reason,
                inputs={
                    k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(context).items()
                },
                skill=decision.skill,
                priority=decision.priority,
                decided_at=now,
            )
        )
        record(
            uow,
            contact,
            ev.DECISION_MADE,
            now,
            citizen,
            stage=stage,
            rule_id=decision.rule_id,
            action=str(decision.action),
            reason=decision.reason,
            profile=profile,
        )


def _record_bot(uow, contact: Contact, turn: BotTurn, failures: int, now, citizen) -> None:
    if failures == 0:
        record(
            uow,
            contact,
            ev.BOT_ANSWERED,
            now,
            citizen,
            intent=turn.intent,
            confidence=turn.confidence,
        )
    else:
        record(
            uow,
            contact,
            ev.BOT_FAILED,
            now,
            citizen,
            intent=turn.intent,
            confidence=turn.confidence,
            error=turn.error,
            consecutive=failures,
        )


def _keyword(uow, contact: Contact, snap: Snapshot, now, citizen, settings) -> list[Message]:
    """Handle STOP/START/HELP: consent and help never reach the bot."""
    if snap.kind == "opt_out":
        set_consent(uow, contact.channel, contact.address, False, snap.text.strip().upper(), now)
        record(uow, contact, ev.SMS_OPT_OUT, now, citizen, keyword=snap.text.strip().upper()[:16])
        return []
    if snap.kind == "opt_in":
        set_consent(uow, contact.channel, contact.address, True, snap.text.strip().upper(), now)
        record(uow, contact, ev.SMS_OPT_IN, now, citizen, keyword=snap.text.strip().upper()[:16])
        return [say(uow, contact, "system", "You will receive messages from us again.", now)]
    return [say(uow, contact, "system", settings.sms_help_text, now, notice=True)]


def apply(
    uow, snap: Snapshot, trail: Trail, turn: BotTurn | None, now: datetime, settings
) -> TurnResult:
    """Store the decision trail and carry out the final decision; idempotent per message."""
    with uow:
        message = uow.messages.get(snap.message_id)
        contact = uow.contacts.get(snap.contact_id, for_update=True)
        if message.processed:
            return TurnResult(contact.id, contact.state)
        message.processed = True
        citizen = pseudonym(uow, contact)
        replies: list[Message] = []
        final: Decision | None = None
        if snap.kind != "message":
            replies = _keyword(uow, contact, snap, now, citizen, settings)
        elif contact.state == "bot" and trail:
            final = trail[-1][1]
            context = trail[-1][2]
            if turn is not None:
                contact.bot_failures = context.bot_failures
                contact.need = need_of(turn.intent, turn.entities) or contact.need
                _record_bot(uow, contact, turn, context.bot_failures, now, citizen)
            _store_trail(uow, contact, snap, trail, settings.policy_name, now, citizen)
            replies = _carry_out(uow, contact, final, turn, now, citizen, settings)
        uow.commit()
        return TurnResult(contact.id, contact.state, tuple(replies), final)


def _carry_out(uow, contact, decision: Decision, turn, now, citizen, settings) -> list[Message]:
    bot_texts = list(turn.messages) if turn is not None and turn.ok else []
    action = decision.action
    if action == Action.SELF_SERVICE:
        texts = bot_texts or [RETRY_TEXT]
        return [say(uow, contact, "bot" if bot_texts else "system", t, now) for t in texts]
    if action == Action.OFFER_DIGITAL:
        out = [say(uow, contact, "bot", t, now) for t in bot_texts]
        out.append(say(uow, contact, "system", OFFER_TEXT, now))
        contact.digital_offered = True
        record(uow, contact, ev.DIGITAL_OFFERED, now, citizen, rule_id=decision.rule_id)
        return out
    if action in (Action.ASSISTED, Action.CALLBACK):
        skill = decision.skill or "general"
        record(
            uow,
            contact,
            ev.HANDED_OFF,
            now,
            citizen,
            rule_id=decision.rule_id,
            reason=decision.reason,
            from_bot=turn is not None,
            callback=action == Action.CALLBACK,
        )
        wait = escalation.estimated_wait_seconds(uow, settings.average_handle_seconds)
        escalation.enqueue(uow, contact, skill, decision.priority, now, citizen)
        if action == Action.CALLBACK:
            record(uow, contact, ev.CALLBACK_SCHEDULED, now, citizen, rule_id=decision.rule_id)
            if settings.business_hours.open_at(now):
                text = BUSY_CALLBACK_TEXT
            else:
                text = CALLBACK_TEXT.format(hours=settings.business_hours.describe())
        else:
            text = HANDOFF_TEXT.format(wait=_wait_phrase(wait))
        return [say(uow, contact, "system", text, now)]
    # CLOSE
    out = [say(uow, contact, "bot", t, now) for t in bot_texts] or [
        say(uow, contact, "system", CLOSE_TEXT, now)
    ]
    escalation.close_by_bot(uow, contact, now, citizen, decision.rule_id)
    return out
