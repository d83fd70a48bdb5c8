"""Every person a profile promises has a queue: skills and languages no queue takes.

A contact the policy gives a person (`assisted`, `callback`) joins the first queue of the
profile's `[routing]` that takes its skill, language and channel (router/domain/routing.py);
without `[routing]` the queues are one per skill of `[skills]` and `default_skill`. A contact
no queue takes waits in a queue nobody configured: no supervisor sees it on the board, no
agent with skills serves it, no SLA timer is set for it. The policy gave that citizen a
person and left them without one, so `kanal policy check` and kanal at start refuse such a
profile as they refuse a rule that traps a citizen in a digital route (docs/domain.md §2.6):

- a rule, a surge rule or the default that names a `skill` no queue takes, on a channel the
  rule can fire on;
- a skill `[skills]` maps a need to, or `default_skill` (the skill of a rule that names none,
  and of every callback), that no queue takes on some channel;
- a language kanal speaks (`KANAL_LANGUAGES`, on every channel: a contact's language is one of
  them, router/service/languages.py) in which one of those
  skills has no queue on some channel: its speakers are unstaffed;
- a channel whose `[routing] capacity` is 0: no agent holds a contact there unless their own
  capacity says otherwise, so every citizen sent to a person on it waits for nobody.

A contact whose language is not known yet is taken by any queue that takes its skill and
channel, so the first two checks ask with no language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from router.policy.context import ASSISTED_SERVICE, PolicyContext
from router.policy.profile import Profile, Rule


@dataclass(frozen=True)
class Gap:
    """Where a profile sends citizens to a person no queue has: who, which skill, where."""

    source: str  # "rule 'x'", "surge rule 'x'", "[default]", "[skills] child", "default_skill"
    skill: str
    channels: tuple[str, ...]
    language: str | None = None  # None: in no language at all

    def describe(self, queues: Iterable[str]) -> str:
        """Return the gap as a line a profile author can act on."""
        where = ", ".join(self.channels)
        if not self.skill:
            return (
                f"{self.source} is 0 on {where}: no agent takes a contact there, so citizens "
                "sent to a person on it wait for nobody; give it at least 1"
            )
        names = ", ".join(queues) or "none"
        if self.language is None:
            head = (
                f"{self.source} sends citizens to skill '{self.skill}', which no queue takes "
                f"on {where} (queues: {names})"
            )
        else:
            head = (
                f"{self.source}: citizens speaking '{self.language}' sent to skill "
                f"'{self.skill}' have no queue on {where} (language '{self.language}' is "
                f"unstaffed there; queues: {names})"
            )
        return f"{head}; add a [[routing.queue]] that takes it, or name a skill a queue takes"


def gaps(profile: Profile, languages: Iterable[str] = ()) -> list[Gap]:
    """Return every place the profile sends a citizen to a person no queue takes."""
    found: list[Gap] = []
    langs = tuple(dict.fromkeys(languages))
    for source, skill, channels in _destinations(profile):
        for language in (None, *langs):
            missing = tuple(c for c in channels if not _taken(profile, skill, language, c))
            if missing:
                found.append(Gap(source, skill, missing, language))
                if language is None:
                    break  # no queue at all: each language would say the same again
    capacity = dict(profile.routing.capacity)
    closed = tuple(c for c in profile.channels if capacity.get(c) == 0)
    if closed:
        found.append(Gap("[routing] capacity", "", closed))
    return found


def _destinations(profile: Profile) -> list[tuple[str, str, tuple[str, ...]]]:
    """Return (where it is written, skill, channels it applies on) for each skill a person
    may be asked for, in the order they appear in the file."""
    out: list[tuple[str, str, tuple[str, ...]]] = []
    rules = [("rule", r) for r in profile.rules] + [("surge rule", r) for r in profile.surge_rules]
    for kind, rule in [*rules, ("", profile.default)]:
        if rule.action in ASSISTED_SERVICE and rule.skill:
            name = f"{kind} '{rule.id}'" if kind else "[default]"
            out.append((name, rule.skill, _channels(rule, profile.channels)))
    for need, skill in profile.skills:
        out.append((f"[skills] {need}", skill, profile.channels))
    out.append(("default_skill", profile.default_skill, profile.channels))
    seen: set[tuple[str, str]] = set()
    unique = []
    for source, skill, channels in out:  # one line per skill from [skills]
        key = (source.split(" ")[0] if source.startswith("[skills]") else source, skill)
        if key not in seen and channels:
            seen.add(key)
            unique.append((source, skill, channels))
    return unique


def _channels(rule: Rule, channels: tuple[str, ...]) -> tuple[str, ...]:
    """Return the channels on which the rule's `channel` conditions can hold."""
    tests = [c for c in rule.when if c.field == "channel"]
    return tuple(ch for ch in channels if all(c.holds(PolicyContext(channel=ch)) for c in tests))


def _taken(profile: Profile, skill: str, language: str | None, channel: str) -> bool:
    return any(q.takes(skill, language, channel) for q in profile.routing.queues)
