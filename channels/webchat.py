"""Web chat: a JSON API and a push stream for the citizen's chat widget.

The session's guards (its token, a portal citizen's signed identity) are in
webchat_session.py, the push stream in webchat_stream.py, the widget's page and texts in
webchat_widget.py and the API's description in webchat_doc.py."""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Mapping
from datetime import timedelta

from flask import Blueprint, request
from werkzeug.exceptions import HTTPException

from channels import webchat_doc as doc
from channels.base import json_error, message_view
from channels.webchat_session import (
    TOKEN_ERROR,
    bearer_hash,
    came_back,
    session,
    token_hash,
    verified_pseudonym,
)
from channels.webchat_stream import AFTER_ERROR, stream
from channels.webchat_widget import demo_page, served, widget_texts
from router.domain.channels import WEBCHAT
from router.domain.commands import ReceiveMessage, StartChat
from router.domain.model import ContactState
from router.openapi import Invalid, describe, parse_json
from router.service.channels import Channel
from router.service.errors import Ended, ServiceError, Unauthorized
from router.service.ports import Sender
from router.service.services import ChannelServices
from router.service.translations import language_code
from router.web import bound, parse_id, storable

NAME = WEBCHAT

MAX_TEXT = doc.MAX_TEXT
_VISIBLE = re.compile(doc.VISIBLE)
ENDED = "This conversation has ended. Please start a new one."


def channel(config: Mapping, sender: Sender | None = None) -> Channel:
    """Describe web chat to the core: citizens read replies from kanal, so no sender."""
    return Channel(
        name=NAME,
        inactivity=timedelta(minutes=config["KANAL_CHAT_INACTIVITY_MINUTES"]),
        verb="write",
        max_text=MAX_TEXT,
        digital=True,
        sender=sender,
    )


def blueprint(services: ChannelServices) -> Blueprint:
    """Return the chat API, its stream and the widget's demo page."""
    bp = Blueprint(
        NAME,
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static/webchat",
    )
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(ServiceError, _service_error)
    slots = threading.BoundedSemaphore(services.config["KANAL_MAX_STREAMS"])
    sessions = "/api/v1/chat/sessions"
    routes = (
        (sessions, start_session, "POST", doc.START),
        (sessions + "/<session_id>/messages", post_message, "POST", doc.POST_MESSAGE),
        (sessions + "/<session_id>/messages", list_messages, "GET", doc.LIST_MESSAGES),
        (sessions + "/<session_id>/stream", bound(stream, slots), "GET", doc.STREAM),
        (sessions + "/<session_id>/survey", survey, "GET", doc.SURVEY),
        (sessions + "/<session_id>/survey", answer_survey, "POST", doc.ANSWER_SURVEY),
        ("/api/v1/chat/texts/<language>", widget_texts, "GET", doc.TEXTS),
        ("/chat", demo_page, "GET", None),
    )
    for rule, view, method, operation in routes:
        view = bound(view, services)
        if operation is not None:
            describe(view, operation)
        bp.add_url_rule(rule, view.__name__, view, methods=[method])
    return bp


def _http_error(exc: HTTPException):
    if exc.code == 413:
        return json_error(413, "The request body is larger than 64 KB.")
    return json_error(exc.code or 500, exc.description or exc.name)


def _service_error(exc: ServiceError):
    return json_error(exc.status, str(exc))


def start_session(services: ChannelServices):
    """Open a chat session; answer its id and the token that guards it."""
    try:
        asked = parse_json(doc.StartSession, request.get_json(silent=True) if request.data else {})
    except Invalid as exc:
        return json_error(400, str(exc), field=exc.field)
    pseudonym = None
    if asked.identity:
        pseudonym = verified_pseudonym(services.config["SECRET_KEY"], asked.identity)
        if pseudonym is None:
            return json_error(400, "The identity is not signed by this agency.", field="identity")
    language = asked.language
    if language is not None and language_code(language) not in served(services):
        return json_error(
            400, f"`language` must be one of {', '.join(served(services))}.", field="language"
        )
    session_id = "s_" + secrets.token_urlsafe(16)
    token = secrets.token_urlsafe(32)
    services.turns.start_chat(
        StartChat(
            secret_hash=token_hash(token),
            citizen_pseudonym=pseudonym,
            language=language_code(language) if language else None,
        ),
        address=session_id,
    )
    return {"session_id": session_id, "token": token}, 201


def post_message(services: ChannelServices, session_id: str):
    """Take the citizen's message, route it, and answer what the citizen should see now.

    The session and its token are checked on a read first, so a request without the
    session's token (none, or another) never waits for the turn's write lock that the
    session's own messages hold; it is refused (404, 401) before its body's faults. The
    turn checks the token again in its first transaction."""
    body = request.get_json(silent=True)
    message, problem = _new_message(body)
    _contact, error = session(services)
    if error is not None or problem is not None:
        return error or problem
    bearer = bearer_hash()
    text, client_id = message.text.strip(), message.client_id
    provider_id = (
        f"{session_id}:{client_id}"[:64] if isinstance(client_id, str) and client_id else None
    )
    cmd = ReceiveMessage(
        channel=NAME,
        address=session_id,
        text=text,
        provider_id=provider_id,
        secret_hash=bearer,
    )
    try:
        result = _receive(services, cmd)
    except Unauthorized:
        return json_error(401, TOKEN_ERROR)
    except Ended:
        return json_error(409, ENDED)
    if result is not None and result.message is not None:
        messages, state, language = result.transcript(), result.state, result.language
    else:  # the same client_id again (or a turn another request finished): read what it got
        contact = services.views.session_key(NAME, session_id)
        first = services.views.message_id_of(NAME, provider_id) if provider_id else None
        since = (first - 1) if first else 0
        messages = services.views.messages(contact.id, since)
        now = services.views.contact(contact.id)
        state, language = now.state, now.language
    return {"messages": [message_view(m) for m in messages], "state": state, "language": language}


def _receive(services: ChannelServices, cmd: ReceiveMessage):
    """The message's turn; an abandoned chat whose citizen writes again waits again first."""
    try:
        return services.turns.receive(cmd)
    except Ended as ended:
        if not came_back(services, ended.contact_id):
            raise
    return services.turns.receive(cmd)


def _new_message(body: object):
    """Return the message the body carries, or the answer refusing it."""
    text = body.get("text") if isinstance(body, dict) else None
    if isinstance(text, str) and not storable(text):
        return None, json_error(
            400, "The message must be valid Unicode text without NUL characters.", field="text"
        )
    if isinstance(text, str) and len(text.strip()) > MAX_TEXT:
        return None, json_error(400, f"The message is longer than {MAX_TEXT} characters.",
                                field="text", limit=MAX_TEXT)  # fmt: skip
    if isinstance(text, str) and not _VISIBLE.search(text):
        return None, json_error(400, "The message is empty.", field="text")
    client_id = body.get("client_id") if isinstance(body, dict) else None
    if isinstance(client_id, str) and not storable(client_id):
        return None, json_error(
            400, "`client_id` must be valid Unicode text without NUL characters.",
            field="client_id",
        )  # fmt: skip
    try:
        return parse_json(doc.NewMessage, body), None
    except Invalid as exc:
        return None, json_error(400, f'{exc} Send JSON like {{"text": "your message"}}.',
                                field=exc.field)  # fmt: skip


def list_messages(services: ChannelServices, session_id: str):
    """Answer the messages after a cursor (message id) and the conversation's state."""
    contact, error = session(services)
    if error:
        return error
    try:
        after = parse_id(request.args.get("after"), 0)
    except ValueError:
        return json_error(400, AFTER_ERROR)
    if services.left_chats is not None:  # a widget that polls is there too
        if contact.state == ContactState.CLOSED and came_back(services, contact.id):
            contact = services.views.contact(contact.id)
        elif contact.state == ContactState.QUEUED:
            services.left_chats.present([contact.id])
    messages = services.views.messages(contact.id, after)
    return {
        "messages": [message_view(m) for m in messages],
        "state": contact.state,
        "language": contact.language,
    }


def survey(services: ChannelServices, session_id: str):
    """Answer the satisfaction question once the conversation has ended (asked once, of the
    share of conversations the agency asks): `{"state": "none"}` when there is none."""
    contact, error = session(services)
    if error:
        return error
    if services.surveys is None:
        return {"state": "none"}
    return services.surveys.for_chat(contact.id).as_dict()


def answer_survey(services: ChannelServices, session_id: str):
    """Record the citizen's answer, `{"score": 1..5}` (5 very satisfied), or
    `{"score": null}` to decline; once (409 after that)."""
    contact, error = session(services)
    if error:
        return error
    try:
        score = parse_json(doc.SurveyAnswer, request.get_json(silent=True)).score
    except Invalid as exc:
        return json_error(
            400, f'{exc} Send JSON like {{"score": 4}} (1 to 5) or {{"score": null}}.',
            field=exc.field,
        )  # fmt: skip
    if services.surveys is None:
        return json_error(409, "No survey was asked in this conversation.")
    return services.surveys.answer_chat(contact.id, score).as_dict()
