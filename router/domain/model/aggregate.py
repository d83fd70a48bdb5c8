"""What every aggregate of the domain shares: it changes state only through its methods and
keeps what happened until the unit of work collects it."""

from __future__ import annotations

import itertools
from datetime import datetime

from router.domain.events import Happened


class IllegalTransition(ValueError):
    """An aggregate was asked to move to a state it cannot reach from where it is."""


class Aggregate:
    """Something with a life of its own: its state changes only through its methods, and
    each keeps what happened until the unit of work collects it (`collect_events`).

    The new events live in the instance's own dictionary, not in a dataclass field: they are
    never stored, and an instance loaded from the database simply has none yet. Each is
    numbered as it is raised, so events of several aggregates are collected in that order.
    """

    def _raise(self, event: object) -> None:
        self.__dict__.setdefault("_new_events", []).append((next(_RAISED), event))

    def _happened(self, type_: str, at: datetime | None = None, **data: object) -> Happened:
        happened = Happened(type_, data, at)
        self._raise(happened)
        return happened

    def collect_numbered(self) -> list[tuple[int, object]]:
        """Return and forget (number, event) for what happened since the last collection."""
        return self.__dict__.pop("_new_events", [])

    def collect_events(self) -> list:
        """Return and forget what happened since the last collection, in order."""
        return [event for _, event in self.collect_numbered()]

    def forget(self, events: list) -> None:
        """Forget events a caller has journaled itself (they are not collected again)."""
        pending = self.__dict__.get("_new_events", [])
        pending[:] = [(n, e) for n, e in pending if not any(e is f for f in events)]


_RAISED = itertools.count(1)
