"""Import the citizen register from CSV, once-only: validate every row, then all or nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from router.domain.model import Citizen, Exemption
from router.register_file import ExemptionRow, RegisterRow, parse_register

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
    uow_factory, path: str | Path, secret: str, registered_by: str, today: date | None = None
) -> ImportReport:
    """Validate the whole file, then import it in one unit of work, or not at all."""
    today = today or date.today()
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return ImportReport(errors=["the file is not UTF-8 text (save it as CSV UTF-8)"])
    rows, errors = parse_register(text, secret, today, registered_by)
    report = ImportReport(errors=errors, rows=len(rows))
    if errors:
        return report
    with uow_factory() as uow:
        existing = {row.pseudonym: uow.citizens.by_pseudonym(row.pseudonym) for row in rows}
        report.errors = _phone_conflicts(uow, rows)
        if report.errors:
            return report
        changed = {row.pseudonym: _differs(row, existing[row.pseudonym]) for row in rows}
        _release_phones(uow, rows, existing)
        for row in rows:
            _apply(uow, row, existing[row.pseudonym], changed[row.pseudonym], today, report)
        uow.commit()
    return report


def _phone_conflicts(uow, rows: list[RegisterRow]) -> list[str]:
    """Name the rows whose phone belongs to a citizen the file does not give a new phone."""
    errors = []
    new_phone = {row.pseudonym: row.phone for row in rows}
    for row in rows:
        if row.phone is None:
            continue
        owner = uow.citizens.by_phone(row.phone)
        if owner is None or owner.pseudonym == row.pseudonym:
            continue
        if owner.pseudonym in new_phone and new_phone[owner.pseudonym] != row.phone:
            continue  # the owner moves to another number in the same file
        errors.append(f"line {row.line}: phone belongs to another citizen in the register")
    return errors


def _release_phones(uow, rows: Iterable[RegisterRow], existing: dict) -> None:
    """Free the numbers of citizens who change phone first, so numbers can swap owners."""
    moved = False
    for row in rows:
        citizen = existing[row.pseudonym]
        if citizen is not None and citizen.phone is not None and citizen.phone != row.phone:
            citizen.phone = None
            moved = True
    if moved:
        uow.session.flush()


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


def _apply(uow, row: RegisterRow, citizen: Citizen | None, changed: bool, today, report) -> None:
    """Create or update one citizen and their exemption."""
    if citizen is None:
        citizen = uow.citizens.add(
            Citizen(pseudonym=row.pseudonym, created_at=datetime.now(UTC), **_facts(row))
        )
        report.created += 1
    elif changed:
        for key, value in _facts(row).items():
            setattr(citizen, key, value)
        report.updated += 1
    else:
        report.unchanged += 1
    if row.exemption is not None:
        _apply_exemption(uow, citizen, row.exemption, today, report)


def _apply_exemption(uow, citizen: Citizen, ex: ExemptionRow, today: date, report) -> None:
    """Add the exemption unless the citizen holds it already; an explicit end date updates it."""
    held = [e for e in uow.citizens.exemptions(citizen.id) if e.ground == ex.ground]
    if ex.valid_from is None:
        # "From today" means the same exemption on every re-import: match one valid today.
        match = next((e for e in held if e.is_valid_on(today)), None)
    else:
        match = next((e for e in held if e.valid_from == ex.valid_from), None)
    if match is None:
        uow.citizens.add_exemption(
            Exemption(
                citizen_id=citizen.id,
                ground=ex.ground,
                valid_from=ex.valid_from or today,
                valid_until=ex.valid_until,
                registered_by=ex.registered_by,
                created_at=datetime.now(UTC),
            )
        )
        report.exemptions_added += 1
    elif (ex.valid_from is not None or ex.until_given) and match.valid_until != ex.valid_until:
        match.valid_until = ex.valid_until
        report.exemptions_updated += 1
