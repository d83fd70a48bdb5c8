"""A contact's rows of the daily rollup (analytics/rollup_contacts.py): its day and group, its
citizens as people numbers and its named counts as codes, each given the next number the
first time it is seen."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, insert, select

from analytics import metrics, rollup_contacts
from analytics.rollup_tables import KEYS, SMALL, WAITS, names, people


def day_of(at: datetime, zone: ZoneInfo) -> date:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(zone).date()


def key_of(c: metrics.ContactFacts) -> tuple[str, ...]:
    return tuple(metrics.group_of(c, name) for name in KEYS)


def name_codes(writer: Engine, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Return the code of each (named count, key), giving new ones the next codes."""
    with writer.begin() as conn:
        found = {(r.name, r.key): r.code for r in conn.execute(select(names))}
        new = sorted(wanted - found.keys())
        if new:
            top = max(found.values(), default=0)
            rows = [{"code": top + i, "name": n, "key": k} for i, (n, k) in enumerate(new, 1)]
            conn.execute(insert(names), rows)
            found.update(((r["name"], r["key"]), r["code"]) for r in rows)
    return found


def people_numbers(writer: Engine, pseudonyms: set[str]) -> dict[str, int]:
    """Return each pseudonym's people number, giving new ones the next numbers."""
    found: dict[str, int] = {}
    names = sorted(pseudonyms)
    with writer.begin() as conn:
        if len(names) > 20_000:  # most of them: read them all at once
            known = set(names)
            stmt = select(people.c.citizen, people.c.number)
            found.update((r.citizen, r.number) for r in conn.execute(stmt) if r.citizen in known)
        else:
            for i in range(0, len(names), 900):
                batch = names[i : i + 900]
                stmt = select(people.c.citizen, people.c.number).where(people.c.citizen.in_(batch))
                found.update((r.citizen, r.number) for r in conn.execute(stmt))
        new = [name for name in names if name not in found]
        if new:
            top = conn.execute(select(func.max(people.c.number))).scalar() or 0
            rows = [{"number": top + i, "citizen": name} for i, name in enumerate(new, 1)]
            conn.execute(insert(people), rows)
            found.update((r["citizen"], r["number"]) for r in rows)
    return found


def begin_reading(conn: Connection) -> None:
    """Read one snapshot, read-only (PostgreSQL: repeatable read)."""
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)


def contact_rows(
    writer: Engine, facts: list[metrics.ContactFacts], opened: Mapping[int, str], zone: ZoneInfo
) -> list[dict]:
    """Return the contacts' rows (analytics.rollup_contacts) of the contacts' facts; `opened`
    gives the pseudonym each was opened with."""
    seen = {c.citizen for c in facts if c.citizen and c.identified}
    numbers = people_numbers(writer, seen | set(opened.values()))
    tallies = [metrics.tally([c]) for c in facts]
    codes = name_codes(writer, {(n, k) for t in tallies for n in SMALL for k in t[n]})
    return [
        rollup_contacts.record(
            c,
            t,
            day_of(c.opened_at, zone),
            key_of(c),
            numbers[opened[c.contact_id]] if c.contact_id in opened else None,
            numbers,
            codes,
            SMALL,
            WAITS,
        )
        for c, t in zip(facts, tallies, strict=True)
    ]


def stored(r: Mapping) -> dict:
    return {
        **{k: r[k] for k in ("contact_id", "day", "opener", "person", "exempt_person", "figures")},
        **dict(zip(KEYS, r["key"], strict=True)),
    }


def loaded(r) -> dict:  # noqa: ANN001
    return {
        "contact_id": r.contact_id,
        "day": r.day if isinstance(r.day, date) else date.fromisoformat(r.day),
        "key": tuple(r._mapping[k] for k in KEYS),
        "opener": r.opener,
        "person": r.person,
        "exempt_person": r.exempt_person,
        "figures": r.figures,
    }
