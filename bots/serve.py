"""Run the Rasa server and its action server for kanal, in the foreground or for a while."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NoReturn
from urllib.parse import urlsplit

import requests

from bots.train import MODEL_FILE, PROJECT_DIR, rasa_env, rasa_executable
from router.config import from_env

HOST = "127.0.0.1"  # Rasa's HTTP API is unauthenticated: never listen beyond loopback.
ENDPOINTS_FILE = Path("endpoints.yml")  # in the Rasa project directory
# The settings endpoints.yml reads (as ${ENV}) for kanal's bounded tracker store.
TRACKER_SETTINGS = (
    "KANAL_RASA_TRACKER_STORE",
    "KANAL_RASA_TRACKER_MAX_EVENTS",
    "KANAL_RASA_TRACKER_IDLE_MINUTES",
    "KANAL_RASA_TRACKER_MAX_CONVERSATIONS",
)
TRACKER_STORE_SCHEMES = ("redis", "rediss", "unix")
REDIS_LOCK_STORE = "kanal_tracker_store.RedisUrlLockStore"


def rasa_port() -> int:
    """Return the Rasa server's port (KANAL_RASA_PORT, default 5005)."""
    return from_env()["KANAL_RASA_PORT"]


def endpoints_file() -> Path:
    """Return the endpoints file Rasa reads (KANAL_RASA_ENDPOINTS, absolute; default: the
    project's own endpoints.yml)."""
    chosen = from_env()["KANAL_RASA_ENDPOINTS"]
    return Path(chosen).resolve() if chosen else ENDPOINTS_FILE


def actions_port() -> int:
    """Return the action server's port (KANAL_ACTIONS_PORT, default 5055)."""
    return from_env()["KANAL_ACTIONS_PORT"]


def rasa_command(
    port: int, model: Path = MODEL_FILE, endpoints: Path = ENDPOINTS_FILE
) -> list[str]:
    """Return the command line of the Rasa server with the kanal channel and the HTTP API."""
    command = [
        str(rasa_executable()), "run",
        "--enable-api",
        "-p", str(port),
        "-i", HOST,
        "--model", str(model),
        "--credentials", "credentials.yml",
        "--endpoints", str(endpoints),
    ]  # fmt: skip
    # kanal calls Rasa from the server side; browsers need CORS only if someone opts in.
    cors = from_env()["KANAL_RASA_CORS"]
    if cors:
        command += ["--cors", *cors.split()]
    return command


def actions_command(port: int) -> list[str]:
    """Return the command line of the action server."""
    return [str(rasa_executable()), "run", "actions", "-p", str(port), "--actions", "actions"]


def tracker_store_env(config: Mapping[str, object]) -> dict[str, str]:
    """Return the tracker and lock store settings endpoints.yml reads, checked, as strings."""
    url = str(config["KANAL_RASA_TRACKER_STORE"])
    if url != "memory" and urlsplit(url).scheme not in TRACKER_STORE_SCHEMES:
        raise ValueError(
            f"KANAL_RASA_TRACKER_STORE must be 'memory' or a redis:// URL, not {url!r}"
        )
    for name in ("KANAL_RASA_TRACKER_MAX_EVENTS", "KANAL_RASA_TRACKER_MAX_CONVERSATIONS"):
        if int(config[name]) < 1:  # type: ignore[call-overload]
            raise ValueError(f"{name} must be at least 1")
    if float(config["KANAL_RASA_TRACKER_IDLE_MINUTES"]) <= 0:  # type: ignore[arg-type]
        raise ValueError("KANAL_RASA_TRACKER_IDLE_MINUTES must be more than 0")
    env = {name: str(config[name]) for name in TRACKER_SETTINGS}
    locks = str(config["KANAL_RASA_LOCK_STORE"])
    if locks == "memory":
        env.update(KANAL_RASA_LOCK_STORE_TYPE="in_memory", KANAL_RASA_LOCK_STORE="")
    elif urlsplit(locks).scheme in ("redis", "rediss"):
        env.update(KANAL_RASA_LOCK_STORE_TYPE=REDIS_LOCK_STORE, KANAL_RASA_LOCK_STORE=locks)
        # The same URL in parts, for an endpoints file naming Rasa's own `type: redis`
        # (deploy/rasa/endpoints.yml), which takes a host, a port and a database number.
        parts = urlsplit(locks)
        env.update(
            KANAL_RASA_LOCK_STORE_HOST=parts.hostname or "localhost",
            KANAL_RASA_LOCK_STORE_PORT=str(parts.port or 6379),
            KANAL_RASA_LOCK_STORE_DB=parts.path.strip("/") or "0",
        )
    else:
        raise ValueError(f"KANAL_RASA_LOCK_STORE must be 'memory' or a redis:// URL, not {locks!r}")
    return env


def rasa_server_env(actions_port: int, settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the Rasa server's environment: the action server and the tracker store.

    `settings` are KANAL_* values that override the process environment for this server.
    """
    config = from_env({**os.environ, **(settings or {})})
    return rasa_env(
        KANAL_ACTION_ENDPOINT=f"http://{HOST}:{actions_port}/webhook",
        **tracker_store_env(config),
    )


def actions_env(routes_file: Path | None = None) -> dict[str, str]:
    """Return the action server's environment (loopback only, optionally another routes file)."""
    extra = {"KANAL_DIGITAL_ROUTES_FILE": str(routes_file)} if routes_file else {}
    return rasa_env(SANIC_HOST=HOST, **extra)


def _exec(command: list[str], env: dict[str, str]) -> NoReturn:
    """Replace this process by the command, run in the Rasa project directory."""
    os.chdir(PROJECT_DIR)
    os.execve(command[0], command, env)


def serve_rasa() -> NoReturn:
    """Run the Rasa server in the foreground (for `kanal bot serve` and the Procfile)."""
    if not MODEL_FILE.exists():
        sys.exit(f"no trained model at {MODEL_FILE}: run `python -m bots.train` first")
    try:
        env = rasa_server_env(actions_port())
    except ValueError as exc:
        sys.exit(f"bot: {exc}")
    _exec(rasa_command(rasa_port(), endpoints=endpoints_file()), env)


def serve_actions() -> NoReturn:
    """Run the action server in the foreground (for `kanal bot actions` and the Procfile)."""
    _exec(actions_command(actions_port()), actions_env())


def free_port() -> int:
    """Return a TCP port on loopback that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class RunningBot:
    """A Rasa server and action server started by `running_bot`."""

    url: str
    actions_url: str
    start_seconds: float
    log_dir: Path
    rasa_pid: int = 0  # the Rasa server's process, when started here


def _start(command: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """Start one Rasa process in its own process group, so stopping it stops its children."""
    return subprocess.Popen(
        command, cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started by `_start` (and its group), firmly if it does not listen."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _ready(url: str) -> bool:
    """Return True when the URL answers 200 (for Rasa's /status: a model is loaded)."""
    try:
        return requests.get(url, timeout=1.0).status_code == 200
    except requests.RequestException:
        return False


def _tail(path: Path, lines: int = 40) -> str:
    """Return the last lines of a log file."""
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def running_bot(
    log_dir: Path,
    *,
    port: int | None = None,
    action_port: int | None = None,
    routes_file: Path | None = None,
    timeout: float = 120,
    settings: Mapping[str, str] | None = None,
    endpoints: Path = ENDPOINTS_FILE,
) -> Iterator[RunningBot]:
    """Start the Rasa server and the action server on free ports, wait until ready, then stop.

    `settings` override KANAL_* settings of the environment for this Rasa server (e.g. the
    tracker store's); `endpoints` is another endpoints file (absolute, or in bots/rasa/).
    """
    port, action_port = port or free_port(), action_port or free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    processes: list[subprocess.Popen[bytes]] = []
    rasa_log, actions_log = log_dir / "rasa.log", log_dir / "actions.log"
    try:
        with open(actions_log, "wb") as alog, open(rasa_log, "wb") as rlog:
            processes.append(_start(actions_command(action_port), actions_env(routes_file), alog))
            processes.append(
                _start(
                    rasa_command(port, endpoints=endpoints),
                    rasa_server_env(action_port, settings),
                    rlog,
                )
            )
        url, actions_url = f"http://{HOST}:{port}", f"http://{HOST}:{action_port}"
        checks = {f"{url}/status": rasa_log, f"{actions_url}/health": actions_log}
        while checks:
            for check in list(checks):
                if _ready(check):
                    del checks[check]
            for process, log in zip(processes, (actions_log, rasa_log), strict=True):
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args[:3]} exited early:\n{_tail(log)}")
            if checks and time.monotonic() - started > timeout:
                logs = "\n".join(_tail(log) for log in checks.values())
                raise TimeoutError(f"bot not ready after {timeout:.0f} s:\n{logs}")
            time.sleep(0.25)
        ready = time.monotonic() - started
        yield RunningBot(url, actions_url, ready, log_dir, rasa_pid=processes[-1].pid)
    finally:
        for process in reversed(processes):
            _stop(process)


def main(argv: list[str] | None = None) -> int:
    """Run `rasa` (the server) or `actions` (the action server) in the foreground."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["rasa"]:
        serve_rasa()
    if args == ["actions"]:
        serve_actions()
    print("usage: python -m bots.serve rasa|actions", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
