"""The deployment of deploy/README.md brought up on loopback by a test, and torn down after it.

nginx (Debian's, run in the foreground with its own prefix in a temporary directory, from
deploy/nginx.conf through deploy/render-nginx) in front of two `kanal web` processes, the
stream process, two schedulers (one active, one standing by), Rasa and its action server
with Redis for conversations and locks (deploy/rasa/endpoints.yml), one PostgreSQL database
of the test's own on the machine's server, a Redis server of the test's own, and a Twilio
that records what it is asked to send (tests/faults/support.FakeTwilio).

Ports: KANAL_TEST_DEPLOY_PORT (default 18400) and the next seven.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.faults.support import (
    KANAL,
    ROOT,
    FakeTwilio,
    kanal_env,
    run_quietly,
    stop_group,
    wait_for,
)

IN_CI = bool(os.environ.get("CI"))
NGINX = next(
    (p for p in ("/usr/sbin/nginx", shutil.which("nginx")) if p and Path(p).exists()), None
)
REDIS = shutil.which("redis-server")


def base_port() -> int:
    return int(os.environ.get("KANAL_TEST_DEPLOY_PORT", "18400"))


@dataclass
class Ports:
    nginx: int
    web: tuple[int, int]
    streams: int
    rasa: int
    actions: int
    redis: int
    twilio: int

    @classmethod
    def from_base(cls, base: int) -> Ports:
        return cls(base, (base + 1, base + 2), base + 3, base + 4, base + 5, base + 6, base + 7)


@dataclass
class Topology:
    """The running deployment: its URLs, its processes by name, its Twilio and its logs."""

    ports: Ports
    database_url: str
    logs: Path
    twilio: FakeTwilio
    env: dict[str, str]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """Where citizens, Twilio and staff reach kanal: nginx."""
        return f"http://127.0.0.1:{self.ports.nginx}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.ports.redis}"

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        with open(self.logs / f"{name}.log", "ab") as out:
            self.processes[name] = subprocess.Popen(
                command, cwd=ROOT, env=env or self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def start_kanal(self, name: str, *args: str, **settings: object) -> None:
        env = {**self.env, **{k: str(v) for k, v in settings.items()}}
        self.start(name, [str(KANAL), *args], env)

    def kill(self, name: str) -> None:
        """kill -9 of a process and everything it started (a gunicorn and its workers)."""
        process = self.processes[name]
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self, name: str) -> None:
        stop_group(self.processes.pop(name))

    def stop_all(self) -> None:
        for name in reversed(list(self.processes)):
            with suppress(Exception):
                self.stop(name)

    def alive(self, name: str) -> bool:
        return self.processes[name].poll() is None

    def log(self, name: str, lines: int = 30) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def start_redis(self) -> None:
        self.start(
            "redis",
            [REDIS, "--bind", "127.0.0.1", "--port", str(self.ports.redis), "--save", "",
             "--appendonly", "no", "--dir", str(self.logs)],
        )  # fmt: skip
        wait_for(lambda: _answers_redis(self.ports.redis), 20, "redis-server to answer")

    def wait_ready(self, timeout: float = 120) -> None:
        """Wait until nginx, both web processes, the stream process and Rasa answer."""
        checks = {
            "nginx": f"{self.url}/healthz",
            "web-1": f"http://127.0.0.1:{self.ports.web[0]}/healthz",
            "web-2": f"http://127.0.0.1:{self.ports.web[1]}/healthz",
            "streams": f"{self.url}/streams/healthz".replace(
                str(self.ports.nginx), str(self.ports.streams)
            ),
        }
        deadline = time.monotonic() + timeout
        while checks:
            for name, url in list(checks.items()):
                if _ok(url):
                    del checks[name]
            for name in self.processes:
                if not self.alive(name):
                    pytest.fail(f"{name} exited early:\n{self.log(name)}")
            if checks and time.monotonic() > deadline:
                pytest.fail(f"not ready after {timeout:.0f} s: {sorted(checks)}")
            time.sleep(0.2)


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def _answers_redis(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _missing_parts() -> str | None:
    from bots.train import MODEL_FILE, rasa_executable

    if NGINX is None:
        return "nginx is not installed (make nginx)"
    if REDIS is None:
        return "redis-server is not installed"
    if not rasa_executable().exists():
        return "Rasa is not installed (make install)"
    if not MODEL_FILE.exists():
        return "the bot is not trained (make train)"
    return None


@contextmanager
def deployment(tmp: Path, database_url: str):
    """Bring the deployment up on loopback; stop every process afterwards, whatever happens."""
    from bots.serve import running_bot

    missing = _missing_parts()
    if missing:
        if IN_CI:
            pytest.fail(f"CI must run the deployment test: {missing}")
        pytest.skip(missing)
    ports = Ports.from_base(base_port())
    logs = tmp / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    public = f"http://127.0.0.1:{ports.nginx}"
    settings = {
        "KANAL_INSTANCE_PATH": tmp,
        "KANAL_DATABASE_URL": database_url,
        "KANAL_PUBLIC_URL": public,  # what Twilio signs, through nginx
        "KANAL_PROXIES": 1,
        "KANAL_RASA_URL": f"http://127.0.0.1:{ports.rasa}",
        "KANAL_TWILIO_SANDBOX": 1,
        "KANAL_TWILIO_SANDBOX_URL": f"http://127.0.0.1:{ports.twilio}",
        "KANAL_STREAM_PORT": ports.streams,
        "KANAL_STREAM_URL": "",  # the pages' own origin: nginx routes the streams
        "KANAL_WEB_WORKERS": 1,
        "KANAL_WEB_THREADS": 8,
        "KANAL_ALWAYS_OPEN": 1,
        "KANAL_LANGUAGES": "en,da",
        "KANAL_BOT_RESET_SECONDS": 3,
        "KANAL_DEFLECTION_FOLLOWUP_HOURS": 0,  # a job for the schedulers at once
        "KANAL_SECRET_KEY": "deployment-test",
        "KANAL_LOG_LEVEL": "warning",
    }
    env = kanal_env(**settings)
    upgraded = run_quietly([str(KANAL), "db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    twilio = FakeTwilio(ports.twilio)
    topology = Topology(ports, database_url, logs, twilio, env)
    with ExitStack() as stack:
        stack.callback(twilio.stop)
        stack.callback(topology.stop_all)
        topology.start_redis()
        for n, port in enumerate(ports.web, 1):
            topology.start_kanal(f"web-{n}", "web", KANAL_PORT=port)
        topology.start_kanal("streams", "streams")
        for n in (1, 2):  # one becomes active, the other stands by
            topology.start_kanal(f"scheduler-{n}", "scheduler", KANAL_LOG_LEVEL="info")
        prefix = tmp / "nginx"
        webs = [f"127.0.0.1:{p}" for p in ports.web]
        rendered = subprocess.run(
            [str(ROOT / "deploy" / "render-nginx"), str(prefix), f"127.0.0.1:{ports.nginx}",
             f"127.0.0.1:{ports.streams}", *webs],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert rendered.returncode == 0, rendered.stderr
        topology.start(
            "nginx",
            [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr",
             "-g", "daemon off;"],
        )  # fmt: skip
        redis = topology.redis_url
        stack.enter_context(
            running_bot(
                logs / "rasa",
                port=ports.rasa,
                action_port=ports.actions,
                timeout=180,
                endpoints=ROOT / "deploy" / "rasa" / "endpoints.yml",
                settings={
                    "KANAL_RASA_TRACKER_STORE": f"{redis}/2",
                    "KANAL_RASA_LOCK_STORE": f"{redis}/3",
                },
            )
        )
        topology.wait_ready()
        yield topology
