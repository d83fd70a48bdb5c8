"""A transfer: a contact handed by its agent to another queue or agent, with a note.

The note is for the next person (kept with the transfer, never in the event log, which
analytics reads); the log records that it happened and where it went.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from router.domain.model import Aggregate, IllegalTransition

TRANSFERRED = "transferred"  # {"transfer_id", "from_queue", "to_queue", "to_agent_id", "by"}
MAX_NOTE = 2000


@dataclass
class Transfer(Aggregate):
    """One transfer of a contact; made once, by the agent holding it (or a supervisor)."""

    contact_id: int
    by_id: int
    from_queue: str
    to_queue: str
    note: str
    at: datetime
    to_agent_id: int | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if len(self.note) > MAX_NOTE:
            raise IllegalTransition(f"a transfer note has at most {MAX_NOTE} characters")
        if self.to_agent_id is not None and self.to_agent_id == self.by_id:
            raise IllegalTransition("a contact cannot be transferred to the agent who holds it")

    def made(self) -> None:
        """Record the transfer once it is stored (it has its id)."""
        self._happened(
            TRANSFERRED, self.at, transfer_id=self.id, from_queue=self.from_queue,
            to_queue=self.to_queue, to_agent_id=self.to_agent_id, by=self.by_id,
        )  # fmt: skip
