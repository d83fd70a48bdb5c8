"""Browser fixtures: the real app served on a free port, and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

from router import create_app
from router.adapters.db import create_all
from router.entrypoints.auth import create_user
from router.entrypoints.bootstrap import kanal_of
from tests.conftest import IN_CI, SECRET
from tests.fakes import ScriptedBot
from tests.live_streams import StreamServer

CHROMIUM = os.environ.get("KANAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(os.environ.get("KANAL_SHOTS", "/tmp/kanal-shots"))
AGENT = ("agent1", "correct horse")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveKanal:
    """The kanal web app served by werkzeug in a thread, on SQLite, with CSRF on."""

    def __init__(self, tmp_path: Path, bot) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The stream process (`kanal streams`) on a port of its own, as `make run` serves it.
        self.stream_port = _free_port()
        self.stream_url = f"http://127.0.0.1:{self.stream_port}"
        self.app = create_app(
            {
                "SECRET_KEY": SECRET,
                "KANAL_ENV": "development",
                "KANAL_DATABASE_URL": f"sqlite:///{tmp_path / 'kanal.db'}",
                "KANAL_INSTANCE_PATH": str(tmp_path),
                "KANAL_PUBLIC_URL": self.url,
                "KANAL_PORT": self.port,
                "KANAL_ALWAYS_OPEN": True,
                "KANAL_POLICY": "denmark",
                "KANAL_STREAM_URL": self.stream_url,
            },
            bot=bot,
        )
        self.kanal = kanal_of(self.app)
        create_all(self.kanal.engine)
        create_user(self.kanal.uow, AGENT[0], AGENT[1], "agent", "Agnes Agent")

    def __enter__(self) -> LiveKanal:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.streams = StreamServer(self.kanal, port=self.stream_port).__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.streams.__exit__(*exc)
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.kanal.engine.dispose()


@pytest.fixture
def live_kanal(tmp_path):
    """Serve the app on a free port for the length of one test."""
    with LiveKanal(tmp_path, ScriptedBot()) as live:
        yield live


@pytest.fixture(scope="module")
def shared_kanal(tmp_path_factory):
    """One served kanal for a whole test module (the e2e tier stays fast): use it through
    `desk_kanal`, which ends every open conversation before each test."""
    with LiveKanal(tmp_path_factory.mktemp("shared-kanal"), ScriptedBot()) as live:
        yield live


@pytest.fixture
def desk_kanal(shared_kanal):
    """The module's kanal with nobody waiting and nothing held: each open conversation is
    closed through the domain (its log says so), so the streams keep following the log."""
    from datetime import UTC, datetime

    from router.domain.model import CLOSED_INACTIVE, ContactState
    from router.service import contacts

    with shared_kanal.kanal.uow() as uow:
        states = (ContactState.BOT, ContactState.QUEUED, ContactState.ASSIGNED)
        for contact in uow.contacts.list_by_state(states, limit=10_000):
            contacts.close(uow, contact, datetime.now(UTC), CLOSED_INACTIVE, None)
        uow.commit()
    return shared_kanal


def staff_member(live: LiveKanal, username: str, role: str = "agent", name: str = "") -> int:
    """Create a member of staff once per server (password: 'correct horse'); return their id."""
    with live.kanal.uow() as uow:
        found = uow.users.by_username(username)
    if found is not None:
        return found.id
    return create_user(live.kanal.uow, username, AGENT[1], role, name or username).id


def sign_in(page, base: str, username: str = AGENT[0], *, on_form=None) -> None:  # noqa: ANN001
    """Sign in on the sign-in page as a member of staff does (password: 'correct horse') and
    wait for the page their role lands on; `on_form(page)` runs on the form first (axe)."""
    page.goto(f"{base}/login")
    if on_form is not None:
        on_form(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(AGENT[1])
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/login" not in page.url, f"{username} could not sign in"


@pytest.fixture(scope="session")
def chromium():
    """Launch Debian's Chromium once per session (never a downloaded browser)."""
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if executable is None:
        if IN_CI:
            pytest.fail(f"CI must run the browser tests and {CHROMIUM} is absent")
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if IN_CI:
            pytest.fail("CI must run the browser tests: pip install -e '.[dev]' brings Playwright")
        pytest.skip("Playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def shots():
    """Return a function that saves a named screenshot of a page under /tmp/kanal-shots/."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str) -> Path:
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot


def serious_violations(page) -> list[str]:
    """Run axe on the page and return its serious and critical violations, readable."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for v in results.response["violations"]:
        if v.get("impact") in ("serious", "critical"):
            targets = [", ".join(n["target"]) for n in v["nodes"]][:3]
            found.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return found
