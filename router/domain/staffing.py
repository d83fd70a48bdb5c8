"""Whether anyone can take the work: the agents' skills, languages and channels against the
queues (pure rules; the board and `kanal agents check` ask them).

The policy check (router/policy/coverage.py) refuses a profile that routes a language, skill or
channel to no queue. Whether a queue has an agent who speaks the language depends on the staff,
who change every day, so it is not refused but shown:

- **Nobody serves it**: no agent's skills, languages and capacity cover a queue, language and
  channel that kanal routes to. Contacts there would wait until somebody changes an agent's
  profile (`kanal agents set`), so the supervisor board says so for waiting contacts, and
  `kanal agents check` lists every such gap before anyone waits in it.
- **Nobody signed in serves it**: agents who could take it exist, but none is available or
  busy now; it waits until one of them signs in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from router.domain.channels import CHANNELS
from router.domain.presence import PresenceState
from router.domain.routing import AgentProfile, Routing, match_for

# Agents who are at the desk: they take work now, or will when they finish what they hold.
SIGNED_IN = frozenset({PresenceState.AVAILABLE, PresenceState.BUSY})


class StaffingGap(StrEnum):
    NOBODY_SERVES = "nobody_serves"
    NOBODY_SIGNED_IN = "nobody_signed_in"


@dataclass(frozen=True, order=True)
class Work:
    """Contacts of one queue, language and channel (language None: not known yet)."""

    queue: str
    language: str | None
    channel: str | None


@dataclass(frozen=True)
class StaffMember:
    """An agent as the check sees them: what they can take, and whether they are at the desk."""

    profile: AgentProfile | None  # None: no profile yet, so they take anything
    presence: str = PresenceState.OFFLINE

    @property
    def signed_in(self) -> bool:
        return self.presence in SIGNED_IN


def can_take(member: StaffMember, work: Work, routing: Routing) -> bool:
    """Return True when the agent's skills, languages and capacity cover the work."""
    user_id = member.profile.user_id if member.profile is not None else 0
    match = match_for(user_id, member.profile, routing, {})
    return match.allows(work.queue, work.channel, work.language)


def gap_of(work: Work, staff: Iterable[StaffMember], routing: Routing) -> StaffingGap | None:
    """Return why nobody takes the work now, or None when a signed-in agent can."""
    able = [m for m in staff if can_take(m, work, routing)]
    if not able:
        return StaffingGap.NOBODY_SERVES
    return None if any(m.signed_in for m in able) else StaffingGap.NOBODY_SIGNED_IN


def gaps(
    work: Iterable[Work], staff: Iterable[StaffMember], routing: Routing
) -> dict[Work, StaffingGap]:
    """Return each piece of work nobody takes now, and why."""
    members = list(staff)
    found = {}
    for piece in sorted(set(work), key=_order):
        gap = gap_of(piece, members, routing)
        if gap is not None:
            found[piece] = gap
    return found


def routed_work(routing: Routing, languages: Iterable[str]) -> list[Work]:
    """Every queue, language and channel kanal routes contacts to: the profile's queues, or,
    with none configured, a queue per skill (its `[skills]` and `default_skill`)."""
    spoken = tuple(dict.fromkeys(languages))
    if routing.queues:
        return [
            Work(queue.name, language, channel)
            for queue in routing.queues
            for language in spoken
            if not queue.languages or language in queue.languages
            for channel in CHANNELS
            if not queue.channels or channel in queue.channels
        ]
    skills = dict.fromkeys([*(skill for _, skill in routing.skills), routing.default_skill])
    return [
        Work(s, language, channel) for s in skills for language in spoken for channel in CHANNELS
    ]


def unserved(
    routing: Routing, languages: Iterable[str], staff: Iterable[StaffMember]
) -> list[Work]:
    """Return the routed work no agent's profile covers, whoever is signed in."""
    members = list(staff)
    return [
        w
        for w in routed_work(routing, languages)
        if not any(can_take(m, w, routing) for m in members)
    ]


def _order(work: Work) -> tuple[str, str, str]:
    return (work.queue, work.language or "", work.channel or "")


def waiting_by_work(items: Iterable[tuple[str, str | None, str | None]]) -> Mapping[Work, int]:
    """Count waiting contacts by their queue, language and channel."""
    counted: dict[Work, int] = {}
    for queue, language, channel in items:
        key = Work(queue, language, channel)
        counted[key] = counted.get(key, 0) + 1
    return counted
