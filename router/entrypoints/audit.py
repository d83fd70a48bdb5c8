"""`kanal audit export`: the desk's audit log as CSV or JSON lines, for an admin.

Each row is one view of a citizen's data at the desk, or an attempt the access rule refused
(router/domain/access.py): when, who (user id, username, role), what (action, route,
contact id, the citizen's pseudonym) and why (allowed or refused, and the rule's reason).
Nothing else of the citizen is in it: no phone number, no name. An administrator's change to
a staff account is a row too (`kanal users`, router/service/staff_accounts.py): the action
`user_created`, `user_password_set`, `user_deactivated` or `user_reactivated`, the command
with the account's name as route, no contact.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import TextIO

from router.domain.access import ADMIN, AuditEntry, Viewer
from router.service.access import DeskAccess

COLUMNS = (
    "id",
    "at",
    "user_id",
    "username",
    "role",
    "action",
    "route",
    "contact_id",
    "citizen",
    "allowed",
    "reason",
)
FORMATS = ("csv", "jsonl")


def row(entry: AuditEntry) -> dict:
    """Return one entry as the export's columns (the time in ISO 8601, UTC)."""
    values = {name: getattr(entry, name) for name in COLUMNS}
    values["at"] = entry.at.isoformat()
    return values


def write(entries: Iterable[AuditEntry], out: TextIO, fmt: str = "csv") -> int:
    """Write the entries to `out` in `fmt` (csv or jsonl); return how many."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for entry in entries:
            writer.writerow(row(entry))
            count += 1
    else:
        for entry in entries:
            out.write(json.dumps(row(entry), ensure_ascii=False) + "\n")
            count += 1
    return count


def export(uow_factory, access: DeskAccess, admin: str, out: TextIO, fmt: str, since, until) -> int:  # noqa: ANN001
    """Export the log for `admin` (an active admin account); the export is audited too."""
    with uow_factory() as uow:
        user = uow.users.by_username(admin)
    if user is None or not user.active or user.role != ADMIN:
        raise PermissionError(f"{admin!r} is not an active admin: only an admin exports the log")
    entries = access.entries(since, until)
    count = write(entries, out, fmt)
    viewer = Viewer(user_id=user.id, username=user.username, role=user.role)
    access.record(
        viewer, action="audit_export", route=f"kanal audit export --format {fmt}", reason=ADMIN
    )
    return count
