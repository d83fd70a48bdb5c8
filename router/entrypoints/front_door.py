"""The front door (`/`): citizens to the chat, staff to sign in and to their pages by role.

Staff pages that speak the page's language (the front door, the managers' dashboard) pick it
with `page_language`: `?lang=`, else the browser's Accept-Language, else the agency's first
language. Every template gets `_` (kanal's catalogues, docs/translations.md) in the page's
language, English where a page has not chosen one (the desk).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask import Blueprint, g, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from router.service.translations import N_, Translator, language_code, translator
from router.web import bound

# Each language's name in that language, for the language switch.
LANGUAGE_NAMES = {"da": "Dansk", "en": "English", "sv": "Svenska", "de": "Deutsch"}
DESK_ROLES = ("agent", "supervisor")
DASHBOARD_ROLES = ("manager", "supervisor")


@dataclass(frozen=True)
class Doors:
    """Which pages this kanal serves, for the front door's links (the app factory knows)."""

    chat: bool = True
    dashboard: bool = True
    sandbox_outbox: bool = False  # development in sandbox mode
    api_document: bool = False  # development


def page_language(languages: Sequence[str]) -> str:
    """The page's language: ?lang=, else the browser's Accept-Language, else the first served."""
    asked = language_code(request.args.get("lang"))
    if asked in languages:
        return asked
    return request.accept_languages.best_match(languages) or languages[0]


def speaker(languages: Sequence[str]) -> Callable[[], Translator]:
    """Return a function a view calls to speak the page's language (templates get `_`)."""

    def speak() -> Translator:
        g.page_language = page_language(languages)
        return translator(g.page_language)

    return speak


def _template_words(doors: Doors) -> dict:
    language = g.get("page_language") or "en"
    return {"_": translator(language), "page_lang": language, "has_dashboard": doors.dashboard}


def landing(user, language: str | None = None) -> str:  # noqa: ANN001 - a StaffUser
    """Where a member of staff lands after signing in: the page their role is for.

    Agents and supervisors (and admins) land on the desk, managers on the dashboard; a role
    without pages of its own (integration: API tokens only) on the front door.
    """
    if user.has_role(*DESK_ROLES):
        endpoint, args = "desk.queue", {}
    elif user.has_role(*DASHBOARD_ROLES):
        endpoint, args = "dashboard.overview", {"lang": language} if language else {}
    else:
        endpoint, args = "front_door.home", {"lang": language} if language else {}
    try:
        return url_for(endpoint, **args)
    except BuildError:  # the page is not served in this app
        return url_for("front_door.home", **args)


def staff_pages(user, language: str, doors: Doors) -> list[tuple[str, str]]:  # noqa: ANN001
    """The pages a signed-in member of staff may open: (label, URL)."""
    pages = []
    if user.has_role(*DESK_ROLES):
        pages.append((N_("The desk: the queue and conversations"), url_for("desk.queue")))
    if user.has_role(*DASHBOARD_ROLES) and doors.dashboard:
        pages.append(
            (N_("The dashboard: channel shift, service and fairness"),
             url_for("dashboard.overview", lang=language))
        )  # fmt: skip
    return pages


def home(languages: Sequence[str], doors: Doors):
    """The front door, in the page's language."""
    _ = speaker(languages)()
    switch = [
        (code, LANGUAGE_NAMES.get(code, code), url_for("front_door.home", lang=code))
        for code in languages
        if code != _.language
    ]
    developer = []
    if doors.sandbox_outbox:
        developer.append((N_("The sandbox outbox: SMS and calls kanal sent"),
                          url_for("sandbox.outbox_page")))  # fmt: skip
    if doors.api_document:
        developer.append((N_("The API document (OpenAPI)"), url_for("openapi.document")))
    staff = staff_pages(current_user, _.language, doors) if current_user.is_authenticated else []
    return render_template(
        "front_door.html",
        chat_url=url_for("webchat.demo_page", lang=_.language) if doors.chat else None,
        login_url=url_for("auth.login", lang=_.language),
        staff=staff,
        developer=developer,
        switch=switch,
    )


def blueprint(languages: Sequence[str], doors: Doors) -> Blueprint:
    """Return the front door over the pages this kanal serves (`doors`)."""
    bp = Blueprint("front_door", __name__, template_folder="templates")
    bp.app_context_processor(bound(_template_words, doors))
    bp.add_url_rule("/", "home", bound(home, tuple(languages), doors))
    return bp
