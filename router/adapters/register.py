"""Import the citizen register from CSV, once-only: validate every row, then all or nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from router.adapters.register_file import ExemptionRow, RegisterRow, parse_register
from router.domain.model import Citizen, Exemption

__all__ = ["ImportReport", "import_csv", "parse_register"]


@dataclass
class ImportReport:
    """What an import did, or every reason it did nothing."""

    errors: list[str] = field(default_factory=list)
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    exemptions_added: int = 0
    exemptions_updated: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self, max_errors: int = 100) -> list[str]:
        """Return the report as lines for a terminal, the first `max_errors` errors in full."""
        if self.errors:
            shown = self.errors[:max_errors]
            if len(self.errors) > max_errors:
                shown.append(f"... and {len(self.errors) - max_errors} more error(s)")
            return [*shown, f"nothing imported: {len(self.errors)} error(s)"]
        return [
            f"imported {self.rows} row(s): {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged; {self.exemptions_added} exemption(s) added, "
            f"{self.exemptions_updated} updated"
        ]


def import_csv(
    uow_factory, path: str | Path, secret: str, registered_by: str, *, today: date
) -> ImportReport:
    """Validate the whole file, then import it in one unit of work, or not at all.

    `today` is the agency's register day (`register_day`), not the server's: an exemption
    "from today" starts on it and its default end follows from it."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return ImportReport(errors=["the file is not UTF-8 text (save it as CSV UTF-8)"])
    rows, errors = parse_register(text, secret, today, registered_by)
    report = ImportReport(errors=errors, rows=len(rows))
    if errors:
        return report
    with uow_factory() as uow:
        known = _Known.load(uow.session, rows)
        report.errors = _phone_conflicts(rows, known)
        if report.errors:
            return report
        changed = {row.pseudonym: _differs(row, known.citizens.get(row.pseudonym)) for row in rows}
        _release_phones(uow.session, rows, known)
        _write(uow.session, rows, known, changed, today, report)
        uow.commit()
    return report


@dataclass
class _Known:
    """What the register holds already about the file's citizens, read in a few queries."""

    citizens: dict[str, Citizen]  # by pseudonym
    phone_owners: dict[str, str]  # phone -> pseudonym
    exemptions: dict[int, list[Exemption]]  # by citizen id

    @classmethod
    def load(cls, session, rows: list[RegisterRow]) -> _Known:
        # One query per chunk instead of three per row: a 10,000-row file stays quick.
        citizens = {
            c.pseudonym: c
            for chunk in _chunks([r.pseudonym for r in rows])
            for c in session.scalars(select(Citizen).where(Citizen.pseudonym.in_(chunk)))
        }
        phone_owners = {
            c.phone: c.pseudonym
            for chunk in _chunks([r.phone for r in rows if r.phone])
            for c in session.scalars(select(Citizen).where(Citizen.phone.in_(chunk)))
        }
        exemptions: dict[int, list[Exemption]] = defaultdict(list)
        for chunk in _chunks([c.id for c in citizens.values()]):
            stmt = select(Exemption).where(Exemption.citizen_id.in_(chunk)).order_by(Exemption.id)
            for exemption in session.scalars(stmt):
                exemptions[exemption.citizen_id].append(exemption)
        return cls(citizens, phone_owners, exemptions)


def _chunks(values: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _phone_conflicts(rows: list[RegisterRow], known: _Known) -> list[str]:
    """Name the rows whose phone belongs to a citizen the file does not give a new phone."""
    errors = []
    new_phone = {row.pseudonym: row.phone for row in rows}
    for row in rows:
        owner = known.phone_owners.get(row.phone) if row.phone else None
        if owner is None or owner == row.pseudonym:
            continue
        if owner in new_phone and new_phone[owner] != row.phone:
            continue  # the owner moves to another number in the same file
        errors.append(f"line {row.line}: phone belongs to another citizen in the register")
    return errors


def _release_phones(session, rows: Iterable[RegisterRow], known: _Known) -> None:
    """Free the numbers of citizens who change phone first, so numbers can swap owners."""
    moved = False
    for row in rows:
        citizen = known.citizens.get(row.pseudonym)
        if citizen is not None and citizen.phone is not None and citizen.phone != row.phone:
            citizen.phone = None
            moved = True
    if moved:
        session.flush()


def _write(session, rows, known: _Known, changed: dict, today: date, report) -> None:
    """Create and update the citizens, then add or update their exemptions."""
    now = datetime.now(UTC)
    new = []
    for row in rows:
        citizen = known.citizens.get(row.pseudonym)
        if citizen is None:
            citizen = Citizen(pseudonym=row.pseudonym, created_at=now, **_facts(row))
            known.citizens[row.pseudonym] = citizen
            new.append(citizen)
            report.created += 1
        elif changed[row.pseudonym]:
            for key, value in _facts(row).items():
                setattr(citizen, key, value)
            report.updated += 1
        else:
            report.unchanged += 1
    session.add_all(new)
    session.flush()  # one batch of inserts gives the new citizens their ids
    for row in rows:
        if row.exemption is not None:
            citizen = known.citizens[row.pseudonym]
            held = known.exemptions.get(citizen.id, [])
            added = _apply_exemption(citizen, held, row.exemption, today, now, report)
            if added is not None:
                session.add(added)
    session.flush()


def _facts(row: RegisterRow) -> dict:
    return {
        "name": row.name,
        "phone": row.phone,
        "language": row.language,
        "birth_year": row.birth_year,
    }


def _differs(row: RegisterRow, citizen: Citizen | None) -> bool:
    if citizen is None:
        return False
    return any(getattr(citizen, key) != value for key, value in _facts(row).items())


def _apply_exemption(
    citizen: Citizen, held: list[Exemption], ex: ExemptionRow, today: date, now: datetime, report
) -> Exemption | None:
    """Return a new exemption unless the citizen holds it; an explicit end date updates it."""
    same_ground = [e for e in held if e.ground == ex.ground]
    if ex.valid_from is None:
        # "From today" means the same exemption on every re-import: match one valid today.
        match = next((e for e in same_ground if e.is_valid_on(today)), None)
    else:
        match = next((e for e in same_ground if e.valid_from == ex.valid_from), None)
    if match is None:
        report.exemptions_added += 1
        return Exemption(
            citizen_id=citizen.id,
            ground=ex.ground,
            valid_from=ex.valid_from or today,
            valid_until=ex.valid_until,
            registered_by=ex.registered_by,
            created_at=now,
        )
    if (ex.valid_from is not None or ex.until_given) and match.valid_until != ex.valid_until:
        match.valid_until = ex.valid_until
        report.exemptions_updated += 1
    return None
