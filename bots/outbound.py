"""What kanal sends to Rasa: a pseudonymous sender id, a clean and capped text, the language.

A citizen may send anything (a control character, half of an emoji pair, 10,000 characters);
Rasa may turn such a message down or fail on it, and one citizen's odd message must not look
like the bot being down. Nor may it stall the bot for everyone: Rasa parses one message at a
time, and a message its words leave it unsure of goes through the sentence encoder, whose
cost grows with the tokens (600 characters of punctuation took Rasa 5 s on this two-core
machine under load, every other citizen waiting meanwhile). So the text is cleaned before it
leaves: control characters become spaces (line breaks and tabs stay), lone surrogates are
dropped, a run of one symbol is cut to three ("!!!", "😀😀😀") and any run of symbols to
twelve, and the text is cut to its first `MAX_WORDS` words and to what kanal's Rasa channel
accepts (`MAX_TEXT`, the same number as in bots/rasa/kanal_channel.py). kanal itself keeps
the whole message for the agent.

Rasa sees pseudonymous ids only (docs/domain.md §6): a sender id that does not look like one
(a phone number, a name, anything with characters beyond letters, digits, `_` and `-`) is
never sent.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

MAX_TEXT = 2000  # kanal's Rasa channel answers 400 to a longer message
MAX_WORDS = 100  # the bot reads intent from the beginning; kanal keeps the whole message
MAX_RUN = 3  # "!!!!!!!!" says what "!!!" says
KEEP = {"\n", "\t"}
# A run of the same kind of symbol (punctuation, emoji, marks) longer than MAX_RUN.
_RUN = re.compile(rf"([^\w\s])\1{{{MAX_RUN},}}")
_SYMBOLS = re.compile(rf"[^\w\s]{{{MAX_RUN * 4},}}")
_SENDER = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?")


class NotAPseudonym(ValueError):
    """The sender id could identify a person: it is not sent to the bot."""


def clean_text(text: str) -> str:
    """Return the text Rasa gets: no control characters or lone surrogates, no long runs of
    symbols, at most MAX_WORDS words and MAX_TEXT characters."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            continue
        kept.append(" " if category == "Cc" and char not in KEEP else char)
    cleaned = _RUN.sub(lambda m: m.group(1) * MAX_RUN, "".join(kept))
    cleaned = _SYMBOLS.sub(lambda m: m.group(0)[: MAX_RUN * 4], cleaned)
    words = cleaned.split(" ")
    if len([w for w in words if w.strip()]) > MAX_WORDS:
        count, cut = 0, []
        for word in words:
            count += bool(word.strip())
            if count > MAX_WORDS:
                break
            cut.append(word)
        cleaned = " ".join(cut)
    return cleaned[:MAX_TEXT]


def payload(sender: str, text: str, language: str | None) -> dict[str, Any]:
    """Return the request body for kanal's Rasa channel, or raise NotAPseudonym."""
    if not isinstance(sender, str) or not _SENDER.fullmatch(sender):
        raise NotAPseudonym("the bot's sender id must be a pseudonym")
    body: dict[str, Any] = {"sender": sender, "message": clean_text(text)}
    if language and _LANGUAGE.fullmatch(language):
        body["metadata"] = {"language": language}
    return body
