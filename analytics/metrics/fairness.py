"""The groups a report is read by, so figures can be compared across channels, needs and the
people least able to go digital (exempt, age band, language), and the exemption share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from analytics.metrics.facts import ContactFacts

GROUPINGS = ("channel", "need", "exempt", "age_band", "language", "none")


def group_of(c: ContactFacts, group_by: str) -> str:
    """Return the group a contact falls in for a grouping in GROUPINGS."""
    if group_by == "channel":
        return c.channel
    if group_by == "need":
        return c.need or "unrecognised"
    if group_by == "exempt":
        if not c.identified:
            return "unidentified"
        return "exempt" if c.exempt else "not_exempt"
    if group_by == "age_band":
        if not c.identified:
            return "unidentified"
        return c.age_band or "unknown"
    if group_by == "language":
        return c.language or "unknown"
    if group_by == "none":
        return "all"
    raise ValueError(f"unknown grouping {group_by!r}")


def matches(c: ContactFacts, filters: Mapping[str, str]) -> bool:
    """Return True when the contact is in every group the filters name (grouping → group)."""
    return all(group_of(c, name) == value for name, value in filters.items())


def citizens_of(contacts: Iterable[ContactFacts]) -> tuple[int, int]:
    """Return (citizens in contact, of them with a valid exemption on a day of contact)."""
    seen: dict[str, bool] = {}
    for c in contacts:
        if c.citizen and c.identified:
            seen[c.citizen] = seen.get(c.citizen, False) or bool(c.exempt)
    return len(seen), sum(seen.values())
