"""What kanal itself says to citizens, in the channel's own words ("write" or "say") and in
the citizen's language.

The texts are English message ids of the translations (`router/service/translations.py`);
each function takes the translator of the contact's language (English when none is given).
Texts meant for SMS keep to the GSM-7 alphabet (straight quotes, a hyphen between hours) so
a reply travels in 160-character segments, in Danish too (æ ø å are GSM-7).
"""

from __future__ import annotations

import re

from router.policy import Decision
from router.service.channels import Channel
from router.service.settings import BusinessHours
from router.service.translations import N_, Translator, translator

HANDOFF = N_(
    "I'm passing you to a person now. They will see everything you have {done} here, "
    "so you won't need to repeat it."
)
WAIT_A_MINUTE = N_("Someone should be with you in about a minute.")
CALLBACK = N_(
    "Our staff answer {hours}. Your request is saved: a person will answer you here "
    "as soon as we open. You won't need to repeat anything."
)
HOURS = N_("{opens}-{closes} on weekdays ({timezone})")
ANY_TIME = N_("at any time")
BUSY_CALLBACK = N_(
    "All our staff are busy right now. Your request is saved and a person will get back to you "
    "here as soon as one is free, so you don't have to wait on the line. "
    "You won't need to repeat anything."
)
CALLED_SOON = N_(
    "A person will call you on the phone number we have registered for you as soon as one is "
    "free. You won't need to repeat anything."
)
CALLED_AT = N_(
    "Our staff answer {hours}. A person will call you on the phone number we have registered "
    "for you on {day} from {time}. You won't need to repeat anything."
)
# Surge mode (router/domain/surge.py): the queues are long, and the citizen is told where
# they stand, honestly.
SURGE_PLACE = N_("We are very busy right now. You are number {position} in the queue.")
SURGE_KEEP_TURN = N_("You are number {position} in the queue and keep your turn.")
NO_PHONE = N_("We can't call you back: we have no phone number for you.")
WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
RETRY = N_(
    "Sorry, I didn't manage to answer that. You can say it in other words, "
    'or {verb} "person" at any time to talk to a person.'
)
OFFER_DIGITAL = N_(
    "You can do this online yourself at any time. If that doesn't work for you, "
    '{verb} "person" and a person will help.'
)
CLOSE = N_("Thank you for contacting us. Goodbye.")
OPTED_IN = N_("You will receive messages from us again.")
SMS_HELP = N_(
    "kanal: text your question and our assistant or a person will answer. "
    "Reply STOP to stop messages, START to resume."
)
TOO_LONG = N_(
    "Your message was longer than we can receive here ({limit} characters), so only its "
    "beginning reached us."
)
NO_LINK = N_("the agency's website")
# How citizens talk to us on a channel (`Channel.verb`), and what they have done so far.
VERBS = {"write": N_("write"), "say": N_("say")}
DONE = {"write": N_("written"), "say": N_("said")}

ENGLISH = translator("en")
_LINK = re.compile(r"https?://\S+?(?=[.,;:!?)]*(?:\s|$))")


def _say(_: Translator, template: str, channel: Channel, **values: object) -> str:
    return _(
        template,
        verb=_(VERBS.get(channel.verb, channel.verb)),
        done=_(DONE.get(channel.verb, N_("written"))),
        **values,
    )


def wait_phrase(seconds: int, _: Translator = ENGLISH) -> str:
    """Say how long the citizen will wait for a person."""
    if seconds <= 60:
        return _(WAIT_A_MINUTE)
    minutes = round(seconds / 60)
    return _.ngettext(
        "The expected wait is about {n} minute.", "The expected wait is about {n} minutes.", minutes
    )


def handoff(channel: Channel, wait_seconds: int, _: Translator = ENGLISH) -> str:
    return f"{_say(_, HANDOFF, channel)} {wait_phrase(wait_seconds, _)}"


def surge_place(position: int, wait_seconds: int, _: Translator = ENGLISH) -> str:
    """Say honestly, in a surge, where the citizen stands and how long they will wait."""
    if position <= 0:
        return wait_phrase(wait_seconds, _)
    return f"{_(SURGE_PLACE, position=position)} {wait_phrase(wait_seconds, _)}"


def surge_handoff(channel: Channel, position: int, wait_seconds: int, _: Translator = ENGLISH):  # noqa: ANN201
    """Hand over to a person in a surge: the place in the queue and the wait, honestly."""
    return f"{_say(_, HANDOFF, channel)} {surge_place(position, wait_seconds, _)}"


def surge_no_phone(channel: Channel, position: int, wait_seconds: int, _: Translator = ENGLISH):  # noqa: ANN201
    """Say, in a surge, that the callback cannot be made (no phone number) and that a person
    answers here instead: the place in the queue and the wait, honestly."""
    return f"{_(NO_PHONE)} {surge_handoff(channel, position, wait_seconds, _)}"


def surge_kept_turn(position: int, _: Translator = ENGLISH) -> str:
    """Tell a citizen booked a callback in a surge that they keep their place."""
    return _(SURGE_KEEP_TURN, position=position) if position > 0 else ""


def opening_hours(hours: BusinessHours, _: Translator = ENGLISH) -> str:
    """Say when people answer, e.g. "08:00-16:00 on weekdays (Europe/Copenhagen)"."""
    if hours.always_open:
        return _(ANY_TIME)
    opens, closes = hours.opens.strftime("%H:%M"), hours.closes.strftime("%H:%M")
    return _(HOURS, opens=opens, closes=closes, timezone=hours.timezone)


def callback(channel: Channel, hours: BusinessHours, now, _: Translator = ENGLISH) -> str:  # noqa: ANN001
    if hours.open_at(now):
        return _(BUSY_CALLBACK)
    return _(CALLBACK, hours=opening_hours(hours, _))


def called_back(hours: BusinessHours, at, now, _: Translator = ENGLISH) -> str:  # noqa: ANN001
    """Tell a citizen on a written channel when the booked callback will call them.

    `at` is the earliest time the callback is placed (None: as soon as a person is free);
    a time in the future is said in the agency's time zone, as "on Monday from 08:00".
    """
    if at is None or at <= now:
        return _(CALLED_SOON)
    local = hours.local(at)
    return _(
        CALLED_AT,
        hours=opening_hours(hours, _),
        day=_(WEEKDAYS[local.weekday()]),
        time=local.strftime("%H:%M"),
    )


def no_phone(
    channel: Channel,
    hours: BusinessHours,
    now,
    wait_seconds: int,
    _: Translator = ENGLISH,  # noqa: ANN001
) -> str:
    """Say honestly that the policy's callback cannot be made, and what happens instead:
    a person answers in writing here (when open: now, with the wait; else at opening)."""
    if hours.open_at(now):
        instead = handoff(channel, wait_seconds, _)
    else:
        instead = callback(channel, hours, now, _)
    return f"{_(NO_PHONE)} {instead}"


def retry(channel: Channel, _: Translator = ENGLISH) -> str:
    return _say(_, RETRY, channel)


def offer_digital(channel: Channel, _: Translator = ENGLISH) -> str:
    return _say(_, OFFER_DIGITAL, channel)


def close(_: Translator = ENGLISH) -> str:
    return _(CLOSE)


def opted_in(_: Translator = ENGLISH) -> str:
    return _(OPTED_IN)


def sms_help(channel: Channel, _: Translator = ENGLISH) -> str:
    """The answer to HELP: the agency's own text when it set one, else kanal's, translated."""
    return channel.help_text or _(SMS_HELP)


def reason(decision: Decision, _: Translator = ENGLISH) -> str:
    """The policy's reason for a decision, in the citizen's language."""
    return decision.explain(_)


def for_channel(channel: Channel, text: str, _: Translator = ENGLISH) -> str:
    """Return a text as the channel can carry it: where a link cannot be followed (a
    phone call), the address is named as the website instead of read out."""
    return text if channel.sends_links else _LINK.sub(_(NO_LINK), text)


def links_in(text: str) -> list[str]:
    """Return the web addresses a text holds, in order."""
    return _LINK.findall(text)


def too_long(channel: Channel, _: Translator = ENGLISH) -> str:
    return _(TOO_LONG, limit=channel.max_text)
