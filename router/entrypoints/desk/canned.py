"""Canned replies at the desk: those for the conversation's need, filled in for the citizen
(first name, next payment date, the agency) in their language, ready for the reply box."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date

from router.domain.replies import CannedReply, fill, next_payment_date, replies_for, unfilled


@dataclass(frozen=True)
class Canned:
    """A canned reply ready for the reply box: filled in, in the citizen's language."""

    title: str
    text: str
    language: str
    unfilled: tuple[str, ...]  # placeholders the agent must still replace


def canned_replies(
    replies: Iterable[CannedReply],
    need: str | None,
    *,
    language: str,
    name: str | None,
    today: date,
    agency: str,
) -> list[Canned]:
    """Return the canned replies for a need, filled in for the citizen, in their language."""
    found = []
    for reply in replies_for(replies, need):
        lang = reply.language_for((language, "en"))
        values = {
            "first_name": name.split()[0] if name and name.split() else "",
            "next_payment_date": format_date(next_payment_date(today), "long", locale=lang),
            "agency": agency,
        }
        text = fill(reply.texts[lang], values)
        title = reply.titles.get(lang) or next(iter(reply.titles.values()), reply.need)
        found.append(Canned(title, text, lang, tuple(sorted(unfilled(text)))))
    return found
