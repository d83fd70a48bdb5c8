"""An internal note: what an agent writes about a contact for colleagues, never to the citizen.

The note's words stay with the note (the `notes` table); the event log, which analytics
reads, records only that a note was written and by whom.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from router.domain.model import Aggregate, IllegalTransition

NOTE_ADDED = "note_added"  # {"note_id", "agent_id"}
MAX_NOTE = 2000


@dataclass
class InternalNote(Aggregate):
    """One note on a contact, written once by a member of staff who may open it."""

    contact_id: int
    agent_id: int
    text: str
    at: datetime
    id: int | None = None

    def __post_init__(self) -> None:
        self.text = self.text.replace("\x00", "").strip()
        if not self.text:
            raise IllegalTransition("an internal note needs some words")
        if len(self.text) > MAX_NOTE:
            raise IllegalTransition(f"an internal note has at most {MAX_NOTE} characters")

    def written(self) -> None:
        """Record the note once it is stored (it has its id)."""
        self._happened(NOTE_ADDED, self.at, note_id=self.id, agent_id=self.agent_id)
