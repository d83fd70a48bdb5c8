"""What the policy sees at each stage of a turn: before the bot (the register, the contact,
the queue, the hours) and after it (what the bot understood, a repeat contact)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from router.domain.citizens import age_band
from router.domain.model import Citizen, Contact, Message
from router.domain.needs import asks_for_person, need_of, not_understood
from router.policy import PolicyContext
from router.service import contacts, outcome
from router.service.ports import BotTurn
from router.service.settings import RouterSettings
from router.service.turn_result import AtBot
from router.service.unit_of_work import UnitOfWork


def before_bot(
    uow: UnitOfWork,
    contact: Contact,
    citizen: Citizen | None,
    message: Message,
    now: datetime,
    settings: RouterSettings,
    *,
    surge: bool = False,
) -> PolicyContext:
    """Return what the policy may look at before the bot has seen the message (`surge`:
    surge mode is under way, router/service/surges.py)."""
    # The register's dates are the agency's calendar days: at 00:30 in Copenhagen an
    # exemption from that day applies, though it is still the day before in UTC.
    zone = settings.business_hours.timezone
    today = settings.business_hours.local(now).date()
    return PolicyContext(
        channel=contact.channel,
        exemptions=contacts.valid_grounds(uow, citizen, now, zone) if citizen else (),
        age_band=age_band(citizen.birth_year, today) if citizen else None,
        identified=citizen is not None,
        bot_failures=contact.bot_failures,
        asked_for_person=asks_for_person(message.text),
        business_hours=settings.business_hours.open_at(now),
        queue_wait_seconds=outcome.estimated_wait(uow, settings),
        digital_offered=contact.digital_offered,
        surge=surge,
    )


def after_bot(
    uow: UnitOfWork,
    contact: Contact,
    at_bot: AtBot,
    turn: BotTurn,
    now: datetime,
    settings: RouterSettings,
) -> PolicyContext:
    """Return the policy context once the bot has seen the message."""
    context = at_bot.first.context
    failed = not turn.ok or not_understood(turn.intent)
    need = need_of(turn.intent, turn.entities)
    since = now - timedelta(days=settings.repeat_window_days)
    repeat = bool(
        need
        and at_bot.citizen_id is not None
        and uow.contacts.resolved_on_need_since(at_bot.citizen_id, need, since, contact.id)
    )
    return replace(
        context,
        need=need or turn.intent,
        repeat_contact=repeat,
        confidence=turn.confidence if turn.ok else None,
        bot_failures=context.bot_failures + 1 if failed else 0,
        bot_available=turn.ok or turn.error is None,
        asked_for_person=context.asked_for_person
        or turn.handoff
        or turn.intent == "request_person",
    )
