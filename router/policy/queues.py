"""The `[routing]` section of a profile: the agency's queues, capacities and timers.

```toml
[routing]
aging_seconds = 900              # one priority step counts as this much waiting
offer_seconds = 30               # an offer not accepted in this time goes to the next agent
presence_timeout_seconds = 300   # an agent not seen at the desk this long is offline
target_wait_seconds = 120        # SLA: warn at 80 % of this wait, raise priority at 100 %
capacity = { webchat = 3, sms = 5, voice = 1 }   # contacts an agent holds at once

[[routing.queue]]                # the first queue that takes a contact gets it
name = "pension-da"
skills = ["pension"]             # the policy's skills (benefit areas); empty: any
languages = ["da"]               # the conversation's language; empty: any
channels = []                    # webchat, sms, voice; empty: any
target_wait_seconds = 60         # this queue's own target wait (else the one above)
```

Without the section every skill of the profile (`[skills]`, `default_skill`) is a queue of
its own, for any language and channel, with the default capacities.
"""

from __future__ import annotations

import re
from typing import Any

from router.domain.routing import DEFAULT_AGING_SECONDS, DEFAULT_CAPACITY, Queue, Routing
from router.domain.sla import DEFAULT_TARGET_WAIT
from router.policy.tables import section, whole

_KEYS = {
    "aging_seconds", "offer_seconds", "presence_timeout_seconds", "capacity", "queue",
    "target_wait_seconds",
}  # fmt: skip
_QUEUE_KEYS = {"name", "skills", "languages", "channels", "target_wait_seconds"}
_TARGET = (5, 86400)  # the range of a target wait, in seconds
_SLUG = re.compile(r"^[a-z][a-z0-9_-]*$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")


def default_queues(skills: tuple[tuple[str, str], ...], default_skill: str) -> tuple[Queue, ...]:
    """One queue per skill the profile names, in name order, for anything else."""
    names = sorted({skill for _, skill in skills} | {default_skill})
    return tuple(Queue(name, skills=(name,)) for name in names)


def parse_routing(
    raw: Any,
    source: str,
    *,
    skills: tuple[tuple[str, str], ...],
    default_skill: str,
    channels: tuple[str, ...],
) -> Routing:
    """Read the `[routing]` table (or its absence) into the agency's routing settings."""
    where = "[routing]"
    needs = {"skills": skills, "default_skill": default_skill}
    if raw is None:
        return Routing(queues=default_queues(skills, default_skill), **needs)
    raw = section(raw, where, _KEYS)
    capacity = dict(DEFAULT_CAPACITY)
    given = raw.get("capacity", {})
    if not isinstance(given, dict):
        raise ValueError(f"{where}: capacity is a table such as {{ webchat = 3, sms = 5 }}")
    for channel, most in given.items():
        if channel not in channels:
            raise ValueError(f"{where}: capacity names {channel!r}, not a channel here")
        capacity[channel] = whole(most, f"{where}: capacity.{channel}", 0, 100)
    queues = raw.get("queue")
    if queues is None:
        parsed = default_queues(skills, default_skill)
    elif not isinstance(queues, list) or not queues:
        raise ValueError(f"{where}: write each queue as a [[routing.queue]] table")
    else:
        parsed = tuple(_queue(q, i, where, channels) for i, q in enumerate(queues, start=1))
        names = [q.name for q in parsed]
        if len(set(names)) != len(names):
            raise ValueError(f"{where}: two queues have the same name")
    return Routing(
        queues=parsed,
        capacity=tuple(sorted(capacity.items())),
        aging_seconds=whole(
            raw.get("aging_seconds", DEFAULT_AGING_SECONDS), f"{where}: aging_seconds", 1, 86400
        ),
        offer_seconds=whole(raw.get("offer_seconds", 30), f"{where}: offer_seconds", 5, 3600),
        presence_timeout_seconds=whole(
            raw.get("presence_timeout_seconds", 300),
            f"{where}: presence_timeout_seconds",
            30,
            86400,
        ),  # fmt: skip
        target_wait_seconds=whole(
            raw.get("target_wait_seconds", DEFAULT_TARGET_WAIT),
            f"{where}: target_wait_seconds",
            *_TARGET,
        ),
        **needs,
    )


def _names(raw: dict, key: str, where: str, valid) -> tuple[str, ...]:  # noqa: ANN001
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and valid(v) for v in value):
        raise ValueError(f"{where}: {key} must be a list of names")
    return tuple(value)


def _queue(raw: Any, i: int, where: str, channels: tuple[str, ...]) -> Queue:
    here = f"{where} queue {i}"
    if not isinstance(raw, dict):
        raise ValueError(f"{here} must be a table")
    unknown = set(raw) - _QUEUE_KEYS
    if unknown:
        raise ValueError(f"{here}: unknown field(s) {', '.join(sorted(unknown))}")
    name = raw.get("name")
    if not isinstance(name, str) or not _SLUG.match(name) or len(name) > 40:
        raise ValueError(f'{here}: name must be a lowercase name like "pension"')
    return Queue(
        name,
        skills=_names(raw, "skills", here, _SLUG.match),
        languages=_names(raw, "languages", here, _LANGUAGE.match),
        channels=_names(raw, "channels", here, lambda c: c in channels),
        target_wait_seconds=(
            None
            if raw.get("target_wait_seconds") is None
            else whole(raw["target_wait_seconds"], f"{here}: target_wait_seconds", *_TARGET)
        ),
    )
