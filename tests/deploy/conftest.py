"""The deployment test's summary: its lost and duplicated counts (as the fault tests print)."""

from __future__ import annotations

from tests.faults.support import REPORT


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "deploy: the deployment of deploy/ brought up on loopback (nginx, Redis, Rasa)"
    )


def pytest_terminal_summary(terminalreporter, config):
    """Print the deployment's tallies, unless the fault tests' summary prints them already."""
    names = [name or "" for name, _ in config.pluginmanager.list_name_plugin()]
    if any(name.endswith("faults/conftest.py") for name in names):
        return
    lines = [line for line in REPORT if line.startswith("deployment")]
    if lines:
        terminalreporter.write_sep("-", "deployment: lost and duplicated")
        for line in lines:
            terminalreporter.write_line(line)
