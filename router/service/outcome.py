"""Carrying out a turn's decision: what kanal says, queues, closes and records.

The turn (`router/service/turn.py`) calls `finish` inside its finishing transaction.
"""

from __future__ import annotations

import functools
from dataclasses import fields
from datetime import datetime

from router.domain.model import CLOSED_BY_BOT, Citizen, Contact, Message, RoutingDecision
from router.domain.needs import need_of, not_understood
from router.policy import Action, Decision
from router.service import callbacks, contacts, surges, wording
from router.service.channels import Channel
from router.service.delivery import Delivery
from router.service.filing import conversation_language
from router.service.opt_outs import keyword_of
from router.service.outbox import say, set_consent
from router.service.ports import BotTurn
from router.service.settings import RouterSettings
from router.service.translations import Translator, translator
from router.service.turn_result import Booked, Finisher, TurnDecision, TurnResult
from router.service.unit_of_work import UnitOfWork


def estimated_wait(uow: UnitOfWork, settings: RouterSettings) -> int:
    """Estimate the wait of a new arrival from the queue's length."""
    return uow.queue.waiting_count() * settings.average_handle_seconds


def carry_out(
    uow: UnitOfWork,
    contact: Contact,
    channel: Channel,
    decision: Decision,
    turn: BotTurn | None,
    now: datetime,
    pseudonym: str | None,
    settings: RouterSettings,
    _: Translator = wording.ENGLISH,
    *,
    citizen: Citizen | None = None,
    booked: list[Booked] | None = None,
    surge: bool = False,
) -> list[Message]:
    """Carry out the policy's decision: answer, offer the digital route, queue, or close.

    What kanal writes itself is in the contact's language (`_`); when a person takes over,
    the citizen is told the policy's reason first, in that language too.

    A callback on a written channel is booked when `booked` is given (callbacks are wired):
    to the phone number the register has for the citizen (an SMS's own number when the
    register does not know it), and a new booking is appended to `booked` for its job, with
    the reason "surge" when a surge rule chose it ("policy" otherwise). Without a phone
    number the callback cannot be made: the citizen is told so and waits for a person here
    (in a surge, with their place in the queue). The phone books its own callbacks (the call
    flow says when).

    In surge mode (`surge`) the citizen is told why (the rule's reason) when the digital
    route is offered, and where they stand in the queue and how long they will wait (from the
    pace of the last hour's answers) when a person takes over or a callback keeps their turn.
    """
    bot_texts = [
        wording.for_channel(channel, text, _)
        for text in (turn.messages if turn is not None and turn.ok else ())
    ]
    action = decision.action

    def tell(author: str, text: str) -> Message:
        return say(uow, contact, channel, author, text, now)

    if action == Action.SELF_SERVICE:
        if not bot_texts:
            return [tell("system", wording.retry(channel, _))]
        return [tell("bot", t) for t in bot_texts]
    if action == Action.OFFER_DIGITAL:
        out = [tell("bot", t) for t in bot_texts]
        offer = wording.offer_digital(channel, _)
        if surge:
            offer = f"{wording.reason(decision, _)} {offer}"
        out.append(tell("system", offer))
        contact.offer_digital(now, decision.rule_id)
        return out
    if action in (Action.ASSISTED, Action.CALLBACK):
        callback = action == Action.CALLBACK
        phone = None
        if callback and booked is not None and channel.digital:
            phone = citizen.phone if citizen is not None and citizen.phone else None
            phone = phone or (contact.address if channel.address_is_phone else None)
            no_phone = phone is None
        else:
            no_phone = False
        contact.hand_off(
            now,
            rule_id=decision.rule_id,
            reason=decision.reason,
            from_bot=turn is not None,
            callback=callback and not no_phone,
            **({"callback_refused": "no_phone"} if no_phone else {}),
        )
        wait = estimated_wait(uow, settings)
        skill = decision.skill or "general"
        contacts.enqueue(
            uow, contact, skill, decision.priority, now, pseudonym, routing=settings.routing
        )
        why = wording.reason(decision, _)
        hours = settings.business_hours
        if surge:
            position, wait = surges.place(uow, contact.id, now, settings.average_handle_seconds)
        if surge and not callback:
            return [tell("system", f"{why} {wording.surge_handoff(channel, position, wait, _)}")]
        if no_phone and surge and hours.open_at(now):
            # The surge's reason promises a call instead of the queue: not for this citizen,
            # who is told why not and waits here, with their place and wait.
            return [tell("system", wording.surge_no_phone(channel, position, wait, _))]
        if no_phone:
            return [tell("system", f"{why} {wording.no_phone(channel, hours, now, wait, _)}")]
        if not callback:
            return [tell("system", f"{why} {wording.handoff(channel, wait, _)}")]
        if phone is not None:
            reason = "surge" if decision.surge else "policy"
            told = _book(uow, contact, hours, now, booked, _, reason)
            if surge:
                told = f"{told} {wording.surge_kept_turn(position, _)}".strip()
            return [tell("system", f"{why} {told}")]
        contact.callback_promised(now, rule_id=decision.rule_id)
        told = wording.callback(channel, hours, now, _)
        return [tell("system", f"{why} {told}")]
    # CLOSE
    out = [tell("bot", t) for t in bot_texts] or [tell("system", wording.close(_))]
    contacts.close(
        uow,
        contact,
        now,
        CLOSED_BY_BOT,
        pseudonym,
        digital=channel.digital,
        rule_id=decision.rule_id,
    )
    return out


def _book(uow, contact, hours, now, booked, _, reason: str = "policy") -> str:  # noqa: ANN001
    """Book the policy's callback (next opening time when closed); say when it will call.

    `reason`: "surge" when a surge rule chose it, else "policy". A citizen with a callback
    pending already keeps that one (not booked twice)."""
    at = None if hours.open_at(now) else hours.next_opening(now)
    callback, new = callbacks.book_in(uow, contact, reason=reason, at=at, now=now)
    if new:
        booked.append(Booked(callback.id, at or now))
    when = hours.next_opening(max(callback.not_before or now, now))
    return wording.called_back(hours, when, now, _)


def answer_keyword(  # noqa: ANN001
    uow, contact, channel, message, now, pseudonym, _: Translator = wording.ENGLISH
) -> list[Message]:
    """Handle STOP/START/HELP: consent and help never reach the bot.

    HELP is answered even to a number that has opted out (the answer is a `notice`, which
    consent does not block): carriers' messaging rules expect it, and it is the one reply an
    opted-out number still gets.
    """
    keyword = keyword_of(message.text)
    if message.kind == "opt_out":
        set_consent(uow, contact.channel, contact.address, False, keyword, now)
        contact.consent_changed(now, opted_in=False, keyword=keyword)
        return []
    if message.kind == "opt_in":
        set_consent(uow, contact.channel, contact.address, True, keyword, now)
        contact.consent_changed(now, opted_in=True, keyword=keyword)
        return [say(uow, contact, channel, "system", wording.opted_in(_), now)]
    return [say(uow, contact, channel, "system", wording.sms_help(channel, _), now, notice=True)]


@functools.cache
def _fields(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


def _inputs(context: object) -> dict:
    """What the policy saw, as stored (JSON: tuples as lists). The context's fields are
    plain values and tuples of them, so a shallow copy is `asdict`'s answer, at a fraction of
    its recursion's cost (a turn stores two)."""
    values = ((name, getattr(context, name)) for name in _fields(type(context)))
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values}


def store_decisions(uow, contact, message, steps, now, pseudonym, profile: str) -> None:  # noqa: ANN001
    """Keep each decision with the inputs it saw, for the desk and for audit."""
    for step in steps:
        d = step.decision
        inputs = _inputs(step.context)
        uow.decisions.add(
            RoutingDecision(
                contact_id=contact.id,
                message_id=message.id,
                profile=profile,
                rule_id=d.rule_id,
                action=str(d.action),
                reason=d.reason,
                inputs=inputs,
                skill=d.skill,
                priority=d.priority,
                decided_at=now,
            )
        )
        contact.decided(
            now,
            stage=step.stage,
            rule_id=d.rule_id,
            action=str(d.action),
            reason=d.reason,
            profile=profile,
            # What the policy saw, so a period can be replayed under another profile
            # (analytics/simulator/); no personal data: the context holds none.
            context=inputs,
            # A surge rule decided (the dashboard counts the surge's callbacks offered).
            **({"surge": True} if d.surge else {}),
        )


def finish(
    uow: UnitOfWork,
    contact: Contact,
    message: Message,
    citizen: Citizen | None,
    steps: list[TurnDecision],
    turn: BotTurn | None,
    now: datetime,
    cut: bool,
    *,
    channel: Channel,
    delivery: Delivery,
    settings: RouterSettings,
    books: bool,
    finisher: Finisher | None,
) -> TurnResult:
    """The turn's finishing work: store the decisions and carry out the last one (the
    message is then processed), claim the replies for after the commit, and let the channel
    add its part (`finisher`)."""
    message.processed = True
    pseudonym = citizen.pseudonym if citizen else None
    _ = translator(conversation_language(settings.languages, contact, citizen))
    replies: list[Message] = []
    booked: list[Booked] | None = [] if books else None
    final = steps[-1].decision if steps else None
    if message.kind != "message":
        replies = answer_keyword(uow, contact, channel, message, now, pseudonym, _)
    elif final is not None:
        if turn is not None:
            contact.heard_from_bot(
                now, need=need_of(turn.intent, turn.entities), intent=turn.intent,
                confidence=turn.confidence, error=turn.error,
                failures=steps[-1].context.bot_failures,
            )  # fmt: skip
        store_decisions(uow, contact, message, steps, now, pseudonym, settings.policy_name)
        replies = carry_out(
            uow, contact, channel, final, turn, now, pseudonym, settings, _,
            citizen=citizen, booked=booked, surge=steps[-1].context.surge,
        )  # fmt: skip
    if cut:
        told = wording.too_long(channel, _)
        replies.insert(0, say(uow, contact, channel, "system", told, now))
    # Claimed now, and sent in this order once this transaction has committed.
    delivery.after_commit(uow, delivery.claim_new(uow, contact, pseudonym, replies))
    bot_ok = turn is not None and turn.ok
    result = TurnResult(
        contact.id,
        contact.state,
        message.id,
        tuple(replies),
        final,
        message,
        language=contact.language,
        understood=None if turn is None else bot_ok and not not_understood(turn.intent),
        links=tuple(link for t in turn.messages for link in wording.links_in(t)) if bot_ok else (),
        need=contact.need,
        booked=tuple(booked or ()),
    )
    if finisher is not None:
        finisher(uow, contact, result, now, pseudonym)
    return result
