"""The desk's access rule carried out, and every attempt written to the audit log."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime

from router.domain import events as ev
from router.domain.access import AGENT, SUPERVISOR, Access, AuditEntry, Viewer, may_open
from router.domain.routing import Routing, queues_of
from router.service.unit_of_work import UnitOfWork

NO_SUCH_CONVERSATION = "no such conversation"


class DeskAccess:
    """Decide whether a member of staff may open a conversation, and audit the attempt."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Callable[[], datetime] | None = None,
        routing: Routing | None = None,
    ) -> None:
        self.uow = uow_factory
        self.clock = clock or (lambda: datetime.now(UTC))
        self.routing = routing or Routing()

    def scope(self, uow: UnitOfWork, viewer: Viewer) -> Viewer:
        """Return the viewer with the queues and team their routing profile gives them."""
        return scope_of(uow, self.routing, viewer)

    def visible(self, viewer: Viewer, entries: list) -> list:
        """Keep the queue entries (anything with a `queue`) of the viewer's queues: an agent
        sees their queues' waiting contacts, a supervisor their teams' (admins: all)."""
        if viewer.role not in (AGENT, SUPERVISOR):
            return entries
        with self.uow() as uow:
            scoped = self.scope(uow, viewer)
        if not scoped.queues:
            return entries
        return [e for e in entries if e.queue is None or e.queue in scoped.queues]

    def open(self, viewer: Viewer, contact_id: int, *, action: str, route: str) -> Access | None:
        """Apply the rule to one conversation and audit it; None when there is no such one
        (the attempt is audited as refused: probing ids is worth knowing about)."""
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id)
            viewer = self.scope(uow, viewer)
            if contact is None:
                access, citizen = None, None
            else:
                access = self._decide(uow, viewer, contact)
                found = uow.citizens.get(contact.citizen_id) if contact.citizen_id else None
                citizen = found.pseudonym if found else None
            uow.audit.append(
                self._entry(
                    viewer,
                    action,
                    route,
                    access or Access(False, NO_SUCH_CONVERSATION),
                    contact_id=contact_id,
                    citizen=citizen,
                )
            )
            uow.commit()
        return access

    def openable(self, viewer: Viewer, contact_ids: Iterable[int]) -> set[int]:
        """Return the contacts of `contact_ids` the viewer may open, to list only those (the
        list's view is audited once, by `record`)."""
        with self.uow() as uow:
            scoped = self.scope(uow, viewer)
            found = (uow.contacts.get(contact_id) for contact_id in set(contact_ids))
            return {c.id for c in found if c is not None and self._decide(uow, scoped, c).allowed}

    @staticmethod
    def _decide(uow: UnitOfWork, viewer: Viewer, contact) -> Access:  # noqa: ANN001 - a Contact
        handed_to = tuple(
            e.data.get("to_queue") or e.data.get("queue") or e.data.get("skill") or ""
            for e in uow.events.for_contact(contact.id)
            if e.type in (ev.QUEUED, ev.QUEUE_ITEM_MOVED)  # moved by a supervisor
        )
        return may_open(viewer, assigned_to=contact.agent_id, handed_to=handed_to)

    def record(self, viewer: Viewer, *, action: str, route: str, reason: str) -> None:
        """Audit an allowed view of citizens' data that is not one conversation (a list)."""
        with self.uow() as uow:
            uow.audit.append(self._entry(viewer, action, route, Access(True, reason)))
            uow.commit()

    def refused(self, viewer: Viewer, *, action: str, route: str, reason: str) -> None:
        """Audit an attempt the viewer's role does not allow."""
        with self.uow() as uow:
            uow.audit.append(self._entry(viewer, action, route, Access(False, reason)))
            uow.commit()

    def entries(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[AuditEntry]:
        """Return the audit log between two instants, oldest first (for the export)."""
        with self.uow() as uow:
            return uow.audit.between(since, until)

    def _entry(
        self,
        viewer: Viewer,
        action: str,
        route: str,
        access: Access,
        *,
        contact_id: int | None = None,
        citizen: str | None = None,
    ) -> AuditEntry:
        return AuditEntry(
            at=self.clock(),
            user_id=viewer.user_id,
            username=viewer.username,
            role=viewer.role,
            action=action,
            route=route[:300],
            allowed=access.allowed,
            reason=access.reason,
            contact_id=contact_id,
            citizen=citizen,
        )


def scope_of(uow: UnitOfWork, routing: Routing, viewer: Viewer) -> Viewer:
    """Return the viewer with the queues and team their routing profile gives them."""
    if viewer.queues or viewer.team:
        return viewer
    mine = uow.agents.get(viewer.user_id)
    if viewer.role == AGENT:
        return replace(viewer, queues=queues_of(mine, routing) or ())
    if viewer.role != SUPERVISOR or mine is None or not mine.teams:
        return viewer
    members = [
        p
        for p in uow.agents.all()
        if set(p.teams) & set(mine.teams) and p.user_id != viewer.user_id
    ]
    queues: set[str] = set()
    for member in members:
        served = queues_of(member, routing)
        queues |= set(routing.names() if served is None else served)
    team = frozenset(p.user_id for p in members)
    return replace(viewer, queues=tuple(sorted(queues)) or ("-",), team=team)


def team_queues(uow: UnitOfWork, routing: Routing, user_id: int) -> tuple[str, ...] | None:
    """Return the queues a supervisor in a team may take work from, their teams' (the ones
    the rule lets them open); None for anyone else (an agent takes from their skills')."""
    user = uow.users.get(user_id)
    if user is None or user.role != SUPERVISOR:
        return None
    scoped = scope_of(uow, routing, Viewer(user_id, user.username, user.role))
    return scoped.queues if scoped.team or scoped.queues else None
