"""Occupancy from presence changes and holdings, on a hand-computed day (analytics/occupancy.py,
docs/domain.md §4.2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from analytics.occupancy import Holding, PresenceChange, by_day, summary

TZ = ZoneInfo("Europe/Copenhagen")  # UTC+1 in March
SUNDAY, MONDAY = date(2026, 3, 1), date(2026, 3, 2)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def changes() -> list[PresenceChange]:
    return [
        # Agent 1, Monday: available 08:00, busy 10:00, away 12:00-12:30, offline 16:00:
        # staffed 4 h + 3.5 h = 27,000 s.
        PresenceChange(1, local(MONDAY, 8), "available"),
        PresenceChange(1, local(MONDAY, 10), "busy"),
        PresenceChange(1, local(MONDAY, 12), "away"),
        PresenceChange(1, local(MONDAY, 12, 30), "available"),
        PresenceChange(1, local(MONDAY, 16), "offline"),
        # Agent 2, a night shift across midnight: 22:00 Sunday to 02:00 Monday.
        PresenceChange(2, local(SUNDAY, 22), "available"),
        PresenceChange(2, local(MONDAY, 2), "offline"),
    ]


def holdings() -> list[Holding]:
    return [
        # Two chats at once count once: 09:00-10:00 is 1 h.
        Holding(1, local(MONDAY, 9), local(MONDAY, 9, 30)),
        Holding(1, local(MONDAY, 9, 15), local(MONDAY, 10)),
        # A call held through the break: 11:30-12:00 and 12:30-12:45 are staffed (45 min).
        Holding(1, local(MONDAY, 11, 30), local(MONDAY, 12, 45)),
        # A contact still held: only until the agent went offline at 16:00 (10 min).
        Holding(1, local(MONDAY, 15, 50), None),
        # The night shift's contact, 23:00-01:00: an hour on each day.
        Holding(2, local(SUNDAY, 23), local(MONDAY, 1)),
        # An agent never staffed in the log: their holding counts for nothing.
        Holding(3, local(MONDAY, 9), local(MONDAY, 10)),
    ]


NOW = local(MONDAY, 0) + timedelta(days=3)


def test_each_day_counts_staffed_time_and_handling_within_it():
    sunday, monday = by_day([SUNDAY, MONDAY], TZ, changes(), holdings(), NOW)

    assert (sunday.staffed_seconds, sunday.handling_seconds) == (7_200, 3_600)
    assert sunday.occupancy == 0.5
    # Agent 1: 60 + 45 + 10 minutes of 7.5 h; agent 2: 1 h of 2 h.
    assert (monday.staffed_seconds, monday.handling_seconds) == (27_000 + 7_200, 6_900 + 3_600)
    assert monday.occupancy == 0.307  # 10,500 ÷ 34,200


def test_the_window_sums_its_days_and_a_narrowed_report_has_none():
    days = by_day([SUNDAY, MONDAY], TZ, changes(), holdings(), NOW)

    whole = summary(days)
    assert (whole["staffed_seconds"], whole["handling_seconds"]) == (41_400, 14_100)
    assert whole["occupancy"] == 0.3406
    assert [d["day"] for d in whole["days"]] == ["2026-03-01", "2026-03-02"]
    assert summary(days, applies=False)["occupancy"] is None


def test_an_agent_still_available_counts_until_now_and_a_day_without_agents_has_no_figure():
    now = local(MONDAY, 9)
    (monday,) = by_day([MONDAY], TZ, [PresenceChange(1, local(MONDAY, 8), "available")], [], now)
    assert (monday.staffed_seconds, monday.handling_seconds, monday.occupancy) == (3_600, 0, 0.0)
    (empty,) = by_day([MONDAY], TZ, [], [], now)
    assert empty.occupancy is None


def test_a_short_day_at_the_clock_change_is_measured_in_real_seconds():
    spring = date(2026, 3, 29)  # 02:00 becomes 03:00 in Copenhagen: a 23-hour day
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # 00:00 local
    (day,) = by_day([spring], TZ, [PresenceChange(1, start, "busy")], [], start + timedelta(days=2))
    assert day.staffed_seconds == 23 * 3_600
