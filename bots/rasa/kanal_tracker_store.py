"""A tracker store whose memory is bounded: idle conversations expire, histories are capped.

Configured in endpoints.yml as `kanal_tracker_store.KanalTrackerStore` (bots/serve.py sets the
environment it reads):

    tracker_store:
      type: kanal_tracker_store.KanalTrackerStore
      url: ${KANAL_RASA_TRACKER_STORE}            # "memory" or redis://host:port/db
      max_events: ${KANAL_RASA_TRACKER_MAX_EVENTS}
      idle_minutes: ${KANAL_RASA_TRACKER_IDLE_MINUTES}
      max_conversations: ${KANAL_RASA_TRACKER_MAX_CONVERSATIONS}

Rasa's own default, the InMemoryTrackerStore, keeps every conversation for ever and hands the
whole history to the policies on every turn. Here, on every save:

- the history is cut to the latest session and at most `max_events` events of it, whole turns,
  behind a header that recreates the slots and active loop at the cut (see tracker_bounds);
- the conversation expires after `idle_minutes` without a turn. With kanal's domain
  (carry_over_slots_to_new_session: false) an idle conversation past the session expiry
  starts afresh anyway, so expiring it then loses nothing.

"memory" keeps the conversations in this process (least recently used first out beyond
`max_conversations`, compressed); redis:// keeps them in Redis with a time to live, shared by
every Rasa replica and kept across restarts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any, Optional, Text
from urllib.parse import unquote, urlsplit

from rasa.core.brokers.broker import EventBroker
from rasa.core.lock_store import RedisLockStore
from rasa.core.tracker_store import SerializedTrackerAsText, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from tracker_bounds import MemoryConversations, bounded_events, session_start

logger = logging.getLogger(__name__)

DEFAULT_MAX_EVENTS = 60
DEFAULT_IDLE_MINUTES = 60.0
DEFAULT_MAX_CONVERSATIONS = 5000
REDIS_KEY_PREFIX = "kanal:tracker:"


class RedisConversations:
    """Serialised trackers in Redis, each with a time to live renewed on every save."""

    def __init__(self, url: str, idle_seconds: float, prefix: str = REDIS_KEY_PREFIX) -> None:
        import redis

        # Calls are synchronous inside Rasa's event loop: a Redis that hangs must not hang Rasa.
        self.redis = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=1.0, socket_connect_timeout=1.0
        )
        self.idle_ms = max(1, int(idle_seconds * 1000))
        self.prefix = prefix

    def get(self, key: str) -> Optional[str]:
        return self.redis.get(self.prefix + key)

    def put(self, key: str, text: str) -> None:
        self.redis.set(self.prefix + key, text, px=self.idle_ms)

    def keys(self) -> list[str]:
        return [k[len(self.prefix) :] for k in self.redis.scan_iter(match=self.prefix + "*")]


def _number(value: Any, default: float, kind: type = float) -> Any:
    """Return a setting from endpoints.yml (a string after ${ENV} substitution) as a number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return kind(default)
    return kind(value)


class KanalTrackerStore(TrackerStore, SerializedTrackerAsText):
    """Keep each conversation's latest session, bounded in events, until it is idle."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        max_events: Any = DEFAULT_MAX_EVENTS,
        idle_minutes: Any = DEFAULT_IDLE_MINUTES,
        max_conversations: Any = DEFAULT_MAX_CONVERSATIONS,
        **kwargs: Any,
    ) -> None:
        self.max_events = _number(max_events, DEFAULT_MAX_EVENTS, int)
        if self.max_events < 1:
            raise ValueError(f"max_events must be at least 1, not {self.max_events}")
        idle_seconds = _number(idle_minutes, DEFAULT_IDLE_MINUTES) * 60
        url = (host or "memory").strip()
        if url.startswith(("redis://", "rediss://", "unix://")):
            self.conversations: Any = RedisConversations(url, idle_seconds)
            where = "redis"
        elif url == "memory":
            limit = _number(max_conversations, DEFAULT_MAX_CONVERSATIONS, int)
            self.conversations = MemoryConversations(idle_seconds, limit)
            where = f"memory, at most {limit} conversations"
        else:
            raise ValueError(f"tracker store url must be 'memory' or redis://…, not {url!r}")
        super().__init__(domain, event_broker, **kwargs)
        logger.info(
            "kanal tracker store: %s, %d events per conversation, idle after %.1f min",
            where, self.max_events, idle_seconds / 60,
        )  # fmt: skip

    def bounded_events(self, tracker: DialogueStateTracker) -> list[dict[str, Any]]:
        """Return the tracker's events as dicts, cut to the latest session and `max_events`."""
        events = [event.as_dict() for event in tracker.events]

        def state_at(cut: int) -> tuple[dict[str, Any], Optional[str]]:
            past = DialogueStateTracker.from_dict(
                tracker.sender_id, events[session_start(events) : cut], self.domain.slots
            )
            slots = {
                name: slot.value
                for name, slot in past.slots.items()
                if slot.value != slot.initial_value
            }
            return slots, past.active_loop_name

        kept = bounded_events(events, self.max_events, state_at)
        return events if kept is None else list(kept)

    def bounded(self, tracker: DialogueStateTracker) -> DialogueStateTracker:
        """Return the tracker as it will be stored (the same one when nothing is cut)."""
        events = self.bounded_events(tracker)
        if len(events) == len(tracker.events):
            return tracker
        return DialogueStateTracker.from_dict(tracker.sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the bounded tracker; a storage failure loses this conversation's memory only."""
        await self.stream_events(tracker)
        events = self.bounded_events(tracker)
        text = json.dumps({"events": events, "name": tracker.sender_id})
        try:
            self.conversations.put(tracker.sender_id, text)
        except Exception:  # Rasa's fail-safe would keep it in an unbounded store instead
            logger.exception("kanal tracker store: could not save %s", tracker.sender_id)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """Return the conversation's tracker, or None if it is new or expired."""
        text = self.conversations.get(sender_id)
        if text is None:
            return None
        tracker = self.deserialise_tracker(sender_id, text)
        if tracker is None:
            return None
        # Stored trackers are bounded already (header included), unless max_events was
        # lowered since: only then is the cut worth its cost here.
        if len(tracker.events) > self.max_events + len(self.domain.slots) + 4:
            return self.bounded(tracker)
        return tracker

    async def retrieve_full_tracker(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """Return the same as `retrieve`: earlier sessions are not kept."""
        return await self.retrieve(sender_id)

    async def keys(self) -> Iterable[Text]:
        """Return the ids of the conversations held now."""
        return self.conversations.keys()


class RedisUrlLockStore(RedisLockStore):
    """Rasa's Redis lock store, configured by one redis:// URL (KANAL_RASA_LOCK_STORE).

    Several Rasa processes that share a Redis tracker store (replicas, or SANIC_WORKERS > 1)
    need it, so that two turns of one conversation never run at once in two of them.
    endpoints.yml names this class only when a URL is set; otherwise Rasa's in-memory lock
    store serves one process.
    """

    def __init__(self, endpoint_config: Any = None) -> None:
        url = urlsplit(getattr(endpoint_config, "url", None) or "")
        if url.scheme not in ("redis", "rediss"):
            raise ValueError(f"KANAL_RASA_LOCK_STORE must be a redis:// URL, not {url.geturl()!r}")
        super().__init__(
            host=url.hostname or "localhost",
            port=url.port or 6379,
            db=int(url.path.strip("/") or 0),
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            use_ssl=url.scheme == "rediss",
        )
