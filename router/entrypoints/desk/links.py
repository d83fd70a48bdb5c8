"""Links in a message's text, made clickable at the desk: http(s) only, every piece escaped by
the caller (the `link_parts` template filter)."""

from __future__ import annotations

import re
from collections.abc import Iterator

# http(s) links only: a message's text is never HTML, and no other scheme becomes a link.
_LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def link_parts(text: str) -> Iterator[tuple[str, bool]]:
    """Split a message's text into (part, is_link) pieces, links being http(s) URLs.

    Punctuation that ends a sentence after a link ("see https://x.org/a.") stays text.
    The caller escapes every piece; a link's piece is its href and its words.
    """
    at = 0
    for match in _LINK.finditer(text):
        url = match.group(0)
        while url and url[-1] in _TRAILING:
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            url = url[:-1]
        if match.start() > at:
            yield text[at : match.start()], False
        yield url, True
        at = match.start() + len(url)
    if at < len(text):
        yield text[at:], False
