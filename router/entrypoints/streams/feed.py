"""What tells the hub that contacts changed: LISTEN on PostgreSQL, one poller on SQLite."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from router.adapters.live import CHANNEL, events_after, last_event_id, parse_notice
from router.domain.events import DESK_WIDE, DESK_WIDE_KINDS
from router.entrypoints.streams.hub import Hub

log = logging.getLogger(__name__)

Run = Callable[..., Awaitable]  # runs a blocking call in the stream process's threads


def dsn_of(engine) -> str:  # noqa: ANN001 - sqlalchemy.Engine on PostgreSQL
    """A libpq connection string for psycopg from kanal's SQLAlchemy URL."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(dsn: str, hub: Hub, retry_seconds: float = 1.0) -> None:
    """LISTEN for the notices every process publishes after its commits; reconnect for ever.

    On each (re)connection every stream is poked once, so a notice sent while the connection
    was down is not missed: each stream reads again after its own cursor.
    """
    import psycopg

    while True:
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                hub.everything()
                async for notify in conn.notifies():
                    parsed = parse_notice(notify.payload)
                    if parsed is not None:
                        hub.changed(*parsed)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database restarted or went away: try again
            log.warning("live updates: LISTEN lost (%s); reconnecting", exc)
            await asyncio.sleep(retry_seconds)


async def poll(engine, hub: Hub, run: Run, every: float = 0.2) -> None:  # noqa: ANN001
    """SQLite: read the contact log's new rows, for every stream at once (one poller)."""
    last = None
    while True:
        try:
            if last is None:
                last = await run(last_event_id, engine)
            rows = await run(events_after, engine, last)
            for event_id, contact_id, kind in rows:
                last = event_id
                if contact_id is not None:
                    hub.changed(contact_id, kind)
                elif kind in DESK_WIDE_KINDS:  # an agent's presence: the board hears of it
                    hub.changed(DESK_WIDE, kind)
            if not rows:
                await asyncio.sleep(every)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("live updates: reading the log failed (%s)", exc)
            await asyncio.sleep(1.0)
