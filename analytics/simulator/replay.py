"""The replay: each recorded decision made again by the same pure decide() under another
profile, and a contact whose route changes projected from the observed behaviour."""

from __future__ import annotations

from dataclasses import replace

from analytics.simulator.behaviour import Behaviour, group_keys
from analytics.simulator.records import ExpectedOutcome, Recorded, Turn
from router.domain.events import DIGITAL_CHANNELS
from router.policy import ASSISTED_SERVICE, Action, PolicyContext, Profile, decide


class Replayer:
    """Replays contacts under one profile (decide() is pure, so its answers are memoised)."""

    def __init__(self, profile: Profile, behaviour: Behaviour, memo: bool = True) -> None:
        self.profile = profile
        self.behaviour = behaviour
        self.memo = memo
        self._decided: dict[PolicyContext, tuple[str, str]] = {}
        # A projection depends on the contact's group and the new action only.
        self._projected: dict[tuple, ExpectedOutcome] = {}
        # Contacts whose turns are the same objects (analytics.recorded shares identical
        # decisions) are replayed once: (changed decisions, new action or None, replayed),
        # found by the tuple of turns itself first (shared by contacts read from storage).
        self._paths: dict[tuple[int, ...], tuple] = {}
        self._tuples: dict[int, tuple] = {}

    def decide(self, context: PolicyContext) -> tuple[str, str]:
        found = self._decided.get(context)
        if found is None:
            d = decide(context, self.profile)
            found = (d.rule_id, str(d.action))
            if self.memo:
                self._decided[context] = found
        return found

    def replay(
        self, c: Recorded
    ) -> tuple[ExpectedOutcome | None, int, tuple[tuple[str, str], ...]]:
        """Return a replayable contact's projected outcome (None: its route is unchanged),
        the decisions replayed and the (recorded rule, new rule) of those that changed."""
        path = self._tuples.get(id(c.turns)) if self.memo else None
        if path is None:
            key = tuple(map(id, c.turns))
            path = self._paths.get(key) if self.memo else None
            if path is None:
                path = self._path(c.turns)
                if self.memo:
                    self._paths[key] = path
            if self.memo:
                self._tuples[id(c.turns)] = path  # the contacts outlive the replayer
        changed, diverged, replayed = path
        if diverged is None:
            return None, replayed, changed
        return self.project(c, diverged), replayed, changed

    def _path(self, turns: tuple[Turn, ...]) -> tuple:
        changed: list[tuple[str, str]] = []
        replayed = 0
        for turn in turns:
            replayed += 1
            rule_id, action = self.decide(turn.context)  # type: ignore[arg-type]
            if rule_id != turn.rule_id or action != turn.action:
                changed.append((f"{turn.profile}:{turn.rule_id}", f"{self.profile.name}:{rule_id}"))
            if action != turn.action:
                return tuple(changed), action, replayed
        return tuple(changed), None, replayed

    def project(self, c: Recorded, action: str) -> ExpectedOutcome:
        """Return the expected outcome of a contact that takes `action` instead."""
        key = (group_keys(c)[0], action)
        found = self._projected.get(key)
        if found is None:
            found = self._projected[key] = self._project(c, action)
        return found

    def _project(self, c: Recorded, action: str) -> ExpectedOutcome:
        b = self.behaviour
        if action in ASSISTED_SERVICE:
            out = b.route("assisted", c)
            return ExpectedOutcome(
                out.assisted, 1.0 if action == Action.CALLBACK else 0.0, out.completed,
                out.digital, out.agent_seconds,
            )  # fmt: skip
        if action == Action.CLOSE:
            return self._self_served(c)
        if action == Action.OFFER_DIGITAL:
            accept = b.rate("acceptance", c)
            declined = self._bot(c) if c.channel in DIGITAL_CHANNELS else b.route("assisted", c)
            return self._accepted(c).times(accept) + declined.times(1 - accept)
        return self._bot(c)

    def _bot(self, c: Recorded) -> ExpectedOutcome:
        contain = self.behaviour.rate("containment", c)
        assisted = self.behaviour.route("assisted", c)
        return self._self_served(c).times(contain) + assisted.times(1 - contain)

    # How a projected need is completed follows the report's definitions (docs/domain.md
    # §4.2), whatever group the rate was observed in: the share completed is the group's,
    # the channel of completion the contact's new route. A person serves: the group's
    # assisted-digital share is digital, the rest other, as observed.

    def _self_served(self, c: Recorded) -> ExpectedOutcome:
        """Self-service completes a need digitally on web chat or SMS only: on the phone the
        assistant's answer is the phone (other), even when the rate is borrowed from chats."""
        out = self.behaviour.route("self_served", c)
        return replace(out, digital=out.completed if c.channel in DIGITAL_CHANNELS else 0.0)

    def _accepted(self, c: Recorded) -> ExpectedOutcome:
        """A need completed after the citizen took the offered digital route is digital (a
        completed deflection on the phone, self-service after the offer in writing)."""
        out = self.behaviour.route("accepted", c)
        return replace(out, digital=out.completed)
