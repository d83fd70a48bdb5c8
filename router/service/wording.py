"""What kanal itself says to citizens, in the channel's own words ("write" or "say")."""

from __future__ import annotations

import re

from router.service.channels import Channel
from router.service.settings import BusinessHours

HANDOFF = (
    "I'm passing you to a person now. They will see everything you have {done} here, "
    "so you won't need to repeat it.{wait}"
)
CALLBACK = (
    "Our staff answer {hours}. Your request is saved: a person will answer you here "
    "as soon as we open. You won't need to repeat anything."
)
BUSY_CALLBACK = (
    "All our staff are busy right now. Your request is saved and a person will get back to you "
    "here as soon as one is free, so you don't have to wait on the line. "
    "You won't need to repeat anything."
)
RETRY = (
    "Sorry, I didn't manage to answer that. You can say it in other words, "
    'or {verb} "person" at any time to talk to a person.'
)
OFFER_DIGITAL = (
    "You can do this online yourself at any time. If that doesn't work for you, "
    '{verb} "person" and a person will help.'
)
CLOSE = "Thank you for contacting us. Goodbye."
OPTED_IN = "You will receive messages from us again."
TOO_LONG = (
    "Your message was longer than we can receive here ({limit} characters), so only its "
    "beginning reached us."
)

NO_LINK = "the agency's website"
_LINK = re.compile(r"https?://\S+?(?=[.,;:!?)]*(?:\s|$))")
_DONE = {"write": "written", "say": "said"}


def _say(template: str, channel: Channel, **values: object) -> str:
    return template.format(verb=channel.verb, done=_DONE.get(channel.verb, "sent"), **values)


def wait_phrase(seconds: int) -> str:
    if seconds <= 60:
        return " Someone should be with you in about a minute."
    return f" The expected wait is about {round(seconds / 60)} minutes."


def handoff(channel: Channel, wait_seconds: int) -> str:
    return _say(HANDOFF, channel, wait=wait_phrase(wait_seconds))


def callback(channel: Channel, hours: BusinessHours, now) -> str:  # noqa: ANN001
    if hours.open_at(now):
        return BUSY_CALLBACK
    return CALLBACK.format(hours=hours.describe())


def retry(channel: Channel) -> str:
    return _say(RETRY, channel)


def offer_digital(channel: Channel) -> str:
    return _say(OFFER_DIGITAL, channel)


def for_channel(channel: Channel, text: str) -> str:
    """Return a text as the channel can carry it: where a link cannot be followed (a
    phone call), the address is named as the website instead of read out."""
    return text if channel.sends_links else _LINK.sub(NO_LINK, text)


def links_in(text: str) -> list[str]:
    """Return the web addresses a text holds, in order."""
    return _LINK.findall(text)


def too_long(channel: Channel) -> str:
    return TOO_LONG.format(limit=channel.max_text)
