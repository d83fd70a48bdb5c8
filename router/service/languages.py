"""Which language a conversation is held in: the register, then the conversation, then the
citizen's own words, then the agency's first language.

The language is decided on each citizen message and sticks once it is sure: the register
says it, or the message's language was identified with confidence. A message too short to
tell ("ok", a keyword) is answered in the conversation's language so far, else in the
agency's default, and decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.domain.model import Citizen, Contact
from router.service.ports import LanguageIdentifier


@dataclass(frozen=True)
class Resolved:
    """The language to use now, and whether it is sure enough to keep for the conversation."""

    language: str
    sure: bool
    source: str  # register | conversation | identified | default


def resolve(
    served: tuple[str, ...],
    citizen: Citizen | None,
    contact: Contact,
    text: str | None,
    identify: LanguageIdentifier | None,
) -> Resolved:
    """Return the conversation's language: register > conversation > identified > default."""
    if citizen is not None and citizen.language in served:
        return Resolved(citizen.language, True, "register")
    if contact.language in served:
        return Resolved(contact.language, True, "conversation")
    if identify is not None and text:
        found = identify.identify(text)
        if found in served:
            return Resolved(found, True, "identified")
    return Resolved(served[0], False, "default")


def settle(
    served: tuple[str, ...],
    citizen: Citizen | None,
    contact: Contact,
    text: str | None,
    identify: LanguageIdentifier | None,
) -> str:
    """Resolve the language and keep it on the contact when sure; return it."""
    found = resolve(served, citizen, contact, text, identify)
    if found.sure and contact.language != found.language:
        contact.language = found.language
    return found.language
