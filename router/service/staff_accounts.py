"""Staff accounts, administered: list, create, set a password, deactivate, reactivate.

Each change is made by an active admin (named: `kanal users … --admin NAME`), or, while no
active admin exists yet, by whoever sets kanal up; each is one audit entry (who, what,
`kanal users …` with the account's name, why), written in the change's own transaction.

What ends with a change, at once and not at the next sign-in:

- **a new password**, and **deactivation**, end the account's sessions: the page sessions and
  the desk's live tokens signed before now are refused (`User.sign_out`, as signing out does),
  and an agent at the desk goes offline (their open offers withdrawn);
- **deactivation** also revokes the account's API tokens (reactivating it brings none back)
  and puts every conversation the agent holds back in its queue, in the place it had
  (ranked as before), with a transfer noting why: no citizen is left with an agent who can
  no longer answer. (Signing out keeps them: the agent comes back to them.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from router.domain import staff
from router.domain.access import ADMIN, AuditEntry
from router.domain.model import ROLES, ContactState, QueueItem, User
from router.domain.presence import PresenceState
from router.domain.transfers import Transfer
from router.service.errors import Conflict, Forbidden, NotFound
from router.service.unit_of_work import UnitOfWork

BACK_IN_QUEUE = "{username} was deactivated: back in the queue, in the place it had."


@dataclass(frozen=True)
class StaffAccount:
    """What `kanal users list` shows of an account: never its password's hash."""

    username: str
    display_name: str
    role: str
    active: bool
    created_at: datetime | None
    signed_out_at: datetime | None


@dataclass(frozen=True)
class Deactivated:
    username: str
    returned: tuple[int, ...]  # the contacts put back in their queues
    tokens_revoked: int


def _account(user: User) -> StaffAccount:
    return StaffAccount(
        user.username, user.display_name, user.role, user.active, user.created_at,
        user.signed_out_at,
    )  # fmt: skip


class StaffAccounts:
    """An administrator's acts on staff accounts, each audited."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Callable[[], datetime],
        hash_password: Callable[[str], str],
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.hash_password = hash_password

    def accounts(self) -> list[StaffAccount]:
        """Every account, by username (a read of no citizen's data: not audited)."""
        with self.uow() as uow:
            return [_account(user) for user in uow.users.everyone()]

    def create(
        self, by: str | None, username: str, password: str, role: str, display_name: str = ""
    ) -> StaffAccount:
        """Create an account with a hashed password."""
        username = username.strip()
        if not username or len(username) > 80:
            raise Conflict("the username must have 1 to 80 characters")
        if role not in ROLES:
            raise Conflict(f"role must be one of {', '.join(ROLES)}")
        self._check_password(password, username)
        now = self.clock()
        route = f"kanal users create {username} --role {role}"
        with self.uow() as uow:
            actor = self._actor(uow, by, staff.CREATED, route, now)
            if uow.users.by_username(username):
                raise Conflict(f"user {username!r} exists already")
            user = uow.users.add(
                User(
                    username=username, password_hash=self.hash_password(password), role=role,
                    display_name=display_name or username, created_at=now,
                )
            )  # fmt: skip
            self._audit(uow, actor or user, staff.CREATED, route, now, bootstrap=actor is None)
            uow.commit()
            return _account(user)

    def set_password(self, by: str | None, username: str, password: str) -> None:
        """Give an account a new password; its sessions end (it signs in again with it)."""
        self._check_password(password, username)
        now = self.clock()
        route = f"kanal users password {username}"
        with self.uow() as uow:
            actor = self._required_actor(uow, by, staff.PASSWORD_SET, route, now)
            user = self._user(uow, username)
            user.password_hash = self.hash_password(password)
            self._end_sessions(uow, user, now, why="password changed")
            self._audit(uow, actor, staff.PASSWORD_SET, route, now)
            uow.commit()

    def deactivate(self, by: str | None, username: str) -> Deactivated:
        """Deactivate an account: sessions and API tokens end, held work goes back."""
        now = self.clock()
        route = f"kanal users deactivate {username}"
        with self.uow() as uow:
            actor = self._required_actor(uow, by, staff.DEACTIVATED, route, now)
            user = self._user(uow, username)
            if not user.active:
                raise Conflict(f"user {username!r} is inactive already")
            admins = [u for u in uow.users.everyone() if u.active and u.role == ADMIN]
            if admins == [user]:
                raise Conflict("this is the last active admin: make another admin first")
            user.active = False
            self._end_sessions(uow, user, now, why="deactivated")
            tokens = uow.users.tokens_of(user.id)
            for token in tokens:
                token.revoke()
            returned = tuple(self._return_held(uow, user, actor, now))
            self._audit(uow, actor, staff.DEACTIVATED, route, now)
            uow.commit()
            return Deactivated(user.username, returned, len(tokens))

    def reactivate(self, by: str | None, username: str) -> None:
        """Let an account sign in again (its old sessions and API tokens stay ended)."""
        now = self.clock()
        route = f"kanal users reactivate {username}"
        with self.uow() as uow:
            actor = self._required_actor(uow, by, staff.REACTIVATED, route, now)
            user = self._user(uow, username)
            if user.active:
                raise Conflict(f"user {username!r} is active already")
            user.active = True
            self._audit(uow, actor, staff.REACTIVATED, route, now)
            uow.commit()

    # -- the steps ---------------------------------------------------------------------------

    @staticmethod
    def _check_password(password: str, username: str) -> None:
        problem = staff.password_problem(password, username)
        if problem is not None:
            raise Conflict(problem)

    @staticmethod
    def _user(uow: UnitOfWork, username: str) -> User:
        user = uow.users.by_username(username)
        if user is None:
            raise NotFound(f"no user {username!r}")
        return user

    def _actor(
        self, uow: UnitOfWork, by: str | None, action: str, route: str, now: datetime
    ) -> User | None:
        """The active admin `by`; None while there is no active admin at all (setting up).
        A member of staff who is not one is refused, and the attempt audited."""
        if by is None:
            if any(u.active and u.role == ADMIN for u in uow.users.everyone()):
                raise Forbidden("name the admin making the change (--admin NAME)")
            return None
        actor = uow.users.by_username(by)
        if actor is None or not actor.active or actor.role != ADMIN:
            if actor is not None:
                self._audit(uow, actor, action, route, now, refused=True)
                uow.commit()
            raise Forbidden(f"{by!r} is not an active admin: only an admin manages accounts")
        return actor

    def _required_actor(
        self, uow: UnitOfWork, by: str | None, action: str, route: str, now: datetime
    ) -> User:
        actor = self._actor(uow, by, action, route, now)
        if actor is None:
            raise Forbidden("there is no active admin yet: create one first (--role admin)")
        return actor

    @staticmethod
    def _audit(
        uow: UnitOfWork, actor: User, action: str, route: str, now: datetime, *,
        bootstrap: bool = False, refused: bool = False,
    ) -> None:  # fmt: skip
        reason = staff.NO_ADMIN_YET if bootstrap else staff.BY_ADMIN
        uow.audit.append(
            AuditEntry(
                at=now, user_id=actor.id, username=actor.username, role=actor.role,
                action=action, route=route, allowed=not refused,
                reason=staff.NOT_AN_ADMIN if refused else reason,
            )
        )  # fmt: skip

    @staticmethod
    def _end_sessions(uow: UnitOfWork, user: User, now: datetime, why: str) -> None:
        """What was signed for them before now is refused; off the desk, offers withdrawn."""
        user.sign_out(now)
        found = uow.presence.get(user.id)
        if found is not None and found.is_online:
            uow.presence.lock(user.id).change(PresenceState.OFFLINE, now, why=why)
        for offer in uow.offers.open_for_agent(user.id):
            offer.withdraw(now, why=why)

    @staticmethod
    def _return_held(uow: UnitOfWork, user: User, actor: User, now: datetime) -> list[int]:
        """Put each conversation the agent holds back in its queue, ranked as it was."""
        returned = []
        for held in uow.contacts.assigned_to(user.id):
            contact = uow.contacts.get(held.id, for_update=True)
            item = uow.queue.open_for_contact(contact.id) if contact is not None else None
            if contact is None or contact.state != ContactState.ASSIGNED or item is None:
                continue
            item.transfer(now)
            again = uow.queue.add(
                QueueItem(
                    contact_id=contact.id, skill=item.skill, priority=item.priority,
                    enqueued_at=now, queue=item.queue, channel=contact.channel,
                    language=contact.language, rank_at=item.rank_at,
                )
            )  # fmt: skip
            contact.enqueue(again)
            record = uow.transfers.add(
                Transfer(
                    contact_id=contact.id, by_id=actor.id, from_queue=item.queue,
                    to_queue=item.queue, note=BACK_IN_QUEUE.format(username=user.username),
                    at=now,
                )
            )  # fmt: skip
            record.made()
            returned.append(contact.id)
        return returned
