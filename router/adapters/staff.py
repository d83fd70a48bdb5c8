"""Staff: the members of staff, their API tokens, and the audit log of what they opened."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from router.adapters.sql_repository import SqlRepository
from router.domain.access import AuditEntry
from router.domain.model import ApiToken, User


class SqlUserRepository(SqlRepository):
    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def by_username(self, username: str) -> User | None:
        if "\x00" in username:  # no username holds NUL, and PostgreSQL's text refuses it
            return None
        return self.session.scalars(select(User).where(User.username == username)).first()

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(User)) or 0

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        stmt = select(ApiToken).where(
            ApiToken.token_hash == token_hash, ApiToken.revoked.is_(False)
        )
        return self.session.scalars(stmt).first()

    def everyone(self) -> list[User]:
        return list(self.session.scalars(select(User).order_by(User.username)))

    def tokens_of(self, user_id: int) -> list[ApiToken]:
        stmt = select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked.is_(False))
        return list(self.session.scalars(stmt.order_by(ApiToken.id)))

    def with_roles(self, *roles: str) -> list[User]:
        """Return the active staff of these roles, by name (the supervisor board)."""
        stmt = (
            select(User).where(User.active.is_(True), User.role.in_(roles)).order_by(User.username)
        )
        return list(self.session.scalars(stmt))

    def available_for_calls(self) -> list[User]:
        stmt = (
            select(User)
            .where(User.active.is_(True), User.available_for_calls.is_(True))
            .order_by(User.id)
        )
        return list(self.session.scalars(stmt))


class SqlAuditLog(SqlRepository):
    def append(self, entry: AuditEntry) -> AuditEntry:
        return self.add(entry)

    def between(
        self, since: datetime | None = None, until: datetime | None = None, limit: int = 100_000
    ) -> list[AuditEntry]:
        stmt = select(AuditEntry)
        if since is not None:
            stmt = stmt.where(AuditEntry.at >= since)
        if until is not None:
            stmt = stmt.where(AuditEntry.at < until)
        return list(self.session.scalars(stmt.order_by(AuditEntry.id).limit(limit)))
