"""`kanal phone` against kanal as `make run` runs it: a web process and a scheduler process.

SQLite in a temporary directory, the Twilio sandbox in the web process, no bot (a caller who
presses 0 reaches a person before the bot). A caller waits, presses 1 for a callback; the
scheduler that was running when the callback was booked is stopped before an agent is free,
and a new scheduler process places the call, which the sandbox's outbox shows answered and
put through to the agent.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from router import create_app
from router.config import from_env
from router.entrypoints.bootstrap import kanal_of
from tests.integration.sms_support import wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
KANAL = [sys.executable, "-c", "from router.entrypoints.cli import main; main()"]
CALLER = "+4512345678"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def environment(tmp_path):
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("KANAL_", "TWILIO_"))
    }  # fmt: skip
    env.update(
        PYTHONPATH=str(ROOT),
        KANAL_INSTANCE_PATH=str(tmp_path),
        KANAL_DATABASE_URL=f"sqlite:///{tmp_path / 'kanal.db'}",
        KANAL_PORT=str(port),
        KANAL_PUBLIC_URL=f"http://127.0.0.1:{port}",
        KANAL_RASA_URL=f"http://127.0.0.1:{free_port()}",  # nothing listens: no bot needed
        KANAL_ALWAYS_OPEN="1",
        KANAL_VOICE_CALLBACK_OFFER_SECONDS="30",
        KANAL_CALLBACK_RECHECK_SECONDS="1",
        KANAL_SECRET_KEY="processes-test",
        KANAL_LOG_LEVEL="info",  # the scheduler says what each callback job did
    )
    subprocess.run([*KANAL, "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip
    return env


class Processes:
    """kanal's processes for one test, stopped at the end whatever happens."""

    def __init__(self, env: dict, logs: Path) -> None:
        self.env, self.logs, self.running = env, logs, {}

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen([*KANAL, *args], env=self.env, cwd=ROOT, stdout=log,
                                   stderr=subprocess.STDOUT)  # fmt: skip
        self.running[name] = process
        return process

    def stop(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")


@pytest.fixture
def processes(environment, tmp_path):
    running = Processes(environment, tmp_path)
    yield running
    running.stop_all()


def outbox_calls(base: str) -> list[dict]:
    answer = requests.get(f"{base}/sandbox/outbox.json", params={"kind": "calls", "to": CALLER},
                          timeout=5)  # fmt: skip
    return answer.json()


def test_kanal_phone_books_a_callback_that_a_restarted_scheduler_places(environment, processes):
    base = environment["KANAL_PUBLIC_URL"]
    processes.start("web", "web")
    processes.start("scheduler-1", "scheduler")

    def web_up() -> bool:
        try:
            return requests.get(f"{base}/healthz", timeout=3).ok
        except requests.RequestException:
            return False

    wait_for(web_up, timeout=60, what=f"kanal web on {base}\n{processes.log('web')}")

    # The caller, typing into `kanal phone`: English, 0 for a person, wait, 1 for a callback.
    phone = subprocess.run(
        [*KANAL, "phone", "--from", CALLER], input="2\n0\nwait\n1\n", text=True, env=environment,
        cwd=ROOT, capture_output=True, timeout=120,
    )  # fmt: skip
    said = phone.stdout
    assert phone.returncode == 0, phone.stdout + phone.stderr
    assert "kanal: I will put you through to a person." in said
    assert "kanal: To be called back instead, press 1. You keep your place in the queue." in said
    assert "kanal: Thank you. We will call you back on this number" in said
    assert said.rstrip().endswith("(call ended)")

    # Booked while no agent takes calls: the running scheduler finds nobody free and waits.
    wait_for(lambda: "callback 1: waiting" in processes.log("scheduler-1"), timeout=30,
             what="the scheduler to look at the callback")  # fmt: skip
    processes.stop("scheduler-1")

    # An agent starts taking calls while no scheduler runs: nothing is placed.
    kanal = kanal_of(create_app(from_env(environment)))
    try:
        from tests.integration.test_callbacks import agent_taking_calls

        agent = agent_taking_calls(kanal, "agent-on-phones")
    finally:
        kanal.close()
    time.sleep(2)
    assert outbox_calls(base) == [], "no scheduler runs: nobody places the callback"

    # A new scheduler process runs the stored job and places the call through the sandbox.
    processes.start("scheduler-2", "scheduler")
    placed = wait_for(
        lambda: [c for c in outbox_calls(base) if c["status"] == "completed"],
        timeout=60, what=f"the callback placed\n{processes.log('scheduler-2')}",
    )  # fmt: skip
    assert placed[0]["url"] == f"{base}/twilio/voice/callback/1"
    assert placed[0]["connected_to"] == f"client:agent-{agent}"
    assert placed[0]["said"].startswith("Hello, this is kanal calling you back, as you asked.")
    assert "callback 1: placed" in processes.log("scheduler-2")
