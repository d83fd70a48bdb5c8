"""Staff sessions ending: a member of staff signs out, or their desk session times out.

Either way what was signed for them before (the desk pages' live tokens, checked by the
stream process against `User.issued_in_session`) stops working at once, instead of running
out its twelve hours; an agent also goes offline (presence), which withdraws their offers.
The presence time-out job (`Assignments.time_out_absent`) ends the session of whoever it
takes offline in the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from router.service.unit_of_work import UnitOfWork


class GoesOffline(Protocol):
    def sign_out(self, agent_id: int) -> None: ...


class StaffSessions:
    """End a member of staff's session: their live tokens, and their presence at the desk."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Callable[[], datetime],
        presence: GoesOffline | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.presence = presence

    def sign_out(self, user_id: int) -> None:
        """They signed out: tokens signed for them until now are refused; offline."""
        now = self.clock()
        with self.uow() as uow:
            user = uow.users.get(user_id)
            if user is not None:
                user.sign_out(now)
                uow.commit()
        if self.presence is not None:
            self.presence.sign_out(user_id)
