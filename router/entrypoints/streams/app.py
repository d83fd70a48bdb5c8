"""The stream process's web app (aiohttp): the chat widget's and the desk's event streams.

- `GET /api/v1/chat/sessions/<id>/stream`, for the chat session's bearer token: `message`
  (id: the message id; data: the message as the chat API shows it) and `state`
  (`{"state", "language"}`); it ends when the conversation has ended.
- `GET /desk/live/queue`, for a desk token (`Authorization: Bearer`) of an agent, supervisor
  or admin: `queue` (`{}`: the queue changed; the page reads `/desk/queue.json`).
- `GET /desk/live/contacts/<id>`, for a desk token and the access rule of
  router/domain/access.py (each opening audited as `live`): `message` (id: the message id;
  data `{"id", "author"}`), `state` (`{"state"}`) and `delivery` (`{}`); the page then reads
  `messages.json` from the web, which words the desk's view.

A stream starts after the cursor in `Last-Event-ID` (or `?after=`), so a page that reconnects
misses nothing. Refusals: 401 without a valid token, 403 when the rule refuses, 404 for no
such session or contact. Streams carry no cookies, so any origin may open them (CORS `*`):
the token in the request is the credential.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from aiohttp import web

from channels.base import message_view
from channels.webchat import NAME as CHAT
from channels.webchat_session import token_matches
from router.domain.access import Viewer
from router.domain.model import ContactState
from router.entrypoints.container import Kanal
from router.entrypoints.live_tokens import DeskToken, desk_user
from router.entrypoints.streams import feed
from router.entrypoints.streams.hub import Hub, Listener
from router.service.access import DeskAccess
from router.service.left_chats import HEARTBEAT_SECONDS
from router.web import parse_id

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
QUEUE_EVERY_SECONDS = 0.5  # a queue page hears of changes at most twice a second
DESK_ROLES = ("agent", "supervisor", "admin")
# Changes that add a message and never move the contact's state or language: the widget's
# stream reads the new messages only.
MESSAGE_ONLY = frozenset({"agent_replied", "bot_answered", "delivery_updated", "message_blocked"})
HUB: web.AppKey[Hub] = web.AppKey("hub", Hub)
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Last-Event-ID, Accept",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Max-Age": "600",
}
SSE_HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx: pass each event on at once
    **CORS,
}
AFTER_ERROR = "`after` must be a message id: an integer from 0 to 9223372036854775807."


class SignedOut(Exception):
    """A desk stream's user signed out while it was open."""


def event(kind: str, data: dict, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data)}\n\n".encode()


def refuse(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=CORS)


class Streams:
    """The handlers, over one kanal and one hub; blocking reads run in a few threads."""

    def __init__(
        self,
        kanal: Kanal,
        hub: Hub,
        threads: int = 8,
        seconds: float = 900,
        keepalive: float = KEEPALIVE_SECONDS,
    ) -> None:
        self.keepalive = keepalive  # seconds between keep-alive comments on a quiet stream
        self.kanal = kanal
        self.seconds = seconds  # a stream ends after this; the page reconnects after its cursor
        self.hub = hub
        self.views = kanal.views
        self.access = DeskAccess(kanal.uow, kanal.clock)
        self.secret = str(kanal.config["SECRET_KEY"])
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="kanal-stream")

    async def run(self, fn, *args):  # noqa: ANN001, ANN201
        return await asyncio.get_running_loop().run_in_executor(self.pool, partial(fn, *args))

    # -- the chat widget ----------------------------------------------------------------

    async def chat(self, request: web.Request) -> web.StreamResponse:
        contact = await self.run(self.views.contact_on, CHAT, request.match_info["session_id"])
        if contact is None:
            return refuse(404, "No such chat session.")
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token_matches(contact, token):
            return refuse(401, "Send the session's token: Authorization: Bearer <token>.")
        try:
            after = _cursor(request)
        except ValueError:
            return refuse(400, AFTER_ERROR)
        left = self.kanal.left_chats
        if contact.state == ContactState.CLOSED and left is not None:
            await self.run(left.come_back, contact.id)  # an abandoned chat's citizen is back
        response = await _open(request)
        listener = Listener(contact.id, citizen=True)
        self.hub.watch(listener)
        try:
            await self._chat_events(response, listener, contact.id, after)
        except ConnectionResetError:  # the page went away
            pass
        finally:
            self.hub.unwatch(listener)
        return response

    async def _chat_events(self, response, listener: Listener, contact_id: int, after: int):  # noqa: ANN001, ANN202
        seen = None
        deadline = time.monotonic() + self.seconds
        kinds = {"opened"}
        while time.monotonic() < deadline:
            for m in await self.run(self.views.messages, contact_id, after):
                after = m.id
                await response.write(event("message", message_view(m), m.id))
            if kinds - MESSAGE_ONLY:  # the state or the language may have changed: read it
                now = await self.run(self.views.contact, contact_id)
                if (now.state, now.language) != seen:
                    seen = (now.state, now.language)
                    data = {"state": now.state, "language": now.language}
                    await response.write(event("state", data))
                if now.state == ContactState.CLOSED:
                    return
            kinds = await self._quiet(response, listener, deadline)

    async def _quiet(self, response, listener: Listener, deadline: float, request=None) -> set[str]:  # noqa: ANN001
        """Wait for a change, with keep-alive comments (no read) while nothing happens; a
        desk stream (`request` given) ends there once its user signed out."""
        while time.monotonic() < deadline:
            kinds = await listener.wait(_until(deadline, self.keepalive))
            if kinds:
                return kinds
            if request is not None and await self._signed_out(request):
                raise SignedOut
            await response.write(b": keep-alive\n\n")
        return set()

    # -- the desk -----------------------------------------------------------------------

    def _staff(self, token: DeskToken) -> Viewer | None:
        """The member of staff a token names, while it is valid: they are active and have
        not signed out (nor timed out at the desk) since it was signed."""
        with self.kanal.read_uow() as uow:
            user = uow.users.get(token.user_id)
            if user is None or not user.issued_in_session(token.issued_at):
                return None
            return Viewer(user_id=user.id, username=user.username, role=user.role)

    def _token(self, request: web.Request) -> DeskToken | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return desk_user(self.secret, token.strip()) if scheme.lower() == "bearer" else None

    async def _viewer(self, request: web.Request) -> Viewer | None:
        token = self._token(request)
        return None if token is None else await self.run(self._staff, token)

    async def _signed_out(self, request: web.Request) -> bool:
        """Checked at each keep-alive: an open desk stream ends once its user signed out."""
        return await self._viewer(request) is None

    async def queue(self, request: web.Request) -> web.StreamResponse:
        viewer = await self._viewer(request)
        if viewer is None:
            return refuse(401, "Sign in to the desk again: this page's live token is not valid.")
        if viewer.role not in DESK_ROLES:
            return refuse(403, "The queue is for agents, supervisors and admins.")
        response = await _open(request)
        listener = Listener()
        self.hub.watch(listener)
        deadline = time.monotonic() + self.seconds
        try:
            await response.write(event("queue", {}))  # whatever changed since the page was drawn
            while time.monotonic() < deadline:
                if await listener.wait(_until(deadline, self.keepalive)):
                    await response.write(event("queue", {}))
                    await asyncio.sleep(QUEUE_EVERY_SECONDS)
                elif await self._signed_out(request):
                    break  # the page's user signed out: the token ends here
                else:
                    await response.write(b": keep-alive\n\n")
        except ConnectionResetError:  # the page went away
            pass
        finally:
            self.hub.unwatch(listener)
        return response

    async def contact(self, request: web.Request) -> web.StreamResponse:
        viewer = await self._viewer(request)
        if viewer is None:
            return refuse(401, "Sign in to the desk again: this page's live token is not valid.")
        try:
            contact_id = parse_id(request.match_info["contact_id"], 0)
            after = _cursor(request)
        except ValueError:
            return refuse(400, AFTER_ERROR)
        route = f"GET {request.path}"[:300]
        found = await self.run(
            partial(self.access.open, viewer, contact_id, action="live", route=route)
        )
        if found is None:
            return refuse(404, "No such contact.")
        if not found.allowed:
            return refuse(403, "You may not open this conversation.")
        response = await _open(request)
        listener = Listener(contact_id)
        self.hub.watch(listener)
        deadline = time.monotonic() + self.seconds
        try:
            seen = None
            while time.monotonic() < deadline:
                for m in await self.run(self.views.messages, contact_id, after):
                    after = m.id
                    await response.write(event("message", {"id": m.id, "author": m.author}, m.id))
                now = await self.run(self.views.contact, contact_id)
                if now.state != seen:
                    seen = now.state
                    await response.write(event("state", {"state": now.state}))
                kinds = await self._quiet(response, listener, deadline, request)
                if "delivery_updated" in kinds or "message_blocked" in kinds:
                    await response.write(event("delivery", {}))
        except (ConnectionResetError, SignedOut):  # the page went away, or its user did
            pass
        finally:
            self.hub.unwatch(listener)
        return response

    # -- the process ----------------------------------------------------------------------

    async def heartbeat(self, every: float = HEARTBEAT_SECONDS) -> None:
        """Say, every `every` seconds, which waiting citizens have their chat open."""
        while True:
            await asyncio.sleep(every)
            if self.kanal.left_chats is not None:
                try:
                    await self.run(self.kanal.left_chats.present, self.hub.citizens_here())
                except Exception:  # the database is away: the next beat tries again
                    log.exception("the citizens' heartbeat was not written")

    async def preflight(self, request: web.Request) -> web.Response:
        return web.Response(status=204, headers=CORS)

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", **self.hub.counts()})


STREAMS: web.AppKey[Streams] = web.AppKey("streams", Streams)


def _until(deadline: float, every: float = KEEPALIVE_SECONDS) -> float:
    return max(0.0, min(every, deadline - time.monotonic()))


def _cursor(request: web.Request) -> int:
    return parse_id(request.headers.get("Last-Event-ID") or request.query.get("after"), 0)


async def _open(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers=SSE_HEADERS)
    await response.prepare(request)
    await response.write(b"retry: 2000\n\n")
    return response


def make_app(
    kanal: Kanal,
    *,
    poll_seconds: float = 0.2,
    stream_seconds: float = 900,
    keepalive_seconds: float = KEEPALIVE_SECONDS,
) -> web.Application:
    """Build the stream process's app around a kanal (its database, views and secret).

    `poll_seconds`: how often the SQLite poller reads the log; `stream_seconds`: how long one
    stream lasts before the page reconnects (after its cursor, so nothing is missed);
    `keepalive_seconds`: the quiet time between keep-alive comments, when a desk stream also
    looks whether its user signed out since (then it ends).
    """
    hub = Hub()
    streams = Streams(kanal, hub, seconds=stream_seconds, keepalive=keepalive_seconds)
    app = web.Application()
    app[HUB] = hub
    app[STREAMS] = streams
    chat = "/api/v1/chat/sessions/{session_id}/stream"
    desk_contact = "/desk/live/contacts/{contact_id}"
    for path, handler in (
        (chat, streams.chat),
        ("/desk/live/queue", streams.queue),
        (desk_contact, streams.contact),
    ):
        app.router.add_get(path, handler, allow_head=False)
        app.router.add_route("OPTIONS", path, streams.preflight)
    app.router.add_get("/streams/healthz", streams.health)

    async def feeding(app: web.Application):  # noqa: ANN202
        engine = kanal.engine
        if engine.dialect.name == "postgresql":
            task = asyncio.create_task(feed.listen(feed.dsn_of(engine), hub))
        else:
            task = asyncio.create_task(feed.poll(kanal.read_engine, hub, streams.run, poll_seconds))
        beat = asyncio.create_task(streams.heartbeat())
        yield
        task.cancel()
        beat.cancel()
        await asyncio.gather(task, beat, return_exceptions=True)
        streams.pool.shutdown(wait=False, cancel_futures=True)

    app.cleanup_ctx.append(feeding)
    return app


def serve(kanal: Kanal, host: str, port: int) -> None:
    """Run the stream process until it is stopped."""
    started = time.monotonic()
    log.info("kanal streams on http://%s:%s", host, port)
    web.run_app(
        make_app(kanal), host=host, port=port, print=None, access_log=None,
        handler_cancellation=True, shutdown_timeout=1.0,
    )  # fmt: skip
    log.info("kanal streams stopped after %.0f s", time.monotonic() - started)
