"""The fairness panel's flags (analytics/fairness_panel.py), counted by hand: a rate 10
percentage points or more from everyone's, a mean wait half as long again and 30 s longer,
for a group counting at least 10 contacts the figure is taken over."""

from __future__ import annotations

import pytest

from analytics.fairness_panel import flag

pytestmark = pytest.mark.unit


def take_up(mine: float, everyone: float, needs: int = 10) -> str | None:
    row = {"digital_take_up": mine, "completed_needs": needs}
    return flag(row, {"digital_take_up": everyone}, "digital_take_up", "completed_needs", "percent")


@pytest.mark.parametrize(
    ("mine", "everyone", "expected"),
    [
        (0.5, 0.6, "below"),  # exactly 10 points: before, None (0.6 - 0.5 = 0.0999... in floats)
        (0.8, 0.7, "above"),  # exactly 10 points the other way (0.1000...09): flagged before too
        (0.3, 0.2, "above"),
        (0.55, 0.6459, None),  # 9.59 points
        (0.6, 0.6, None),
    ],
)
def test_a_rate_ten_points_or_more_from_everyones_is_flagged(mine, everyone, expected):
    assert take_up(mine, everyone) == expected


def test_a_group_of_fewer_than_ten_is_not_flagged():
    assert take_up(0.1, 0.9, needs=9) is None


def test_a_mean_wait_half_as_long_again_and_thirty_seconds_longer_is_flagged():
    def wait(mine: float, everyone: float) -> str | None:
        row = {"asa_seconds": mine, "answered": 10}
        return flag(row, {"asa_seconds": everyone}, "asa_seconds", "answered", "seconds")

    assert wait(90.0, 60.0) == "above"  # 1.5 × 60 and 30 s longer
    assert wait(45.0, 30.0) is None  # 1.5 × but only 15 s longer
    assert wait(60.0, 90.0) == "below"
