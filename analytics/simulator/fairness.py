"""Fairness across groups: where a replay moves a group's share of assisted service or its
digital take-up by FLAG_POINTS or more."""

from __future__ import annotations

FAIRNESS_GROUPS = ("exempt", "age_band", "channel")
FLAG_POINTS = 0.05  # a group's assisted share or take-up moving by 5 points is flagged


def difference(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return round(b - a, 4)


def panel(f: dict) -> dict:
    keys = ("contacts", "assisted_share", "digital_take_up", "average_speed_of_answer_seconds")
    return {k: f[k] for k in keys}


def flagged(fairness: dict) -> list[tuple[str, str, str, float, float]]:
    """Return where a group's share of assisted service or its take-up moves by 5 points:
    (grouping, group, figure, recorded, projected)."""
    out = []
    for by, rows in fairness.items():
        for row in rows:
            for k in ("assisted_share", "digital_take_up"):
                a, b = row["recorded"][k], row["projected"][k]
                if a is not None and b is not None and abs(b - a) >= FLAG_POINTS:
                    out.append((by, row["group"], k, a, b))
    return out


def flag_lines(fairness: dict) -> list[str]:
    return [f"{by}={group}: {k} {a:.0%} -> {b:.0%}" for by, group, k, a, b in flagged(fairness)]
