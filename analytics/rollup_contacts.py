"""The rollup's contacts: each contact's share of the daily rollup, kept so that the rollup job
recomputes only the contacts new events can change (analytics/rollups.py).

`metric_rollup_contacts` holds one row per contact: its day and group (the daily rollup's
key), the people numbers of its citizen (as opened, for the channel migration; as counted, for
distinct citizens) and its tally (`metrics.tally` of the one contact) as pairs of numbers — a
slot and a value: a count of `metrics.COUNTS` (slot = its index), a wait of `WAITS` (slot
WAIT_SLOT + its index, value = seconds) or a named count (slot NAMED_SLOT + its code in
`metric_rollup_names`). A day-and-group row of the rollup is the sum of its contacts' rows
(`aggregate`), so changing one contact rewrites its own row and the sums of its group's day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    func,
    select,
)

from analytics import metrics
from analytics.log import contact_events as E
from analytics.phone_queries import CALLBACK_EVENTS
from router.domain import events as ev

PAIRS = "<i4"  # a contact's (slot, value) pairs: little-endian signed 32-bit
WAIT_SLOT = 100
NAMED_SLOT = 1_000


def table(metadata, keys: tuple[str, ...]) -> Table:  # noqa: ANN001
    """The contacts' table (migration 0019 makes it with these names)."""
    return Table(
        "metric_rollup_contacts",
        metadata,
        Column("contact_id", BigInteger, primary_key=True, autoincrement=False),
        Column("day", Date, nullable=False),
        *(Column(name, String(64), nullable=False) for name in keys),
        Column("opener", Integer),  # people number of the citizen it was opened by
        Column("person", Integer),  # ... of the identified citizen counted
        Column("exempt_person", Integer, nullable=False),  # 1: counted as exempt
        Column("figures", LargeBinary),  # (slot, value) pairs
        Index("ix_metric_rollup_contacts_day", "day", *keys),
    )


def record(
    c: metrics.ContactFacts,
    t: Mapping,
    day: date,
    key: tuple[str, ...],
    opener: int | None,
    numbers: Mapping[str, int],
    codes: Mapping[tuple[str, str], int],
    small: tuple[str, ...],
    waits: tuple[str, ...],
) -> dict:
    """Return a contact's row: its day, group, people numbers and tally's pairs (`t`, the
    tally of the contact alone)."""
    pairs: list[int] = []
    for i, name in enumerate(metrics.COUNTS):
        if t[name]:
            pairs += (i, t[name])
    for i, name in enumerate(waits):
        for seconds, n in t[name].items():
            pairs += (WAIT_SLOT + i, int(seconds)) * n
    for name in small:
        for k, n in t[name].items():
            pairs += (NAMED_SLOT + codes[name, k], n)
    person = next(iter(t["people"].items()), None)
    return {
        "contact_id": c.contact_id,
        "day": day,
        "key": key,
        "opener": opener,
        "person": numbers[person[0]] if person else None,
        "exempt_person": person[1] if person else 0,
        "figures": np.array(pairs, dtype=PAIRS).tobytes() if pairs else None,
    }


def aggregate(
    records: Iterable[Mapping], keys: tuple[str, ...], waits: tuple[str, ...]
) -> list[dict]:
    """Return the daily rollup's rows (analytics.rollup_tables.daily) summing the contacts' rows,
    one per day and group they fall in."""
    groups: dict[tuple, list[Mapping]] = {}
    for r in records:
        groups.setdefault((r["day"], r["key"]), []).append(r)
    out = []
    for (day, key), members in sorted(groups.items()):
        blob = b"".join(m["figures"] for m in members if m["figures"])
        pairs = np.frombuffer(blob, dtype=PAIRS).reshape(-1, 2).astype(np.int64)
        slot, value = pairs[:, 0], pairs[:, 1]
        counted = slot < WAIT_SLOT
        counts = np.bincount(slot[counted], weights=value[counted], minlength=len(metrics.COUNTS))
        named_at = slot >= NAMED_SLOT
        codes, n = _summed(slot[named_at] - NAMED_SLOT, value[named_at])
        named = np.column_stack((codes, n)).ravel()
        people = {}
        for m in members:
            if m["person"] is not None:
                people[m["person"]] = people.get(m["person"], 0) | m["exempt_person"]
        row = {
            "day": day,
            **dict(zip(keys, key, strict=True)),
            "counts": counts.astype("<i8").tobytes(),
            "named": _bytes(named),
        }
        for i, name in enumerate(waits):
            row[name] = _bytes(value[slot == WAIT_SLOT + i])
        row["citizens"] = _bytes(np.array(sorted(people), dtype=np.int64))
        row["exempt_citizens"] = _bytes(np.array(sorted(p for p, e in people.items() if e)))
        out.append(row)
    return out


def _summed(codes: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    found, at = np.unique(codes, return_inverse=True)
    return found, np.bincount(at, weights=values, minlength=len(found)).astype(np.int64)


def _bytes(values: np.ndarray) -> bytes | None:
    """Return numbers as the daily rollup stores them (unsigned 32-bit; None for none)."""
    return np.asarray(values).astype("<u4").tobytes() if len(values) else None


def openers(records: Iterable[Mapping]) -> list[dict]:
    """Return the channel migration's rows (analytics.rollup_tables.openers) of the contacts' rows
    (each contact's channel is the first part of its group)."""
    found: dict[tuple[date, str], list[int]] = {}
    for r in records:
        if r["opener"] is not None:
            found.setdefault((r["day"], r["key"][0]), []).append(r["opener"])
    return [
        {"day": day, "channel": channel, "citizens": _bytes(np.sort(np.array(numbers)))}
        for (day, channel), numbers in sorted(found.items())
    ]


def touched(
    conn: Connection, after_id: int, up_to_id: int, reach: timedelta
) -> dict[int, datetime]:
    """Return the contacts whose figures the events (after_id, up_to_id] can change, each with
    when it opened: the contacts of those events; the same citizens' contacts opened within
    `reach` of them (repeat contacts, needs continued, deflections completed); and the
    contact each callback among them was booked on."""
    new = E.alias("new")
    in_range = (new.c.id > after_id, new.c.id <= up_to_id)
    found: dict[int, datetime] = {}
    changed = select(new.c.contact_id).where(*in_range, new.c.contact_id.is_not(None))
    opened = select(E.c.contact_id, E.c.at, E.c.citizen).where(
        E.c.type == ev.CONTACT_OPENED, E.c.contact_id.in_(changed)
    )
    moments = []
    for r in conn.execute(opened):
        found[r.contact_id] = r.at
        if r.citizen:
            moments.append(r.at)
    bounds = conn.execute(
        select(func.min(new.c.at), func.max(new.c.at)).where(*in_range, new.c.citizen.is_not(None))
    ).one()
    moments += [m for m in bounds if m is not None]
    if moments:
        citizens = select(new.c.citizen).where(*in_range, new.c.citizen.is_not(None))
        around = select(E.c.contact_id, E.c.at).where(
            E.c.type == ev.CONTACT_OPENED,
            E.c.citizen.in_(citizens),
            E.c.at >= min(moments) - reach,
            E.c.at <= max(moments) + reach,
        )
        found.update((r.contact_id, r.at) for r in conn.execute(around))
    ids = select(new.c.data["callback_id"].as_integer()).where(
        *in_range, new.c.type.in_(CALLBACK_EVENTS)
    )
    booked = E.alias("booked")
    first = select(booked.c.contact_id).where(
        booked.c.type == ev.CALLBACK_BOOKED, booked.c.data["callback_id"].as_integer().in_(ids)
    )
    booking = select(E.c.contact_id, E.c.at).where(
        E.c.type == ev.CONTACT_OPENED, E.c.contact_id.in_(first)
    )
    found.update((r.contact_id, r.at) for r in conn.execute(booking))
    return found


def opened_by(conn: Connection, ids: list[int]) -> dict[int, str]:
    """Return the pseudonym each of the contacts was opened with (when one was)."""
    stmt = select(E.c.contact_id, E.c.citizen).where(
        E.c.type == ev.CONTACT_OPENED, E.c.contact_id.in_(ids), E.c.citizen.is_not(None)
    )
    return {r.contact_id: r.citizen for r in conn.execute(stmt)}


def opened_in(conn: Connection, start: datetime, end: datetime) -> dict[int, str]:
    """Return the pseudonym each contact opened in [start, end) was opened with."""
    stmt = select(E.c.contact_id, E.c.citizen).where(
        E.c.type == ev.CONTACT_OPENED,
        E.c.at >= start,
        E.c.at < end,
        E.c.citizen.is_not(None),
    )
    return {r.contact_id: r.citizen for r in conn.execute(stmt)}
