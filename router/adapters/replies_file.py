"""Read the desk's canned replies from the TOML file an agency edits (KANAL_CANNED_REPLIES).

    [[reply]]
    need = "payment_date"           # a need, a need about one benefit, or "*" for any need
    title = { en = "Next payment date", da = "Næste udbetaling" }
    text = { en = "Hello {first_name}, ...", da = "Hej {first_name}, ..." }

Placeholders: {first_name}, {next_payment_date}, {agency} (router/domain/replies.py).
A file that cannot be used stops the start with a message naming the reply and the problem.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from router.domain.replies import CannedReply

DEFAULT = Path(__file__).resolve().parent / "canned_replies.toml"


def load_replies(path: str | Path | None = None) -> tuple[CannedReply, ...]:
    """Return the canned replies of `path` (default: the file kanal ships)."""
    source = Path(path) if path else DEFAULT
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"KANAL_CANNED_REPLIES: cannot read {source}: {exc}") from None
    replies = []
    for number, entry in enumerate(data.get("reply", []), start=1):
        try:
            titles, texts = entry.get("title", {}), entry["text"]
            if isinstance(texts, str) or isinstance(titles, str):
                raise ValueError("title and text are tables of language = words")
            replies.append(CannedReply(need=str(entry["need"]), titles=titles, texts=texts))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{source}: reply {number}: {exc}") from None
    return tuple(replies)
