"""Reading a profile's sections (`[routing]`, `[surge]`): the checks each makes, worded once."""

from __future__ import annotations

from collections.abc import Set
from typing import Any


def section(raw: Any, where: str, keys: Set[str]) -> dict[str, Any]:
    """Return the section `where` (e.g. "[routing]"), or say why it cannot be read: it is not
    a table, or it has settings it does not know (named, with those it allows)."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be a table")
    unknown = set(raw) - set(keys)
    if unknown:
        raise ValueError(
            f"{where}: unknown setting(s) {', '.join(sorted(unknown))} "
            f"(allowed: {', '.join(sorted(keys))})"
        )
    return raw


def whole(value: Any, what: str, low: int, high: int, unit: str = "") -> int:
    """Return `value` when it is a whole number from `low` to `high` (a boolean is not), or
    say so: "`what` must be a whole number[ of `unit`] from `low` to `high`"."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        of = f" of {unit}" if unit else ""
        raise ValueError(f"{what} must be a whole number{of} from {low} to {high}")
    return value
