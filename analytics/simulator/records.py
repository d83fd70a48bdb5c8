"""What the simulator replays: recorded contacts with their policy decisions, and what became
(or would become) of a contact, as expected shares of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from router.policy import Action, PolicyContext


@dataclass(frozen=True, slots=True)
class Turn:
    """One recorded policy decision: its stage, the rule and action chosen, what it saw."""

    stage: str
    rule_id: str
    action: str
    profile: str | None
    context: PolicyContext | None


@dataclass(frozen=True, slots=True)
class Recorded:
    """One recorded contact: its group, its decisions and what became of it."""

    contact_id: int
    channel: str
    opened_at: datetime
    turns: tuple[Turn, ...] = ()
    need: str | None = None
    exempt: bool | None = None  # None: not identified
    age_band: str | None = None
    assisted: bool = False  # entered the queue for a person
    agent_id: int | None = None
    wait_seconds: float | None = None  # queue wait until an agent took it
    handle_seconds: float | None = None  # agent time, from taking it to resolving it
    completed: bool = False  # completed a need, as the report counts needs (§4.2)
    digital: bool = False  # ... in a way digital take-up counts (digital, assisted digital)
    offered: bool = False  # a digital route was offered
    accepted: bool = False  # and taken (the link texted; on a written channel: no person)
    abandoned: bool = False
    # How many identical contacts this one stands for (analytics.recordings reads a period as
    # classes of contacts alike in everything the simulator uses): then `handle_seconds` is
    # their mean agent time and `wait_seconds` their longest wait.
    count: int = 1

    @property
    def bot(self) -> bool:
        return any(t.stage == "after_bot" for t in self.turns)

    @property
    def callback(self) -> bool:
        return any(t.action == Action.CALLBACK for t in self.turns)

    @property
    def replayable(self) -> bool:
        return all(t.context is not None for t in self.turns)


@dataclass(frozen=True, slots=True)
class ExpectedOutcome:
    """What became (or would become) of one contact, as expected shares of it."""

    assisted: float = 0.0
    callback: float = 0.0
    completed: float = 0.0
    digital: float = 0.0
    agent_seconds: float = 0.0

    def __add__(self, other: ExpectedOutcome) -> ExpectedOutcome:
        return ExpectedOutcome(
            self.assisted + other.assisted,
            self.callback + other.callback,
            self.completed + other.completed,
            self.digital + other.digital,
            self.agent_seconds + other.agent_seconds,
        )

    def times(self, weight: float) -> ExpectedOutcome:
        return ExpectedOutcome(
            self.assisted * weight,
            self.callback * weight,
            self.completed * weight,
            self.digital * weight,
            self.agent_seconds * weight,
        )


def recorded_outcome(c: Recorded, callback: bool | None = None) -> ExpectedOutcome:
    """Return what happened to a contact (`callback`: whether it was called back, if known)."""
    if callback is None:
        callback = c.callback
    return ExpectedOutcome(
        assisted=1.0 if c.assisted else 0.0,
        callback=1.0 if callback else 0.0,
        completed=1.0 if c.completed else 0.0,
        digital=1.0 if c.completed and c.digital else 0.0,
        agent_seconds=c.handle_seconds or 0.0,
    )


class Paths:
    """What contacts' recorded decisions say (bot, callback, replayable), worked out once per
    tuple of turns: contacts read from storage share their tuples."""

    def __init__(self) -> None:
        self._facts: dict[int, tuple[bool, bool, bool]] = {}

    def of(self, c: Recorded) -> tuple[bool, bool, bool]:
        key = id(c.turns)  # the contacts, which hold the tuples, outlive this
        found = self._facts.get(key)
        if found is None:
            found = self._facts[key] = (c.bot, c.callback, c.replayable)
        return found
