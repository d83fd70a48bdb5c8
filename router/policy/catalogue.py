"""The reasons of policy profiles as message ids: a Babel extractor for profile files.

`babel.cfg` maps `router/policy/profiles/*.toml` to `extract_reasons`, so `pybabel extract`
finds every rule's reason (and the default's) beside the texts kanal writes itself, and the
reasons can be translated like them without touching the profiles.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from typing import IO, Any


def extract_reasons(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, None, str, list[str]]]:
    """Yield (line, function, reason, comments) for each reason in a profile, as Babel wants."""
    raw = fileobj.read()
    data = tomllib.loads(raw.decode("utf-8"))
    lines = raw.decode("utf-8").splitlines()
    surge = data.get("surge", {}).get("rule", [])
    rules = [*data.get("rule", []), *surge, {**data.get("default", {}), "id": "default"}]
    for rule in rules:
        reason = rule.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            continue
        rule_id = str(rule.get("id", "?"))
        heading = "[default]" if rule_id == "default" else f'"{rule_id}"'
        line = next((i for i, text in enumerate(lines, 1) if heading in text), 0)
        yield line, None, reason.strip(), [f"policy {data.get('name', '?')}, rule {rule_id}"]
