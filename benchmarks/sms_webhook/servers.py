"""Start and stop the processes under test: gunicorn servers, the Twilio sandbox, migrations."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TOKEN = "benchmark-twilio-token"
ACCOUNT_SID = "ACbenchmark000000000000000000000"
# The gunicorn settings of `kanal web` on this machine; the baseline runs with the same ones.
WORKERS, THREADS = 2, 8
# `kanal web`'s worker class (gthread whose requests may be answered after their handler
# returned); every server here runs on it, the baselines too, so all run on the same server.
# KANAL_BENCH_WORKER_CLASS=gthread runs them all on gunicorn's own, for comparison.
WORKER_CLASS = (
    os.environ.get("KANAL_BENCH_WORKER_CLASS") or "router.entrypoints.web_worker.WebWorker"
)
KANAL_WEB = "kanal web"  # as an app: kanal's own command, as `make run` starts it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds (user + system) the live processes of a process group have used so far."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) == pgid:  # pgrp
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def stop(process: subprocess.Popen) -> None:
    """Stop a process started here (and its process group), firmly if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args} exited early; see {log}:\n{tail(log)}")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop(process)
    raise SystemExit(f"{url} not ready after {timeout:.0f} s; see {log}")


def tail(path: Path, lines: int = 30) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def spawn(cmd: list[str], env: dict, log: Path, cwd: Path = ROOT) -> subprocess.Popen:
    return subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@contextlib.contextmanager
def gunicorn(
    app: str,
    env: dict,
    log: Path,
    *,
    port: int = 0,
    workers: int = WORKERS,
    threads: int = THREADS,
    groups: dict | None = None,
) -> Iterator[str]:
    """Serve `app` (module:factory()) with gunicorn gthread on `port`; yield its URL.

    `app` "kanal web" runs kanal's own command instead, as `make run` serves it (gunicorn,
    `KANAL_WEB_WORKERS` = `workers`, `KANAL_WEB_THREADS` threads, its access log).
    `groups`, if given, gets the server's process group under "kanal" (group_cpu_seconds).
    """
    port = port or free_port()
    if app == KANAL_WEB:
        env = {**env, "KANAL_WEB_WORKERS": str(workers), "KANAL_HOST": "127.0.0.1"}
        cmd = [str(Path(sys.executable).parent / "kanal"), "web"]
    else:
        cmd = gunicorn_command(app, port, workers, threads)
    env = {**env, "KANAL_PORT": str(port), "KANAL_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    process = spawn(cmd, env, log)
    if groups is not None:
        groups["kanal"] = process.pid  # spawned in a session of its own: pgid == pid
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz", process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def gunicorn_command(app: str, port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        WORKER_CLASS,
        "--bind",
        f"127.0.0.1:{port}",
        app,
    ]


def pythonpath(env: dict) -> str:
    return os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))


def base_env(work: Path) -> dict:
    """The environment every kanal process shares (the sandbox's URL is added once known)."""
    env = {
        **os.environ,
        "KANAL_INSTANCE_PATH": str(work),
        "KANAL_ENV": "development",
        "KANAL_TWILIO_SANDBOX": "1",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "KANAL_ALWAYS_OPEN": "1",
        "KANAL_LOG_LEVEL": "WARNING",
        # The web process only acknowledges; a `kanal worker`-like process runs the turns.
        "KANAL_TURN_WORKER": "process",
        "KANAL_RASA_URL": f"http://127.0.0.1:{free_port()}",  # unused unless a run sets it
    }
    env["PYTHONPATH"] = pythonpath(env)
    return env


@contextlib.contextmanager
def sandbox(work: Path, callback_delay: float, groups: dict | None = None) -> Iterator[str]:
    """Run the Twilio-compatible sandbox in its own gunicorn; yield its /sandbox/twilio URL.

    `groups`, if given, gets the sandbox's process group under "kanal" (its own server)."""
    env = {
        **base_env(work),
        "KANAL_SANDBOX_DATABASE_URL": f"sqlite:///{work / 'twilio-sandbox.db'}",
        "KANAL_SANDBOX_CALLBACK_DELAY": str(callback_delay),
    }
    log = work / "sandbox.log"
    with gunicorn(
        "benchmarks.sms_webhook.sandbox_app:create_app()",
        env,
        log,
        workers=1,
        threads=8,
        groups=groups,
    ) as url:
        yield url + "/sandbox/twilio"


@contextlib.contextmanager
def kanal(
    name: str,
    work: Path,
    env: dict,
    factory: str,
    port: int,
    worker_cmd: str | None = None,
    database_url: str | None = None,
    groups: dict | None = None,
) -> Iterator[tuple[str, str]]:
    """Migrate a fresh database, serve kanal from `factory`; yield (URL, database URL).

    `worker_cmd` (for a design whose turns run in a separate process) starts alongside it
    with the same environment (its process group in `groups` under "worker").
    `database_url`: an empty database to use (PostgreSQL) instead of a fresh SQLite file.
    """
    database_url = database_url or f"sqlite:///{work / f'{name}.db'}"
    env = {**env, "KANAL_DATABASE_URL": database_url}
    kanal_cli = str(Path(sys.executable).parent / "kanal")
    subprocess.run([kanal_cli, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    with gunicorn(factory, env, work / f"{name}.log", port=port, groups=groups) as url:
        worker = None
        if worker_cmd:
            worker_env = {**env, "KANAL_PUBLIC_URL": url, "KANAL_PORT": url.rsplit(":", 1)[1]}
            ready = work / f"{name}-worker.ready"
            worker_env[WORKER_READY] = str(ready)
            worker = spawn(shlex.split(worker_cmd), worker_env, work / f"{name}-worker.log")
            if groups is not None:
                groups["worker"] = worker.pid
            if SCRIPTED_WORKER in worker_cmd:
                wait_worker_ready(ready, worker, work / f"{name}-worker.log")
        try:
            check_sandbox_outside(url)
            yield url, database_url
        finally:
            if worker is not None:
                stop(worker)


# The scripted worker (benchmarks/sms_webhook/scripted.py) touches this file once built,
# so a run measures turns, not the worker's start (1-3 s of CPU on a loaded machine).
WORKER_READY = "KANAL_BENCH_WORKER_READY"
SCRIPTED_WORKER = "benchmarks.sms_webhook.scripted"


def wait_worker_ready(
    ready: Path, worker: subprocess.Popen, log: Path, timeout: float = 120.0
) -> None:
    """Wait until the turn worker has started (its app built, its models loaded)."""
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if worker.poll() is not None:
            raise SystemExit(f"the turn worker exited at start: see {log}")
        if time.monotonic() > deadline:
            raise SystemExit(f"the turn worker was not ready in {timeout:.0f} s: see {log}")
        time.sleep(0.05)


def check_sandbox_outside(url: str) -> None:
    """Fail if the server under test serves the sandbox itself (it must be its own process)."""
    answer = requests.get(url + "/sandbox/outbox.json", timeout=5)
    if answer.status_code != 404:
        raise SystemExit(f"the sandbox runs inside the server under test ({url}/sandbox/...)")


def postgres_admin_url() -> str | None:
    """The PostgreSQL server to make benchmark databases on (KANAL_BENCH_POSTGRES_URL, else
    KANAL_TEST_POSTGRES_URL, else 127.0.0.1:5432), or None if none answers."""
    url = (
        os.environ.get("KANAL_BENCH_POSTGRES_URL")
        or os.environ.get("KANAL_TEST_POSTGRES_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    try:
        import psycopg

        psycopg.connect(url.replace("+psycopg", ""), connect_timeout=3).close()
    except Exception:
        return None
    return url


@contextlib.contextmanager
def postgres_database(admin_url: str, name: str) -> Iterator[str]:
    """Create an empty PostgreSQL database for one run; yield its URL; drop it after."""
    import psycopg

    prefix = os.environ.get("KANAL_BENCH_PG_PREFIX", "kanal_bench")
    database = f"{prefix}_{name}_{os.getpid()}"
    with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + database
    finally:
        with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
