"""Who may take what: queues, agents' skills and capacity, and the order of the waiting.

Pure rules (no storage): the service asks them, and the repositories turn a `Match` into a
query. docs/architecture.md, "Routing of assisted work", tells the story.

- A **queue** takes contacts by the policy's skill (the benefit area or need), the
  conversation's language and the channel; an empty requirement takes anything. A contact
  joins the first queue of the agency's list that takes it.
- An **agent** has skills, languages, teams and a capacity per channel (3 chats, 5 SMS
  threads, 1 call by default). An agent serves the queues their skills, languages and
  channels cover; empty skills or languages mean every one.
- An agent may take a waiting item of a queue they serve, in a language they speak, on a
  channel where they hold fewer contacts than their capacity.
- The waiting are served by **rank**: an item of priority p ranks as if it had waited
  p × `aging_seconds` longer. Within a priority the oldest goes first, a higher priority goes
  ahead, and a low-priority item that has waited long enough overtakes: nothing starves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from router.domain.channels import SMS, VOICE, WEBCHAT
from router.domain.model import DEFAULT_AGING
from router.domain.sla import DEFAULT_TARGET_WAIT

# How many contacts an agent holds at once on each channel, unless their profile says.
DEFAULT_CAPACITY = {WEBCHAT: 3, SMS: 5, VOICE: 1}
DEFAULT_AGING_SECONDS = DEFAULT_AGING
DEFAULT_QUEUE = "general"


@dataclass(frozen=True)
class Queue:
    """A queue and what it takes; an empty requirement takes anything."""

    name: str
    skills: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    # How long a contact should wait here at most (SLA timers); None: the agency's.
    target_wait_seconds: int | None = None

    def takes(self, skill: str, language: str | None, channel: str | None) -> bool:
        """Return True when a contact of this skill, language and channel belongs here."""
        return (
            _any_or(self.skills, skill)
            and _any_or(self.languages, language)
            and _any_or(self.channels, channel)
        )


def skill_for_need(skills: Iterable[tuple[str, str]], default: str, need: str | None) -> str:
    """Return the queue skill for a need; "intent:qualifier" tries the qualifier first."""
    if need:
        named = dict(skills)
        for key in (need, *reversed(need.split(":"))):
            if key in named:
                return named[key]
    return default


def _any_or(allowed: tuple[str, ...], value: str | None) -> bool:
    return not allowed or value is None or value in allowed


@dataclass(frozen=True)
class Routing:
    """The agency's routing settings (the `[routing]` part of its profile)."""

    queues: tuple[Queue, ...] = ()
    capacity: tuple[tuple[str, int], ...] = tuple(DEFAULT_CAPACITY.items())
    aging_seconds: int = DEFAULT_AGING_SECONDS
    # An offer not accepted in this time goes to the next agent.
    offer_seconds: int = 30
    # An agent not seen at the desk for this long is offline.
    presence_timeout_seconds: int = 300
    # The target wait of a queue that does not set its own (router/domain/sla.py).
    target_wait_seconds: int = DEFAULT_TARGET_WAIT
    # The profile's needs → skills (its `[skills]`) and the skill of any other need: how
    # work that no policy decision names a skill for (callbacks) finds its queue.
    skills: tuple[tuple[str, str], ...] = ()
    default_skill: str = DEFAULT_QUEUE

    def skill_for(self, need: str | None) -> str:
        """Return the skill of a need, as the policy gives it (router/policy/profile.py)."""
        return skill_for_need(self.skills, self.default_skill, need)

    def target_wait(self, queue: str | None) -> int:
        """Return the target wait of a queue, in seconds."""
        found = self.queue(queue) if queue else None
        if found is not None and found.target_wait_seconds is not None:
            return found.target_wait_seconds
        return self.target_wait_seconds

    def queue_for(self, skill: str, language: str | None, channel: str | None) -> str:
        """Return the queue a contact joins: the first that takes it, else its skill's own."""
        for queue in self.queues:
            if queue.takes(skill, language, channel):
                return queue.name
        return skill or DEFAULT_QUEUE

    def queue(self, name: str) -> Queue | None:
        return next((q for q in self.queues if q.name == name), None)

    def misfit(self, name: str, channel: str | None, language: str | None) -> str | None:
        """Say why a contact of this channel and language does not belong in the queue
        `name` (moved or transferred there, nobody who serves that queue would take it),
        or None when it does. The skill is not asked: a move takes the queue's skill."""
        queue = self.queue(name)
        if queue is None:
            return None
        if not _any_or(queue.languages, language):
            return (
                f"Queue {name} takes contacts in {', '.join(queue.languages)}, "
                f"not this one in {language}."
            )
        if not _any_or(queue.channels, channel):
            return f"Queue {name} takes contacts on {', '.join(queue.channels)}, not {channel}."
        return None

    def names(self) -> tuple[str, ...]:
        return tuple(q.name for q in self.queues)


@dataclass
class AgentProfile:
    """What an agent can take: skills, languages, teams, capacity per channel.

    Empty skills or languages mean every one; a channel missing from `capacity` has the
    agency's default capacity. Stored per member of staff (`kanal agents set`).
    """

    user_id: int
    skills: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    capacity: dict[str, int] = field(default_factory=dict)


def capacity_of(agent: AgentProfile | None, routing: Routing) -> dict[str, int]:
    """Return how many contacts the agent holds at once, per channel."""
    capacity = dict(routing.capacity)
    if agent is not None:
        capacity.update(agent.capacity)
    return capacity


def serves(agent: AgentProfile | None, queue: Queue, routing: Routing) -> bool:
    """Return True when the agent's skills, languages and channels cover the queue."""
    if agent is None:
        return True
    if queue.skills and agent.skills and not set(queue.skills) & set(agent.skills):
        return False
    if queue.languages and agent.languages and not set(queue.languages) & set(agent.languages):
        return False
    channels = [c for c, n in capacity_of(agent, routing).items() if n > 0]
    return not queue.channels or bool(set(queue.channels) & set(channels))


def queues_of(agent: AgentProfile | None, routing: Routing) -> tuple[str, ...] | None:
    """Return the queues the agent serves; None means every queue (no skills set).

    A skill no configured queue names is a queue of its own (the default: one per skill).
    """
    if agent is None or not agent.skills:
        return None
    named = tuple(q.name for q in routing.queues if serves(agent, q, routing))
    return named + tuple(s for s in agent.skills if routing.queue(s) is None and s not in named)


def room(agent: AgentProfile | None, routing: Routing, load: Mapping[str, int]) -> tuple[str, ...]:
    """Return the channels on which the agent can take one more contact."""
    return tuple(
        channel
        for channel, most in sorted(capacity_of(agent, routing).items())
        if load.get(channel, 0) < most
    )


@dataclass(frozen=True)
class Match:
    """What one agent may take now, as the repositories' queries read it.

    `queues` None: every queue; `languages` None: every language. `channels` are the
    channels with room left. Items offered to another agent are not theirs.
    """

    agent_id: int
    channels: tuple[str, ...]
    queues: tuple[str, ...] | None = None
    languages: tuple[str, ...] | None = None

    def allows(self, queue: str, channel: str | None, language: str | None) -> bool:
        return (
            (self.queues is None or queue in self.queues)
            and (channel is None or channel in self.channels)
            and (self.languages is None or language is None or language in self.languages)
        )


def match_for(
    agent_id: int, agent: AgentProfile | None, routing: Routing, load: Mapping[str, int]
) -> Match:
    """Return what the agent may take, given what they hold now (`load` per channel)."""
    languages = tuple(agent.languages) if agent is not None and agent.languages else None
    return Match(agent_id, room(agent, routing, load), queues_of(agent, routing), languages)


def rank_at(enqueued_at: datetime, priority: int, aging_seconds: int) -> datetime:
    """Return the instant an item ranks at: each priority step counts as that much waiting."""
    return enqueued_at - timedelta(seconds=priority * aging_seconds)


def load_of(channels: Iterable[str | None]) -> dict[str, int]:
    """Count what an agent holds by channel (their assigned contacts and open offers)."""
    load: dict[str, int] = {}
    for channel in channels:
        if channel:
            load[channel] = load.get(channel, 0) + 1
    return load
