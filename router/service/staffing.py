"""Who is on the staff as the staffing rules see them (router/domain/staffing.py): every
member who can take work, with their profile and presence."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from router.domain.routing import Routing
from router.domain.staffing import StaffMember, Work, unserved
from router.service.unit_of_work import UnitOfWork

AGENT_ROLES = ("agent", "supervisor")


def presence_of(uow: UnitOfWork, user_id: int) -> str:
    """The agent's presence now ("offline" when they never signed in)."""
    presence = uow.presence.get(user_id)
    return str(presence.state) if presence else "offline"


def staff_of(uow: UnitOfWork) -> list[StaffMember]:
    """Everyone who can take work, whatever their team."""
    return [
        StaffMember(uow.agents.get(user.id), presence_of(uow, user.id))
        for user in uow.users.with_roles(*AGENT_ROLES)
    ]


def unserved_work(
    uow: Callable[[], UnitOfWork], routing: Routing, languages: Iterable[str]
) -> list[Work]:
    """The queues, languages and channels kanal routes to that no agent's profile covers."""
    with uow() as unit:
        staff = staff_of(unit)
    return unserved(routing, languages, staff)
