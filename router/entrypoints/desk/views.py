"""The agent desk's blueprint: one registration point for its pages, their guards (the desk's
roles, the access rule of a conversation, the audit log) and the desk's language.

The pages live beside it by area: the queue and taking the next contact (queue_views.py), a
contact's page (conversation_views.py), calls and callbacks (callback_views.py), presence,
offers and transfers (routing_views.py) and the supervisor board (supervisor_views.py); what
they work with is in parts.py.

The desk speaks the agent's language (`?lang=` or the switch on every page, kept in the
session; else the browser's; else the agency's first) through kanal's catalogues, and shows
times in the agency's time zone (router/entrypoints/desk/words.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import wraps
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from router.domain.model import STAFF_ROLES
from router.domain.replies import CannedReply
from router.domain.wrapup import WRAP_UP_CODES
from router.entrypoints.auth import role_required, session_began
from router.entrypoints.desk import (
    callback_views,
    conversation_views,
    queue_views,
    routing_views,
    supervisor_views,
)
from router.entrypoints.desk import words as w
from router.entrypoints.desk.conversation_views import OUTCOME_WORDS, WRAP_UP_WORDS
from router.entrypoints.desk.links import link_parts
from router.entrypoints.desk.parts import DESK_ROLES, DeskParts, _, agent_id, viewer
from router.entrypoints.desk.words import DeskWords, waited
from router.entrypoints.live_tokens import desk_token
from router.service.access import DeskAccess
from router.service.callback_desk import CallbackDesk
from router.service.desk import Desk
from router.service.supervision import Supervision
from router.service.translations import language_code, translator
from router.service.views import Views
from router.web import ID_CONVERTER, bound, local_path

LANGUAGE_KEY = "desk_language"  # the agent's choice of the desk's language, in the session
DESK_ROLE = "a desk role"


def blueprint(
    desk: Desk,
    views: Views,
    callbacks: CallbackDesk | None = None,
    timezone: str = "Europe/Copenhagen",
    access: DeskAccess | None = None,
    languages: Sequence[str] = ("en",),
    rules: Callable[[str, str], str | None] | None = None,
    replies: tuple[CannedReply, ...] = (),
    agency: str = "kanal",
    live: tuple[str, str] = ("", ""),
    supervision: Supervision | None = None,
) -> Blueprint:
    """Return the desk's pages, each for signed-in agents, supervisors and admins.

    Times are shown in `timezone`, the agency's (KANAL_TIMEZONE), and texts in one of
    `languages` (KANAL_LANGUAGES), the agent's choice. A conversation's pages (every route
    with a contact id) follow the access rule of `router/domain/access.py` instead, and each
    attempt is written to the audit log by `access`. `live` is the stream process's origin
    ("" for this one) and the secret its desk tokens are signed with: the pages follow their
    live streams there (router/entrypoints/streams/app.py, docs/live.md).
    """
    bp = Blueprint(
        "desk",
        __name__,
        url_prefix="/desk",
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    parts = DeskParts(
        desk, views, callbacks, ZoneInfo(timezone), access, tuple(languages),
        rules or DeskParts.rules, tuple(replies), agency, supervision,
    )  # fmt: skip
    bp.before_request(bound(_speak, parts))
    bp.add_app_template_filter(link_parts, "link_parts")
    bp.add_app_template_filter(waited, "waited")
    bp.app_context_processor(bound(_words, parts))
    bp.app_context_processor(bound(routing_views.template_values, parts))
    live_url, secret = live

    @bp.context_processor
    def _live():  # noqa: ANN202
        return {
            "live_url": live_url,
            "live_token": lambda: desk_token(secret, agent_id(), _issued(parts.views.clock())),
        }

    routes = (
        *queue_views.routes(),
        ("/language", choose_language, "POST"),
        *conversation_views.routes(ID_CONVERTER),
        *callback_views.routes(ID_CONVERTER),
        *routing_views.routes(ID_CONVERTER),
        *supervisor_views.routes(ID_CONVERTER),
    )
    for rule, view, method in routes:
        if view.__name__ == supervisor_views.BOARD_REFRESH:
            guarded = role_required(*supervisor_views.SUPERVISOR_ROLES)(bound(view, parts))
        elif view.__name__ in supervisor_views.SUPERVISOR_VIEWS:
            roles = supervisor_views.SUPERVISOR_ROLES
            guarded = role_required(*roles)(_audited(bound(view, parts), parts))
        elif "contact_id" in rule:
            guarded = role_required(*STAFF_ROLES)(_conversation_rule(bound(view, parts), parts))
        elif "callback_id" in rule:
            guarded = role_required(*DESK_ROLES)(_callback_rule(bound(view, parts), parts))
        elif view.__name__ in callback_views.AUDITED_LISTS:
            guarded = role_required(*DESK_ROLES)(_audited(bound(view, parts), parts))
        else:
            guarded = role_required(*DESK_ROLES)(bound(view, parts))
        bp.add_url_rule(rule, view.__name__, guarded, methods=[method])
    return bp


def desk_language(languages: Sequence[str]) -> str:
    """The desk's language: ?lang= (kept), else the agent's choice, else the browser's."""
    asked = language_code(request.args.get("lang"))
    if asked in languages:
        session[LANGUAGE_KEY] = asked
        return asked
    chosen = session.get(LANGUAGE_KEY)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def _speak(parts: DeskParts) -> None:
    g.page_language = desk_language(parts.languages)


def _words(parts: DeskParts) -> dict:
    if request.blueprint != "desk":
        return {}
    speak = translator(g.get("page_language"))
    said = DeskWords(speak, parts.zone)
    return {
        "say": said,
        "ngettext": speak.ngettext,
        "W": w,
        "WRAP_UP_WORDS_MAP": WRAP_UP_WORDS,
        "WRAP_UPS": [(code, WRAP_UP_WORDS.get(code, code)) for code in WRAP_UP_CODES],
        "OUTCOMES": list(OUTCOME_WORDS.items()),
        "desk_languages": [(code, w.LANGUAGE_NAMES.get(code, code)) for code in parts.languages],
        "reason_of": lambda d: said.reason(d, parts.rules),
    }


def _route() -> str:
    return f"{request.method} {request.path}"


def _conversation_rule(view, parts: DeskParts):  # noqa: ANN001, ANN202
    """Let the view run only for whoever the access rule allows; audit every attempt."""

    @wraps(view)
    def checked(contact_id: int, **kwargs):  # noqa: ANN202
        if parts.access is None:  # a desk built without its audit log: the desk's roles
            if not current_user.has_role(*DESK_ROLES):
                return render_template("forbidden.html"), 403
            return view(contact_id=contact_id, **kwargs)
        refused = _refusal(parts, contact_id, view.__name__)
        return refused or view(contact_id=contact_id, **kwargs)

    return checked


def _callback_rule(view, parts: DeskParts):  # noqa: ANN001, ANN202
    """Let staff act on a callback only when the access rule lets them open its contact's
    conversation (an agent of another queue may not close it); audit every attempt."""

    @wraps(view)
    def checked(callback_id: int):  # noqa: ANN202
        contact_id = parts.callbacks.contact_of(callback_id) if parts.callbacks else None
        if contact_id is None:
            abort(404)
        if parts.access is not None:
            refused = _refusal(parts, contact_id, view.__name__)
            if refused:
                return refused
        return view(callback_id=callback_id)

    return checked


def _refusal(parts: DeskParts, contact_id: int, action: str):  # noqa: ANN202
    """Apply the access rule to a conversation and audit it: the refusal to answer (404,
    403), or None when the viewer may go on."""
    found = parts.access.open(viewer(), contact_id, action=action, route=_route())
    if found is None:
        abort(404)
    if found.allowed:
        return None
    if request.path.endswith(".json"):
        return jsonify(error=_("You may not open this conversation.")), 403
    return render_template("forbidden.html", reason=found.reason), 403


def _audited(view, parts: DeskParts):  # noqa: ANN001, ANN202
    """Audit each use of a page that shows citizens' data but is not one conversation."""

    @wraps(view)
    def checked(**kwargs):  # noqa: ANN202
        if parts.access is not None:
            parts.access.record(viewer(), action=view.__name__, route=_route(), reason=DESK_ROLE)
        return view(**kwargs)

    return checked


def _issued(now: datetime) -> datetime:
    """When a live token is signed: not before its page session began, which counts from
    after the last sign-out even when a clock running ahead stamped it (User.session_start),
    so the stream process honours the token of a session it honours."""
    began = session_began()
    return max(now, began) if began is not None else now


def choose_language(parts: DeskParts):
    """Keep the agent's choice of the desk's language and go back to the page they were on."""
    chosen = language_code(request.form.get("language"))
    if chosen in parts.languages:
        session[LANGUAGE_KEY] = chosen
        g.page_language = chosen
    back = request.form.get("next", "")
    if not local_path(back, "/desk/"):
        back = url_for("desk.queue")  # only a desk page of this site: no open redirect
    return redirect(back)
