"""The fault tests' session summary: each test's lost and duplicated counts."""

from __future__ import annotations

from tests.faults.support import REPORT


def pytest_terminal_summary(terminalreporter):
    """Print every fault test's tally (lost = 0, duplicated = 0 is what passing means)."""
    if REPORT:
        terminalreporter.write_sep("-", "fault tests: lost and duplicated")
        for line in REPORT:
            terminalreporter.write_line(line)
