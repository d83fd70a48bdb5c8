"""What the desk's pages work with, and who is asking: the desk's parts (handed to every
view by the blueprint, router/entrypoints/desk/views.py), the signed-in agent and the page's
language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import g
from flask_login import current_user

from router.domain.access import Viewer
from router.domain.replies import CannedReply
from router.service.access import DeskAccess
from router.service.callback_desk import CallbackDesk
from router.service.desk import Desk
from router.service.supervision import Supervision
from router.service.translations import translator
from router.service.views import Views

DESK_ROLES = ("agent", "supervisor", "admin")


@dataclass(frozen=True)
class DeskParts:
    """What the desk's pages work with."""

    desk: Desk
    views: Views
    callbacks: CallbackDesk | None = None
    zone: ZoneInfo = ZoneInfo("Europe/Copenhagen")  # the agency's: times are shown in it
    access: DeskAccess | None = None
    languages: tuple[str, ...] = ("en",)
    # (profile, rule id) -> the rule's reason as the profile wrote it, to say it again in
    # the desk's language; None when the profile is not the one running.
    rules: Callable[[str, str], str | None] = lambda _profile, _rule: None
    replies: tuple[CannedReply, ...] = ()  # the agency's canned replies (KANAL_CANNED_REPLIES)
    agency: str = "kanal"
    supervision: Supervision | None = None  # the supervisor board's figures and moves


def _(message: str, **values: object) -> str:
    """Translate one of the desk's texts into the page's language."""
    return translator(g.get("page_language"))(message, **values)


def agent_id() -> int:
    """The signed-in agent's id."""
    return int(current_user.id)


def viewer() -> Viewer:
    """The signed-in agent as the access rule sees them."""
    return Viewer(user_id=agent_id(), username=current_user.username, role=current_user.role)


def visible(parts: DeskParts, entries: list) -> list:
    """The waiting contacts of the agent's queues (a supervisor's: their teams')."""
    return parts.access.visible(viewer(), entries) if parts.access else entries


def visible_failed_callbacks(parts: DeskParts) -> list:
    """The failed callbacks on contacts the signed-in member of staff may open (an agent:
    their queues'; a supervisor: their teams'), oldest first."""
    if parts.callbacks is None:
        return []
    failed = parts.callbacks.failed()
    if parts.access is None:
        return failed
    theirs = parts.access.openable(viewer(), [callback.contact_id for callback in failed])
    return [callback for callback in failed if callback.contact_id in theirs]
