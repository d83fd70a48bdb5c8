"""The unit of work the handlers use: repositories plus one transaction."""

from __future__ import annotations

from collections.abc import Iterator
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
    audit: r.AuditLog
    agents: r.AgentRepository
    presence: r.PresenceRepository
    offers: r.OfferRepository
    transfers: r.TransferRepository
    notes: r.NoteRepository
    # Events for after the commit (`ClaimedReplies`), gathered as the journal writes the others;
    # moved to `published` by the commit (dropped by a rollback) for the message bus.
    after_commit: list[object]
    published: list[object]

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc: object) -> None: ...

    def collect_new_events(self) -> Iterator[tuple[object, object]]:
        """Yield (aggregate, event) for what the aggregates seen here recorded, once each."""
        ...

    def commit(self) -> None:
        """Write the aggregates' new events to the journal, then commit."""
        ...

    def rollback(self) -> None: ...
