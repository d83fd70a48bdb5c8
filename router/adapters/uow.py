"""The SQLAlchemy unit of work."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from router.adapters import repositories as repos


class SqlUnitOfWork:
    """A session and its repositories; leaving the block without commit rolls back."""

    def __init__(self, session_factory: sessionmaker) -> None:
        self.session_factory = session_factory

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self.session_factory()
        s = self.session
        self.citizens = repos.CitizenRepository(s)
        self.contacts = repos.ContactRepository(s)
        self.messages = repos.MessageRepository(s)
        self.decisions = repos.DecisionRepository(s)
        self.queue = repos.QueueRepository(s)
        self.users = repos.UserRepository(s)
        self.consents = repos.ConsentRepository(s)
        self.events = repos.EventLog(s)
        self.callbacks = repos.CallbackRepository(s)
        self.followups = repos.FollowupRepository(s)
        self.calls = repos.CallRepository(s)
        self.surveys = repos.SurveyRepository(s)
        return self

    def __exit__(self, *exc: object) -> None:
        # close() rolls back what was not committed and detaches objects without expiring
        # them, so what a handler read stays readable after the block.
        self.session.close()

    def commit(self) -> None:
        try:
            self.events.write()
            self.session.commit()
        except IntegrityError as exc:
            # Two deliveries of one provider message raced; the other one was committed.
            repos.raise_duplicate_delivery(self.session, exc)
            raise

    def rollback(self) -> None:
        self.session.rollback()
