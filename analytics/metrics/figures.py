"""How a figure is written: a ratio rounded to 4 places, a mean wait to a tenth of a second,
money to the cent, each computed exactly and rounded half up (as a hand count or a
spreadsheet rounds: 20.25 s is 20.3 s, 2.675 is 2.68), and histograms of whole seconds (waits)
read for counts below a threshold and percentiles."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from itertools import accumulate


def half_up(value: Fraction | Decimal | int, places: int) -> float:
    """Return the exact `value` rounded to `places` decimals, a tie away from zero."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return float(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def money(amount: float | int | str | Decimal) -> Decimal:
    """Return an amount of money as written (0.1 is 0.1, not the float nearest it)."""
    return amount if isinstance(amount, Decimal) else Decimal(str(amount))


def ratio(numerator: int, denominator: int) -> float | None:
    """Return numerator ÷ denominator rounded half up to 4 places, or None when nothing to
    divide."""
    if denominator == 0:
        return None
    return half_up(Fraction(numerator, denominator), 4)


def mean_seconds(seconds: int, microseconds: int, count: int) -> float | None:
    """Return the mean of `count` waits summing to seconds + microseconds, to a tenth of a
    second (computed exactly, then rounded half up), or None when there is none."""
    if not count:
        return None
    return half_up(Fraction(seconds * 1_000_000 + microseconds, count * 1_000_000), 1)


def percentile(histogram: Mapping[int, int], share: float) -> int | None:
    """Return the smallest value with at least `share` of the counts at or below it."""
    return Seconds.of(histogram).percentile(share)


class Seconds:
    """A histogram of whole seconds, sorted, with running counts: what a row reads of the
    waits (counts below or at most a threshold, percentiles) in a few lookups, and the same
    whether it came from a tally's {"seconds": count} or from the rollup's arrays. The mean
    is not read here: the seconds are rounded (analytics/metrics/service_level.py), and the
    tally keeps the waits' exact sum for it."""

    __slots__ = ("values", "running")

    def __init__(self, values: Sequence[int], counts: Sequence[int]):
        self.values = list(values)  # ascending, distinct
        self.running: list[int] = list(accumulate(counts))

    @classmethod
    def of(cls, histogram: Mapping) -> Seconds:
        if isinstance(histogram, Seconds):
            return histogram
        ordered = sorted((int(k), n) for k, n in histogram.items() if n)
        return cls([k for k, _n in ordered], [n for _k, n in ordered])

    @property
    def total(self) -> int:
        return self.running[-1] if self.running else 0

    def below(self, seconds: int) -> int:
        i = bisect_left(self.values, seconds)
        return self.running[i - 1] if i else 0

    def at_most(self, seconds: int) -> int:
        i = bisect_right(self.values, seconds)
        return self.running[i - 1] if i else 0

    def percentile(self, share: float) -> int | None:
        """The smallest value with at least `share` of the counts at or below it."""
        if not self.total:
            return None
        i = bisect_left(self.running, share * self.total)
        return self.values[min(i, len(self.values) - 1)]
