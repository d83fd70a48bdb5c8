"""Reports from the daily rollup (analytics/rollups.py): a period's rows read once, then any
grouping and any run of its days summed in arrays (docs/domain.md §4.6).

Every figure is `metrics.from_tally` of the tally a report over the events would build: the
counts and named counts are summed, the waits' arrays joined into histograms, and the
citizens counted once by the union of their people numbers, so the answer is the events'.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from sqlalchemy import Connection, select, type_coerce
from sqlalchemy.types import NullType

from analytics import metrics
from analytics.rollup_tables import COUNTS, KEYS, NUMBERS, WAITS, daily, names, openers

_EMPTY = np.zeros(0, dtype=NUMBERS)


def _day(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _array(blob: bytes | None) -> np.ndarray:
    return np.frombuffer(blob, dtype=NUMBERS) if blob else _EMPTY


def _joined(blobs: list[bytes | None], dtype: str = NUMBERS) -> tuple[np.ndarray, np.ndarray]:
    """Return the arrays joined, and the row each entry came from."""
    width = np.dtype(dtype).itemsize
    sizes = np.fromiter((len(b) // width if b else 0 for b in blobs), np.int64, len(blobs))
    values = np.frombuffer(b"".join(b for b in blobs if b), dtype=dtype).astype(np.int64)
    return values, np.repeat(np.arange(len(blobs)), sizes)


def _coded(values: tuple) -> tuple[list[str], np.ndarray]:
    """Return the distinct values, sorted, and each value's index among them."""
    names = sorted(set(values))
    index = {name: i for i, name in enumerate(names)}
    return names, np.fromiter((index[v] for v in values), np.int64, len(values))


def _sorted(values: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the entries sorted by value (once per read, for every grouping's waits)."""
    # Waits under 18 hours (nearly always) fit 16 bits, which numpy's stable sort orders by
    # radix, an order of magnitude faster than its merge sort of 64-bit values: same order.
    small = values.size and values.min() >= 0 and values.max() <= np.iinfo(np.uint16).max
    order = np.argsort(values.astype(np.uint16) if small else values, kind="stable")
    return values[order], row[order]


@dataclass
class Period:
    """The rollup rows of a period and filters, as arrays (one entry per row)."""

    days: np.ndarray  # each row's day, as an ordinal
    # Each grouping's groups (sorted) and each row's group among them.
    keys: dict[str, tuple[list[str], np.ndarray]]
    counts: np.ndarray  # rows × metrics.COUNTS
    named: list[tuple[str, str]]  # the columns of `named_counts`: (name, key)
    named_counts: np.ndarray  # rows × named
    waits: dict[str, tuple[np.ndarray, np.ndarray]]  # name → (seconds, row), by seconds
    # (people number, row); None when read without them (distinct citizens not asked for)
    citizens: tuple[np.ndarray, np.ndarray] | None
    exempt_citizens: tuple[np.ndarray, np.ndarray] | None
    _totals: dict = field(default_factory=dict)

    def tallies(self, group_by: str, first: date, last: date) -> dict[str, tuple[dict, tuple]]:
        """Return each group's tally and (citizens, exempt citizens) over [first, last]."""
        kept = (self.days >= first.toordinal()) & (self.days <= last.toordinal())
        if group_by == "none":
            labels, codes = ["all"], np.zeros(len(self.days), dtype=np.int64)
        else:
            labels, codes = self.keys[group_by]
        present = np.flatnonzero(np.bincount(codes[kept], minlength=len(labels)))
        renumbered = np.full(len(labels), -1, dtype=np.int64)
        renumbered[present] = np.arange(len(present))
        group = np.where(kept, renumbered[codes], -1)
        found = self._by_group(group, len(present))
        return {labels[code]: found[g] for g, code in enumerate(present.tolist())}

    def total(self, first: date, last: date) -> tuple[dict, tuple]:
        """Return the tally of everyone over [first, last] (kept: many reports share one)."""
        return self.totals([(first, last)])[0]

    def totals(self, spans: list[tuple[date, date]]) -> list[tuple[dict, tuple]]:
        """Return everyone's tally over each span; the new ones in one pass when they do not
        overlap (the weeks of a period)."""
        left = sorted({s for s in spans if s not in self._totals}, key=lambda s: (s[1], s[0]))
        while left:  # each pass takes spans that do not overlap, earliest end first
            batch, rest = [], []
            for span in left:
                (batch if not batch or span[0] > batch[-1][1] else rest).append(span)
            left = rest
            group = np.full(len(self.days), -1, dtype=np.int64)
            for i, (first, last) in enumerate(batch):
                group[(self.days >= first.toordinal()) & (self.days <= last.toordinal())] = i
            self._totals.update(zip(batch, self._by_group(group, len(batch)), strict=True))
        return [self._totals[span] for span in spans]

    def _by_group(self, group: np.ndarray, size: int) -> list[tuple[dict, tuple]]:
        """Return the tally and citizens of each group 0..size-1 (group -1: a row left out)."""
        counts = np.zeros((size, len(metrics.COUNTS)), dtype=np.int64)
        named = np.zeros((size, len(self.named)), dtype=np.int64)
        for g in range(size):  # a few groups: a sum per group beats np.add.at's scatter
            mine = group == g
            counts[g] = self.counts[mine].sum(axis=0)
            named[g] = self.named_counts[mine].sum(axis=0)
        waits = {name: _histograms(v, group[row], size) for name, (v, row) in self.waits.items()}
        if self.citizens is None or self.exempt_citizens is None:
            citizens = exempt = [None] * size
        else:
            citizens = _distinct(*self.citizens, group, size)
            exempt = _distinct(*self.exempt_citizens, group, size)
        out = []
        for g in range(size):
            t = metrics.empty_tally()
            del t["people"]
            t.update(zip(metrics.COUNTS, map(int, counts[g]), strict=True))
            for (name, key), n in zip(self.named, named[g], strict=True):
                if n:
                    t[name][key] = int(n)
            for name, found in waits.items():
                t[name] = found[g]
            out.append((t, None if citizens[g] is None else (citizens[g], exempt[g])))
        return out


class Sorted(metrics.Seconds):
    """A group's waits as one sorted array (one entry per contact): what a row reads of them
    (`metrics.Seconds`' counts below or at most a threshold, percentiles) by binary
    search, the same figures as the histogram's."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray) -> None:  # sorted ascending
        self.array = array

    @property
    def total(self) -> int:
        return int(self.array.size)

    def below(self, seconds: int) -> int:
        return int(np.searchsorted(self.array, seconds, "left"))

    def at_most(self, seconds: int) -> int:
        return int(np.searchsorted(self.array, seconds, "right"))

    def percentile(self, share: float) -> int | None:
        """The smallest value with at least `share` of the entries at or below it."""
        if not self.total:
            return None
        rank = math.ceil(share * self.total)  # the fewest entries that reach the share
        return int(self.array[min(max(rank, 1), self.total) - 1])


def _histograms(seconds: np.ndarray, group: np.ndarray, size: int) -> list[metrics.Seconds]:
    """Return each group's waits; `seconds` is sorted (`read` sorts each kind once), so each
    group's share, taken in order, is sorted too."""
    return [Sorted(seconds[group == g]) for g in range(size)]


def _distinct(numbers: np.ndarray, row: np.ndarray, group: np.ndarray, size: int) -> list[int]:
    """Return how many distinct people numbers each group holds."""
    g = group[row]
    kept = g >= 0
    if not kept.all():  # a period's total keeps every row: no copy then
        g, numbers = g[kept], numbers[kept]
    if not numbers.size:
        return [0] * size
    width = int(numbers.max()) + 1
    seen = np.zeros(size * width, dtype=bool)  # a row of people numbers per group
    seen[g * width + numbers] = True
    return np.count_nonzero(seen.reshape(size, width), axis=1).tolist()


def read(
    conn: Connection, first: date, last: date, filters: Mapping[str, str], citizens: bool = True
) -> Period:
    """Read the rollup rows of [first, last] that the filters keep (without the citizens'
    numbers, the largest columns, when `citizens` is false: no distinct citizens counted)."""
    columns = [daily.c.day, *(daily.c[k] for k in KEYS), daily.c.counts, daily.c.named]
    columns += [daily.c[n] for n in WAITS]
    if citizens:
        columns += [daily.c.citizens, daily.c.exempt_citizens]
    # As the driver gives them: no conversion per value (a day comes as text from SQLite).
    raw = [type_coerce(c, NullType()) for c in columns]
    stmt = select(*raw).where(daily.c.day >= first, daily.c.day <= last)
    for name, value in filters.items():
        stmt = stmt.where(daily.c[name] == value)
    rows = conn.execute(stmt).all()
    codes = {r.code: (r.name, r.key) for r in conn.execute(select(names))}
    by_column = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    ordinal = {d: _day(d).toordinal() for d in set(by_column[0])}
    at = 1 + len(KEYS)
    counts, _row = _joined(list(by_column[at]), COUNTS)
    pairs, pair_row = _joined(list(by_column[at + 1]))
    code, n, row = pairs[0::2], pairs[1::2], pair_row[0::2]
    present = np.unique(code)
    named = sorted({codes[c] for c in present.tolist()})
    where = {pair: i for i, pair in enumerate(named)}
    column_of = np.zeros(int(present.max()) + 1 if present.size else 1, dtype=np.int64)
    column_of[present] = [where[codes[c]] for c in present.tolist()]
    cell = row * len(named) + column_of[code]
    named_counts = np.bincount(cell, weights=n, minlength=len(rows) * len(named))
    named_counts = named_counts.astype(np.int64).reshape(len(rows), len(named))
    return Period(
        days=np.fromiter((ordinal[d] for d in by_column[0]), np.int64, len(rows)),
        keys={k: _coded(by_column[1 + i]) for i, k in enumerate(KEYS)},
        counts=counts.reshape(len(rows), len(metrics.COUNTS)),
        named=named,
        named_counts=named_counts,
        waits={
            name: _sorted(*_joined(list(by_column[at + 2 + i]))) for i, name in enumerate(WAITS)
        },
        citizens=_joined(list(by_column[-2])) if citizens else None,
        exempt_citizens=_joined(list(by_column[-1])) if citizens else None,
    )


def rows_of(
    period: Period, group_by: str, first: date, last: date, settings: metrics.Settings
) -> tuple[list[metrics.Row], metrics.Row]:
    """Return one row per group and the total of [first, last] from a period read once."""
    rows = [
        metrics.from_tally(name, t, settings, citizens)
        for name, (t, citizens) in sorted(period.tallies(group_by, first, last).items())
    ]
    t, citizens = period.total(first, last)
    return rows, metrics.from_tally("all", t, settings, citizens)


def _main_channels(conn: Connection, first: date, last: date) -> dict[str, np.ndarray]:
    """Return, per channel, the people numbers of the contacts opened on it (one per contact)."""
    stmt = select(openers.c.channel, openers.c.citizens).where(
        openers.c.day >= first, openers.c.day <= last
    )
    found: dict[str, list[np.ndarray]] = {}
    for r in conn.execute(stmt):
        found.setdefault(r.channel, []).append(_array(r.citizens))
    return {ch: np.concatenate(a).astype(np.int64) for ch, a in sorted(found.items())}


def _main(by_channel: dict[str, np.ndarray], size: int) -> tuple[list[str], np.ndarray]:
    """Return the channels and each citizen's main channel's index (-1: no contact); a tie
    goes to the channel first in alphabetical order (np.argmax takes the first)."""
    channels = sorted(by_channel)
    if not channels:
        return [], np.full(size, -1)
    counts = np.stack([np.bincount(by_channel[ch], minlength=size) for ch in channels])
    main = counts.argmax(axis=0)
    main[counts.sum(axis=0) == 0] = -1
    return channels, main


def matrix(
    conn: Connection, first: tuple[date, date], second: tuple[date, date]
) -> dict[str, dict[str, int]]:
    """Return the channel-migration matrix (metrics.channel_migration) from the rollup
    (analytics.rollup_kept.migration keeps it until the rollup's mark moves)."""
    a, b = _main_channels(conn, *first), _main_channels(conn, *second)
    size = 1 + max((int(x.max()) for x in (*a.values(), *b.values()) if x.size), default=0)
    a_channels, a_main = _main(a, size)
    b_channels, b_main = _main(b, size)
    both = (a_main >= 0) & (b_main >= 0)
    matrix: dict[str, dict[str, int]] = {}
    if both.any():
        pairs = a_main[both] * len(b_channels) + b_main[both]
        for pair, n in enumerate(np.bincount(pairs)):
            if n:
                row = matrix.setdefault(a_channels[pair // len(b_channels)], {})
                row[b_channels[pair % len(b_channels)]] = int(n)
    return {k: dict(sorted(v.items())) for k, v in sorted(matrix.items())}
