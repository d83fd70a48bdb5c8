"""What every SQL repository shares: its session, the objects a claim locked, and `add`."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from router.adapters import claiming
from router.service.errors import DuplicateDelivery


def raise_duplicate_delivery(session: Session, exc: IntegrityError) -> None:
    """Turn a clash on a provider's message id into DuplicateDelivery (a retried webhook)."""
    if "provider_id" in str(exc.orig):
        session.rollback()
        raise DuplicateDelivery("This message was received already.") from exc


class SqlRepository:
    """A repository on the unit of work's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _claimed(self, cls: type, id_: object):  # noqa: ANN202
        """The object a claim read (and locked) for this row in this transaction, if any:
        the same row is one object (router/adapters/claiming.py)."""
        return claiming.tracked(self.session, cls, id_)

    def add(self, obj):
        """Add an object and flush so it has its id."""
        self.session.add(obj)
        try:
            self.session.flush()
        except IntegrityError as exc:
            raise_duplicate_delivery(self.session, exc)
            raise
        return obj
