"""Read-side queries for channels and the desk (no side effects)."""

from __future__ import annotations

from collections.abc import Callable

from router.service.unit_of_work import UnitOfWork


class Views:
    """Read-side queries for channels and the desk (no side effects)."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self.uow = uow_factory

    def contact_on(self, channel: str, address: str):
        """Return the latest contact on a channel address, or None."""
        with self.uow() as uow:
            return uow.contacts.latest_on(channel, address)

    def contact(self, contact_id: int):
        with self.uow() as uow:
            return uow.contacts.get(contact_id)

    def messages(self, contact_id: int, after: int = 0) -> list:
        with self.uow() as uow:
            return uow.messages.for_contact(contact_id, after)
