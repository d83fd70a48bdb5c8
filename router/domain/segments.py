"""Count SMS segments the way carriers and Twilio do, and split long replies.

GSM-7 (3GPP TS 23.038) packs 160 septets in one SMS, 153 per part once a message is
concatenated (the user-data header takes the rest). Characters of the extension table cost
two septets (escape + character) and an escape pair is never split across parts. One
character outside GSM-7 turns the whole message into UCS-2: 70 UTF-16 code units, 67 per
part, and a surrogate pair (an emoji) is never split either. docs/domain.md §5.6.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67
# Twilio refuses a Body longer than this (error 21617); it recommends at most 320.
MAX_BODY = 1600


@dataclass(frozen=True)
class SegmentCount:
    """How a body travels: its encoding, its parts, and the units it uses."""

    encoding: str  # "GSM-7" | "UCS-2"
    segments: int
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2


def is_gsm7(text: str) -> bool:
    """Return True when every character fits the GSM-7 alphabet (with its extension)."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def _cost(char: str, gsm: bool) -> int:
    if gsm:
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def count_segments(text: str) -> SegmentCount:
    """Return the encoding and number of SMS segments `text` is billed as."""
    gsm = is_gsm7(text)
    single, part = (GSM7_SINGLE, GSM7_PART) if gsm else (UCS2_SINGLE, UCS2_PART)
    costs = [_cost(c, gsm) for c in text]
    units = sum(costs)
    encoding = "GSM-7" if gsm else "UCS-2"
    if units <= single:
        return SegmentCount(encoding, 1, units)
    # Fill parts greedily; a two-unit character that does not fit starts the next part.
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments += 1
            used = 0
        used += cost
    return SegmentCount(encoding, segments, units)


def body_length(text: str) -> int:
    """Return the length Twilio's body limit is checked against (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def split_body(text: str, limit: int = MAX_BODY) -> list[str]:
    """Split a reply into bodies of at most `limit` characters, at word boundaries.

    Paragraph breaks are preferred, then line breaks, then spaces; a single word longer
    than the limit (a long link) is cut as a last resort. Each part is stripped; empty
    text gives no parts.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    text = text.strip()
    parts: list[str] = []
    while text:
        if body_length(text) <= limit:
            parts.append(text)
            break
        head = _prefix_within(text, limit)
        # The limit may fall exactly on a break: then the whole head is a clean part.
        cut = len(head) if text[len(head)].isspace() else _last_break(head)
        if cut <= 0:
            cut = len(head)
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [p for p in parts if p]


def _prefix_within(text: str, limit: int) -> str:
    """Return the longest prefix of `text` whose body length is at most `limit`."""
    used = 0
    for i, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:i]
    return text


def _last_break(head: str) -> int:
    """Return where to cut `head`: after the last paragraph, line or word break in it."""
    for separator in ("\n\n", "\n", " "):
        at = head.rfind(separator)
        # A break in the first half would leave a tiny part; prefer a finer separator.
        if at > len(head) // 2 or (separator == " " and at > 0):
            return at
    return -1
