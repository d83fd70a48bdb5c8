"""The SQLAlchemy unit of work."""

from __future__ import annotations

import weakref
from collections.abc import Iterator

from sqlalchemy import event as orm_events
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from router.adapters import (
    citizens,
    claiming,
    conversations,
    decisions,
    desk,
    event_log,
    followups,
    queue,
    staff,
)
from router.adapters import repositories as repos
from router.adapters.sql_repository import raise_duplicate_delivery
from router.domain.model import Aggregate
from router.service.journal import write_new_events

_SEEN = claiming.SEEN  # session.info: the unit of work's aggregates, by id()
_watched: weakref.WeakSet[sessionmaker] = weakref.WeakSet()
REPOSITORIES = {
    "citizens": citizens.SqlCitizenRepository,
    "contacts": repos.SqlContactRepository,
    "messages": repos.SqlMessageRepository,
    "decisions": decisions.SqlDecisionRepository,
    "queue": queue.SqlQueueRepository,
    "users": staff.SqlUserRepository,
    "consents": repos.SqlConsentRepository,
    "events": event_log.SqlEventLog,
    "callbacks": followups.SqlCallbackRepository,
    "followups": followups.SqlFollowupRepository,
    "calls": repos.SqlCallRepository,
    "surveys": followups.SqlSurveyRepository,
    "audit": staff.SqlAuditLog,
    "agents": desk.SqlAgentRepository,
    "presence": desk.SqlPresenceRepository,
    "offers": desk.SqlOfferRepository,
    "transfers": desk.SqlTransferRepository,
    "notes": desk.SqlNoteRepository,
}


def _hold(session: Session, obj: object) -> None:
    seen = session.info.get(_SEEN)
    if seen is not None and isinstance(obj, Aggregate):
        seen[id(obj)] = obj


class SqlUnitOfWork:
    """A session and its repositories; leaving the block without commit rolls back."""

    def __init__(self, session_factory: sessionmaker) -> None:
        self.session_factory = session_factory
        if session_factory not in _watched:
            for name in ("loaded_as_persistent", "transient_to_pending", "detached_to_persistent"):
                orm_events.listen(session_factory, name, _hold)
            _watched.add(session_factory)

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self.session_factory()
        for name in REPOSITORIES:  # made when first asked for (`__getattr__`)
            self.__dict__.pop(name, None)
        self.after_commit: list[object] = []
        self.published: list[object] = []
        # The session holds a flushed, unchanged object only weakly: an aggregate a handler
        # moved and then dropped could vanish with its new events before the commit. Every
        # aggregate this unit of work loads or adds is held here until the block ends
        # (`_hold`, listening on the session factory once rather than on every session).
        self._seen: dict[int, Aggregate] = {}
        self.session.info[_SEEN] = self._seen
        return self

    def __getattr__(self, name: str) -> object:
        """A repository, made on first use: a turn asks for a few of the eighteen."""
        made = REPOSITORIES.get(name)
        if made is None or "session" not in self.__dict__:
            raise AttributeError(name)
        repository = self.__dict__[name] = made(self.session)
        return repository

    def __exit__(self, *exc: object) -> None:
        # close() rolls back what was not committed and detaches objects without expiring
        # them, so what a handler read stays readable after the block.
        self.after_commit.clear()
        self._seen.clear()
        self.session.info.pop(_SEEN, None)
        self.session.close()

    def collect_new_events(self) -> Iterator[tuple[object, object]]:
        raised = [
            (number, obj, event)
            for obj in {id(o): o for o in (*self._seen.values(), *self.session)}.values()
            if isinstance(obj, Aggregate)
            for number, event in obj.collect_numbered()
        ]
        for _, obj, event in sorted(raised, key=lambda r: r[0]):
            yield obj, event

    def commit(self) -> None:
        try:
            write_new_events(self)
            if "decisions" in self.__dict__:  # asked for in this unit of work
                self.decisions.write()
            self.events.write()
            self.session.commit()
            self.published.extend(self.after_commit)
            self.after_commit.clear()
        except IntegrityError as exc:
            # Two deliveries of one provider message raced; the other one was committed.
            raise_duplicate_delivery(self.session, exc)
            raise

    def rollback(self) -> None:
        self.after_commit.clear()
        self.session.rollback()
        claiming.forget(self.session)
        self.session.info.pop(conversations.UNLOCKED, None)
