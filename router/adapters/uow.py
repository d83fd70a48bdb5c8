"""The SQLAlchemy unit of work."""

from __future__ import annotations

import weakref
from collections.abc import Iterator

from sqlalchemy import event as orm_events
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from router.adapters import claiming
from router.adapters import repositories as repos
from router.domain.model import Aggregate
from router.service.journal import write_new_events

_SEEN = claiming.SEEN  # session.info: the unit of work's aggregates, by id()
_watched: weakref.WeakSet[sessionmaker] = weakref.WeakSet()


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
        s = self.session
        self.citizens = repos.SqlCitizenRepository(s)
        self.contacts = repos.SqlContactRepository(s)
        self.messages = repos.SqlMessageRepository(s)
        self.decisions = repos.SqlDecisionRepository(s)
        self.queue = repos.SqlQueueRepository(s)
        self.users = repos.SqlUserRepository(s)
        self.consents = repos.SqlConsentRepository(s)
        self.events = repos.SqlEventLog(s)
        self.callbacks = repos.SqlCallbackRepository(s)
        self.followups = repos.SqlFollowupRepository(s)
        self.calls = repos.SqlCallRepository(s)
        self.surveys = repos.SqlSurveyRepository(s)
        self.audit = repos.SqlAuditLog(s)
        self.agents = repos.SqlAgentRepository(s)
        self.presence = repos.SqlPresenceRepository(s)
        self.offers = repos.SqlOfferRepository(s)
        self.transfers = repos.SqlTransferRepository(s)
        self.notes = repos.SqlNoteRepository(s)
        self.after_commit: list[object] = []
        self.published: list[object] = []
        # The session holds a flushed, unchanged object only weakly: an aggregate a handler
        # moved and then dropped could vanish with its new events before the commit. Every
        # aggregate this unit of work loads or adds is held here until the block ends
        # (`_hold`, listening on the session factory once rather than on every session).
        self._seen: dict[int, Aggregate] = {}
        s.info[_SEEN] = self._seen
        return self

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
            self.decisions.write()
            self.events.write()
            self.session.commit()
            self.published.extend(self.after_commit)
            self.after_commit.clear()
        except IntegrityError as exc:
            # Two deliveries of one provider message raced; the other one was committed.
            repos.raise_duplicate_delivery(self.session, exc)
            raise

    def rollback(self) -> None:
        self.after_commit.clear()
        self.session.rollback()
        claiming.forget(self.session)
