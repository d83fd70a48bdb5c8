"""A small message bus: commands go to their handler, events to theirs after the commit.

A command (`TakeTurn`, `ReceiveMessage`, ...) goes to exactly one handler, which does its
work in units of work from `bus.uow` and answers. What a unit of work that committed kept
for after the commit and not for the log (`ClaimedReplies`: messages claimed for sending) is
then handed to the event's handlers, after the commit and outside any transaction, in the
order it was raised. The work an event asks for is already durable: the claimed message is
the outbox row, written in the transaction that raised the event, so when the process stops
after the commit, or a handler fails, the `dispatch_outbound` job sends it once the claim's
lease has run out (once: it first asks the provider whether it has the message).

A unit of work taken from `bus.uow` outside a command (the desk's, the scheduler's jobs')
has its committed events dispatched when its block ends. bootstrap makes one bus for the
whole kanal, whose `uow` every service works in: that is how `ContactChanged`
reaches the live pages' publisher after every commit, whoever committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from router.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[[Any], Any]
EventHandler = Callable[[list[Any]], None]


class MessageBus:
    """Dispatches commands to their handler and, after each commit, events to theirs."""

    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self._uow = uow
        self.commands: dict[type, Handler] = {}
        # Each event handler gets the events of its type raised by one command, in order
        # (so the replies of one turn are sent together, in order).
        self.events: dict[type, list[EventHandler]] = {}
        self._local = threading.local()

    def on_command(self, kind: type, handler: Handler) -> None:
        if kind in self.commands:
            raise ValueError(f"{kind.__name__} has a handler already")
        self.commands[kind] = handler

    def on_event(self, kind: type, handler: EventHandler) -> None:
        self.events.setdefault(kind, []).append(handler)

    def uow(self) -> UnitOfWork:
        """Return a unit of work whose committed events this bus dispatches: at the end of
        the command that opened it, or at the end of its own block outside a command."""
        uow = self._uow()
        opened = getattr(self._local, "opened", None)
        if opened is None:
            return _Dispatched(uow, self._dispatch)  # type: ignore[return-value]
        opened.append(uow)
        return uow

    def handle(self, command: object) -> Any:
        """Run the command's handler, then dispatch the events its commits raised."""
        handler = self.commands[type(command)]
        outer = getattr(self._local, "opened", None)
        self._local.opened = opened = []
        try:
            return handler(command)
        finally:
            self._local.opened = outer
            self._dispatch([e for uow in opened for e in uow.published])

    def _dispatch(self, events: list[object]) -> None:
        by_kind: dict[type, list[object]] = {}
        for event in events:
            by_kind.setdefault(type(event), []).append(event)
        for kind, raised in by_kind.items():
            for handler in self.events.get(kind, ()):
                try:
                    handler(raised)
                except Exception:  # the outbox keeps the work: a scheduled job does it later
                    log.exception("handling %s after the commit failed", kind.__name__)


class _Dispatched:
    """A unit of work used outside a command: its committed events are dispatched when its
    block ends (after the commit, outside the transaction)."""

    def __init__(self, uow: UnitOfWork, dispatch: Callable[[list[object]], None]) -> None:
        self._inner = uow
        self._dispatch = dispatch

    def __enter__(self) -> UnitOfWork:
        return self._inner.__enter__()

    def __exit__(self, *exc: object) -> None:
        try:
            self._inner.__exit__(*exc)
        finally:
            # Left in place: a command's bus wrapping this one reads them too (each bus
            # handles only its own kinds of event).
            published = list(self._inner.published)
            if published:
                self._dispatch(published)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
