"""Pytest plugin: one real Rasa server and action server per test session.

Fixtures:
  rasa_bot             the running bot (url, start time, logs), trained first if its data changed
  rasa_url             its base URL, e.g. http://127.0.0.1:41234
  digital_routes_file  the routes file the action server reads (a copy tests may edit)

Without .venv-rasa the fixtures skip, except in CI (env CI set), where a missing Rasa fails.
KANAL_TEST_RASA_URL points the tests at a bot that is already running instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.serve import RunningBot, running_bot
from bots.train import PROJECT_DIR, rasa_executable, train_if_changed

_timings: dict[str, float] = {}


@pytest.fixture(scope="session")
def digital_routes_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a private copy of the digital routes, so a test can change URLs safely."""
    copy = tmp_path_factory.mktemp("routes") / "digital_routes.yml"
    shutil.copyfile(PROJECT_DIR / "digital_routes.yml", copy)
    return copy


@pytest.fixture(scope="session")
def rasa_bot(
    tmp_path_factory: pytest.TempPathFactory, digital_routes_file: Path
) -> Iterator[RunningBot]:
    """Train the bot if needed, start Rasa + actions on free ports, stop them at the end."""
    if os.environ.get("KANAL_TEST_RASA_URL"):
        yield RunningBot(os.environ["KANAL_TEST_RASA_URL"], "", 0.0, Path())
        return
    if not rasa_executable().exists():
        reason = f"Rasa is not installed at {rasa_executable()} (run `make install`)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must test the real bot: {reason}")
        pytest.skip(reason)
    trained = train_if_changed(quiet=True)
    if trained.trained:
        _timings["trained in"] = trained.seconds
    logs = tmp_path_factory.mktemp("rasa-logs")
    with running_bot(logs, routes_file=digital_routes_file) as bot:
        _timings["ready in"] = bot.start_seconds
        yield bot


@pytest.fixture(scope="session")
def rasa_url(rasa_bot: RunningBot) -> str:
    """Return the base URL of the session's running Rasa server."""
    return rasa_bot.url


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    """Say how long the bot took to train and start, when it did."""
    if _timings:
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in _timings.items())
        terminalreporter.write_line(f"rasa bot: {parts}")
