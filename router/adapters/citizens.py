"""The citizen register: citizens, found by id, phone or pseudonym, and their exemptions."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from router.adapters.sql_repository import SqlRepository
from router.adapters.turn_statements import turn_statements
from router.domain.model import Citizen, Exemption


class SqlCitizenRepository(SqlRepository):
    def get(self, citizen_id: int) -> Citizen | None:
        return self._claimed(Citizen, citizen_id) or self.session.get(Citizen, citizen_id)

    def by_phone(self, phone: str) -> Citizen | None:
        stmt = turn_statements()["citizen_by_phone"]
        return self.session.scalars(stmt, {"phone": phone}).first()

    def by_pseudonym(self, pseudonym: str) -> Citizen | None:
        return self.session.scalars(select(Citizen).where(Citizen.pseudonym == pseudonym)).first()

    def exemptions(self, citizen_id: int) -> list[Exemption]:
        stmt = select(Exemption).where(Exemption.citizen_id == citizen_id).order_by(Exemption.id)
        return list(self.session.scalars(stmt))

    def add_exemption(self, exemption: Exemption) -> Exemption:
        return self.add(exemption)

    def exemption(self, exemption_id: int, *, for_update: bool = False) -> Exemption | None:
        if for_update:
            stmt = select(Exemption).where(Exemption.id == exemption_id).with_for_update()
            return self.session.scalars(stmt).first()
        return self.session.get(Exemption, exemption_id)

    def exemptions_to_remind(self, today: date, days: int, limit: int = 200) -> list[Exemption]:
        stmt = (
            select(Exemption)
            .where(
                Exemption.valid_from <= today,
                Exemption.valid_until >= today,
                Exemption.valid_until <= today + timedelta(days=days),
                Exemption.reminded_for.is_(None)
                | (Exemption.reminded_for != Exemption.valid_until),
            )
            .order_by(Exemption.valid_until, Exemption.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Citizen)) or 0
