"""Observed behaviour: the rates and outcomes of the period's recorded contacts, by group (channel
× need × exemption, falling back to wider groups under MIN_SAMPLE contacts)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from analytics.simulator.records import ExpectedOutcome, Paths, Recorded, recorded_outcome

MIN_SAMPLE = 30  # contacts a group needs before its own rate is used
# When the period shows no contact at all that went a way, these stand in (and are reported).
DEFAULT_RATES = {"containment": 0.5, "acceptance": 0.3}
DEFAULT_HANDLE_SECONDS = 300.0


def group_keys(c: Recorded) -> tuple[tuple, ...]:
    """Return the contact's behaviour groups, the narrowest first."""
    intent = (c.need or "none").partition(":")[0]
    return ((c.channel, intent, c.exempt), (c.channel, intent), (c.channel,), ())


@dataclass
class _Tally:
    n: int = 0
    yes: int = 0
    outcome: ExpectedOutcome = field(default_factory=ExpectedOutcome)


class Behaviour:
    """The rates and outcomes observed in the period, by group."""

    def __init__(self, contacts: Iterable[Recorded], paths: Paths | None = None) -> None:
        paths = paths or Paths()
        self.containment: dict[tuple, _Tally] = defaultdict(_Tally)
        self.acceptance: dict[tuple, _Tally] = defaultdict(_Tally)
        self.routes: dict[str, dict[tuple, _Tally]] = {
            r: defaultdict(_Tally) for r in ("assisted", "self_served", "accepted")
        }
        self.defaults_used: set[str] = set()
        self._contacts = contacts_list(contacts)
        handled = handled_n = 0.0
        # Contacts alike in group and in what became of them are tallied together.
        alike: dict[tuple, list] = {}
        for c in self._contacts:
            if c.handle_seconds:
                handled += c.handle_seconds * c.count
                handled_n += c.count
            bot, callback, _ = paths.of(c)
            if c.assisted:
                route = "assisted"
            elif c.offered and c.accepted:
                route = "accepted"
            elif bot or c.completed:
                route = "self_served"
            else:
                route = None
            key = (group_keys(c), bot, c.offered, c.accepted, c.assisted, route)
            outcome = recorded_outcome(c, callback).times(c.count)
            same = alike.get(key)
            if same is None:
                alike[key] = [c.count, outcome]
            else:
                same[0] += c.count
                same[1] = same[1] + outcome
        self.average_handle_seconds = handled / handled_n if handled_n else DEFAULT_HANDLE_SECONDS
        for (keys, bot, offered, accepted, assisted, route), (n, outcome) in alike.items():
            for key in keys:
                if bot:
                    _count(self.containment[key], not assisted, n)
                if offered:
                    _count(self.acceptance[key], accepted, n)
                if route is not None:
                    _add(self.routes[route][key], outcome, n)

    def rate(self, name: str, c: Recorded) -> float:
        tallies = self.containment if name == "containment" else self.acceptance
        tally = _pick(tallies, group_keys(c))
        if tally is None:
            self.defaults_used.add(name)
            return DEFAULT_RATES[name]
        return tally.yes / tally.n

    def route(self, name: str, c: Recorded) -> ExpectedOutcome:
        tally = _pick(self.routes[name], group_keys(c))
        if tally is None:
            self.defaults_used.add(f"{name}_outcome")
            return _default_route(name, c, self.average_handle_seconds)
        return tally.outcome.times(1 / tally.n)

    def summary(self) -> dict:
        """Return the period's overall rates (the whole-period group)."""

        def overall(tallies: dict[tuple, _Tally]) -> float | None:
            t = tallies.get(())
            return t.yes / t.n if t and t.n else None

        return {
            "bot_containment": overall(self.containment),
            "digital_acceptance": overall(self.acceptance),
            "average_handle_seconds": round(self.average_handle_seconds, 1),
            "bot_conversations": self.containment[()].n,
            "offers": self.acceptance[()].n,
        }


def contacts_list(contacts: Iterable[Recorded]) -> Sequence[Recorded]:
    return contacts if isinstance(contacts, Sequence) else list(contacts)


def _count(tally: _Tally, yes: bool, n: int = 1) -> None:
    tally.n += n
    tally.yes += n if yes else 0


def _add(tally: _Tally, outcome: ExpectedOutcome, n: int = 1) -> None:
    """Add `n` contacts whose outcomes sum to `outcome`."""
    tally.n += n
    tally.outcome = tally.outcome + outcome


def _pick(tallies: Mapping[tuple, _Tally], keys: tuple[tuple, ...]) -> _Tally | None:
    for key in keys:
        tally = tallies.get(key)
        if tally is not None and tally.n >= MIN_SAMPLE:
            return tally
    tally = tallies.get(())
    return tally if tally is not None and tally.n else None


def _default_route(name: str, c: Recorded, handle: float) -> ExpectedOutcome:
    if name == "assisted":
        return ExpectedOutcome(assisted=1.0, completed=1.0, agent_seconds=handle)
    return ExpectedOutcome(completed=1.0, digital=1.0)
