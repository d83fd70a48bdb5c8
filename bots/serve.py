"""Run the Rasa server and its action server for kanal, in the foreground or for a while."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NoReturn

import requests

from bots.train import MODEL_FILE, PROJECT_DIR, rasa_env, rasa_executable
from router.config import from_env

HOST = "127.0.0.1"  # Rasa's HTTP API is unauthenticated: never listen beyond loopback.


def rasa_port() -> int:
    """Return the Rasa server's port (KANAL_RASA_PORT, default 5005)."""
    return from_env()["KANAL_RASA_PORT"]


def actions_port() -> int:
    """Return the action server's port (KANAL_ACTIONS_PORT, default 5055)."""
    return from_env()["KANAL_ACTIONS_PORT"]


def rasa_command(port: int, model: Path = MODEL_FILE) -> list[str]:
    """Return the command line of the Rasa server with the kanal channel and the HTTP API."""
    command = [
        str(rasa_executable()), "run",
        "--enable-api",
        "-p", str(port),
        "-i", HOST,
        "--model", str(model),
        "--credentials", "credentials.yml",
        "--endpoints", "endpoints.yml",
    ]  # fmt: skip
    # kanal calls Rasa from the server side; browsers need CORS only if someone opts in.
    cors = from_env()["KANAL_RASA_CORS"]
    if cors:
        command += ["--cors", *cors.split()]
    return command


def actions_command(port: int) -> list[str]:
    """Return the command line of the action server."""
    return [str(rasa_executable()), "run", "actions", "-p", str(port), "--actions", "actions"]


def rasa_server_env(actions_port: int) -> dict[str, str]:
    """Return the Rasa server's environment, pointing it at the action server."""
    return rasa_env(KANAL_ACTION_ENDPOINT=f"http://{HOST}:{actions_port}/webhook")


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
    _exec(rasa_command(rasa_port()), rasa_server_env(actions_port()))


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
) -> Iterator[RunningBot]:
    """Start the Rasa server and the action server on free ports, wait until ready, then stop."""
    port, action_port = port or free_port(), action_port or free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    processes: list[subprocess.Popen[bytes]] = []
    rasa_log, actions_log = log_dir / "rasa.log", log_dir / "actions.log"
    try:
        with open(actions_log, "wb") as alog, open(rasa_log, "wb") as rlog:
            processes.append(_start(actions_command(action_port), actions_env(routes_file), alog))
            processes.append(_start(rasa_command(port), rasa_server_env(action_port), rlog))
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
        yield RunningBot(url, actions_url, time.monotonic() - started, log_dir)
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
