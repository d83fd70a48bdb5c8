"""The unit of work the handlers use: repositories plus one transaction."""

from __future__ import annotations

from typing import Protocol

from router.service import repositories as r


class UnitOfWork(Protocol):
    """One transaction over the router's repositories; rolled back unless committed."""

    citizens: r.CitizenRepository
    contacts: r.ContactRepository
    messages: r.MessageRepository
    decisions: r.DecisionRepository
    queue: r.QueueRepository
    users: r.UserRepository
    consents: r.ConsentRepository
    events: r.EventLog
    callbacks: r.CallbackRepository
    followups: r.FollowupRepository
    calls: r.CallRepository
    surveys: r.SurveyRepository

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc: object) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
