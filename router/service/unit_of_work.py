"""The unit of work the handlers use: repositories plus one transaction."""

from __future__ import annotations

from typing import Any, Protocol


class UnitOfWork(Protocol):
    """One transaction over the router's repositories; rolled back unless committed."""

    citizens: Any
    contacts: Any
    messages: Any
    decisions: Any
    queue: Any
    users: Any
    consents: Any
    events: Any

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc: object) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
