"""Who is listening for what: open streams by contact, and the desk's queue pages."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict

# Changes that only touch one conversation's transcript: the queue pages are not told.
CONVERSATION_ONLY = frozenset(
    {
        "message_received", "bot_answered", "bot_failed", "agent_replied", "decision_made",
        "delivery_updated", "message_blocked", "digital_offered", "survey_asked",
        "survey_not_sent", "satisfaction_answered", "survey_declined", "citizen_identified",
    }
)  # fmt: skip


class Listener:
    """One open stream: poked when its contact (or the queue) changed."""

    def __init__(self, contact_id: int | None = None, *, citizen: bool = False) -> None:
        self.contact_id = contact_id
        self.citizen = citizen  # a chat widget: its citizen is there (abandoned chats)
        self.kinds: set[str] = set()
        self._poked = asyncio.Event()

    def poke(self, kind: str) -> None:
        self.kinds.add(kind)
        self._poked.set()

    async def wait(self, timeout: float) -> set[str]:
        """Wait until poked (or `timeout` seconds); return the kinds of change since."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._poked.wait(), timeout)
        self._poked.clear()
        kinds, self.kinds = self.kinds, set()
        return kinds


class Hub:
    """The open streams, by contact; the feed tells it what changed."""

    def __init__(self) -> None:
        self._by_contact: dict[int, set[Listener]] = defaultdict(set)
        self._queue: set[Listener] = set()
        self.notices = 0

    def watch(self, listener: Listener) -> None:
        if listener.contact_id is None:
            self._queue.add(listener)
        else:
            self._by_contact[listener.contact_id].add(listener)

    def unwatch(self, listener: Listener) -> None:
        if listener.contact_id is None:
            self._queue.discard(listener)
            return
        listeners = self._by_contact.get(listener.contact_id)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._by_contact[listener.contact_id]

    def changed(self, contact_id: int, kind: str) -> None:
        """A contact changed (its log got a `kind` event): poke whoever shows it."""
        self.notices += 1
        for listener in tuple(self._by_contact.get(contact_id, ())):
            listener.poke(kind)
        if kind not in CONVERSATION_ONLY:
            for listener in tuple(self._queue):
                listener.poke(kind)

    def everything(self, kind: str = "resync") -> None:
        """Poke every stream (after the feed reconnected: a notice may have been missed)."""
        for listeners in tuple(self._by_contact.values()):
            for listener in tuple(listeners):
                listener.poke(kind)
        for listener in tuple(self._queue):
            listener.poke(kind)

    def citizens_here(self) -> set[int]:
        """The contacts whose citizen has a chat stream open now."""
        return {
            contact_id
            for contact_id, listeners in self._by_contact.items()
            if any(listener.citizen for listener in listeners)
        }

    def counts(self) -> dict[str, int]:
        streams = sum(len(v) for v in self._by_contact.values())
        return {"contact_streams": streams, "queue_streams": len(self._queue),
                "notices": self.notices}  # fmt: skip
