"""The chat widget's push stream in the web process: new messages and state changes as
server-sent events (the stream process serves the same, docs/live.md)."""

from __future__ import annotations

import json
import threading
import time

from flask import Response, request, stream_with_context

from channels.base import json_error, message_view
from channels.webchat_session import came_back, session
from router.domain.model import ContactState
from router.service.services import ChannelServices
from router.web import parse_id

# A stream holds a worker thread: keep it short (the widget reconnects with after=<last id>)
# and cap how many one process serves, so open chat pages never starve the desk and webhooks.
STREAM_SECONDS = 55
KEEPALIVE_SECONDS = 5
AFTER_ERROR = "`after` must be a message id: an integer from 0 to 9223372036854775807."


def stream(slots: threading.BoundedSemaphore, services: ChannelServices, session_id: str):
    """Push new messages and state changes as server-sent events."""
    contact, error = session(services)
    if error:
        return error
    try:
        after = parse_id(request.args.get("after") or request.headers.get("Last-Event-ID"), 0)
    except ValueError:
        return json_error(400, AFTER_ERROR)
    if contact.state == ContactState.CLOSED:
        came_back(services, contact.id)  # an abandoned chat's citizen is back: queued again
    read = services.views
    contact_id = contact.id
    if not slots.acquire(blocking=False):
        response = json_error(503, "Too many live streams here now; poll GET .../messages?after=.")
        response[0].headers["Retry-After"] = "5"
        return response

    def events():
        try:
            yield from _events()
        finally:
            slots.release()

    def _events():
        nonlocal after
        state = language = None
        deadline = time.monotonic() + STREAM_SECONDS
        quiet_since = time.monotonic()
        yield "retry: 2000\n\n"
        while time.monotonic() < deadline:
            for m in read.messages(contact_id, after):
                after = m.id
                quiet_since = time.monotonic()
                yield f"id: {m.id}\nevent: message\ndata: {json.dumps(message_view(m))}\n\n"
            now = read.contact(contact_id)
            if (now.state, now.language) != (state, language):
                state, language = now.state, now.language
                data = json.dumps({"state": state, "language": language})
                yield f"event: state\ndata: {data}\n\n"
            if state == ContactState.CLOSED:
                return
            if time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
            time.sleep(1.0)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream_with_context(events()), mimetype="text/event-stream", headers=headers)
