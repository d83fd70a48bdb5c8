"""Channel migration: citizens' main channel in one period against another."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def channel_migration(
    first: Iterable[tuple[str, str]], second: Iterable[tuple[str, str]]
) -> dict[str, dict[str, int]]:
    """Return the matrix of citizens' main channel in the first period (rows) against the
    second (columns), for citizens seen in both; `first` and `second` are (citizen, channel)
    pairs, one per contact. A citizen's main channel is the one of most contacts; a tie goes
    to the channel named first in alphabetical order."""

    def main_channel(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
        counts: dict[str, Counter] = {}
        for citizen, channel in pairs:
            if citizen:
                counts.setdefault(citizen, Counter())[channel] += 1
        return {who: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for who, c in counts.items()}

    a, b = main_channel(first), main_channel(second)
    matrix: dict[str, dict[str, int]] = {}
    for who in sorted(a.keys() & b.keys()):
        row_ = matrix.setdefault(a[who], {})
        row_[b[who]] = row_.get(b[who], 0) + 1
    return {k: dict(sorted(v.items())) for k, v in sorted(matrix.items())}
