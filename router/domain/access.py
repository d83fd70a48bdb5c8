"""Who may open a conversation at the desk, and the audit log's record of each attempt.

The rule (docs/domain.md, "Who sees a conversation"):

- an **agent** sees the conversations handed to people in one of their queues, and those
  assigned to them; a conversation only the assistant ever had is not theirs to read;
- a **supervisor** sees the conversations handed to people in their teams' queues and those
  assigned to their teams' agents (a supervisor in no team supervises the whole desk);
- a **manager** sees statistics, not conversations (a manager who also supervises has the
  supervisor's role);
- an **admin** sees every conversation; the audit log says so.

Each attempt, allowed or not, becomes an `AuditEntry`: who, what, when and why, with the
citizen's pseudonym only (never a phone number or a name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

AGENT = "agent"
SUPERVISOR = "supervisor"
MANAGER = "manager"
ADMIN = "admin"

# Why an attempt was allowed or refused, in the audit log's words.
ASSIGNED_TO_THEM = "assigned to them"
IN_THEIR_QUEUE = "handed to people in their queue"
SUPERVISES = "handed to people; supervisor"
ADMINISTERS = "admin"
NEVER_HANDED_OVER = "never handed to a person"
OTHER_QUEUE = "another queue's conversation"
OTHER_TEAM = "another team's conversation"
ROLE_WITHOUT_CONVERSATIONS = "the role sees statistics, not conversations"


@dataclass(frozen=True)
class Viewer:
    """The member of staff asking; `queues` are the queues an agent serves (a supervisor's:
    those their teams serve), and empty means every queue (an agent with no skills set, a
    supervisor in no team); `team` the agents a supervisor's teams hold."""

    user_id: int
    username: str
    role: str
    queues: tuple[str, ...] = ()
    team: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Access:
    """The answer to one attempt: allowed or not, and why."""

    allowed: bool
    reason: str


def may_open(viewer: Viewer, *, assigned_to: int | None, handed_to: tuple[str, ...]) -> Access:
    """Say whether `viewer` may open a conversation.

    `assigned_to` is the agent the conversation is (or was last) assigned to; `handed_to`
    the queues it was handed to people in, from its log (empty: only the assistant had it).
    """
    if viewer.role == ADMIN:
        return Access(True, ADMINISTERS)
    if viewer.role not in (AGENT, SUPERVISOR):
        return Access(False, ROLE_WITHOUT_CONVERSATIONS)
    if assigned_to is not None and assigned_to == viewer.user_id:
        return Access(True, ASSIGNED_TO_THEM)
    if not handed_to:
        return Access(False, NEVER_HANDED_OVER)
    if viewer.role == SUPERVISOR:
        everyone = not viewer.queues and not viewer.team
        theirs = assigned_to is not None and assigned_to in viewer.team
        if everyone or theirs or any(queue in viewer.queues for queue in handed_to):
            return Access(True, SUPERVISES)
        return Access(False, OTHER_TEAM)
    if not viewer.queues or any(queue in viewer.queues for queue in handed_to):
        return Access(True, IN_THEIR_QUEUE)
    return Access(False, OTHER_QUEUE)


@dataclass
class AuditEntry:
    """One view of (or attempt to view) a citizen's data at the desk.

    `action` says what was done (the view's name: `conversation`, `reply`…), `route` the
    request (`GET /desk/contacts/12`), `reason` why it was allowed or refused.
    """

    at: datetime
    user_id: int
    username: str
    role: str
    action: str
    route: str
    allowed: bool
    reason: str
    contact_id: int | None = None
    citizen: str | None = None  # the citizen's pseudonym, never a phone number or a name
    id: int | None = None
