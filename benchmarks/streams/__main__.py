"""Live updates at scale: 500 chat streams and 20 desk streams, message → screen latency.

    .venv/bin/python -m benchmarks.streams [--chats 500] [--desks 20] [--seconds 40] [--quick]

For each database (PostgreSQL: LISTEN/NOTIFY; SQLite: the stream process's one poller) it
starts kanal's web app (gunicorn, as `kanal web`, with a bot that answers at once) and the
stream process (`kanal streams`), each in its own process; then simulated citizens open chat
sessions, ask for a person and follow their chat streams, and 20 agents sign in, claim
every chat through the desk (capacity raised to hold them), answer them through the desk's
reply form, and keep one conversation's page open on its desk stream (reading
`messages.json` on each event, as desk.js does). Citizens answer each reply after 1–3 s;
the citizen whose conversation is on an agent's page also writes on their own.

Reported: latency from a message's POST to the other side's screen, p50/p95 (chat: the
agent's reply reaching the widget; desk: the citizen's message on the agent's page), and
errors (refused requests, streams that ended, messages never shown). Baseline, in the same
command: a bare asyncio SSE server (aiohttp) with the same number of streams pushed at the
same rate; the ratio is kanal's p95 over the baseline's. Target: p95 ≤ 1 s, 0 errors.
Writes benchmarks/results/streams.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import sys
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from benchmarks import results
from benchmarks.sms_webhook import servers
from benchmarks.streams import drive

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCRATCH = "kanal_bench_streams"
RESULTS = Path(__file__).resolve().parents[1] / "results" / "streams.json"
SECRET = "benchmark-" + secrets.token_hex(8)
PASSWORD = "correct horse battery"


@contextmanager
def scratch_postgres():
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{SCRATCH}"'))
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL not available ({type(exc).__name__}); skipped")
        yield None
        return
    try:
        yield POSTGRES.rsplit("/", 1)[0] + "/" + SCRATCH
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
        admin.dispose()


def prepare(url: str, desks: int, capacity: int) -> list[tuple[int, str]]:
    """kanal's tables, and `desks` agents who may hold `capacity` chats; (id, desk token)."""
    from router.adapters.db import create_all, make_engine
    from router.entrypoints.auth import create_user
    from router.entrypoints.bootstrap import bootstrap
    from router.entrypoints.live_tokens import desk_token

    engine = make_engine(url)
    create_all(engine)
    engine.dispose()
    kanal = bootstrap(
        {"KANAL_DATABASE_URL": url, "SECRET_KEY": SECRET}, identify=None, bot=drive_bot()
    )
    try:
        agents = []
        for n in range(desks):
            user = create_user(kanal.uow, f"bench{n}", PASSWORD, "agent")
            kanal.assignments.set_profile(user.id, capacity={"webchat": capacity})
            agents.append((user.id, desk_token(SECRET, user.id)))
    finally:
        kanal.close()
    return agents


def drive_bot():  # noqa: ANN201
    from benchmarks.streams.web import HandingBot

    return HandingBot()


def environment(work: Path, url: str, stream_port: int) -> dict:
    env = servers.base_env(work)
    env.update(
        {
            "KANAL_DATABASE_URL": url,
            "KANAL_SECRET_KEY": SECRET,
            "KANAL_TURN_WORKER": "thread",
            "KANAL_LOGIN_RATE": "100000 per minute",
            "KANAL_LOGIN_LOCKOUT": "100000 per minute",
            "KANAL_STREAM_PORT": str(stream_port),
            "KANAL_STREAM_URL": f"http://127.0.0.1:{stream_port}",
            "KANAL_LANGUAGES": "en,da",
        }
    )
    return env


@contextmanager
def stream_process(env: dict, port: int, log: Path):
    command = [sys.executable, "-c", "from router.entrypoints.cli import main; main()",
               "streams", "--port", str(port)]  # fmt: skip
    process = servers.spawn(command, env, log)
    try:
        servers.wait_ready(f"http://127.0.0.1:{port}/streams/healthz", process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        servers.stop(process)


def run_kanal(url: str, work: Path, args: argparse.Namespace) -> dict:
    capacity = -(-args.chats // args.desks)
    agents = prepare(url, args.desks, capacity)
    stream_port = servers.free_port()
    env = environment(work, url, stream_port)
    log = work / "processes.log"
    with (
        servers.gunicorn("benchmarks.streams.web:create_app()", env, log) as web,
        stream_process(env, stream_port, log) as streams,
    ):
        return asyncio.run(
            drive.kanal_run(
                web, streams, agents, PASSWORD, chats=args.chats, seconds=args.seconds,
                agent_every=args.agent_every, citizen_every=args.citizen_every,
            )
        )  # fmt: skip


def run_baseline(work: Path, streams: int, rate: float, seconds: float) -> dict:
    port = servers.free_port()
    env = servers.base_env(work)
    command = [sys.executable, "-m", "benchmarks.streams.baseline", str(port)]
    log = work / "baseline.log"
    process = servers.spawn(command, env, log)
    try:
        servers.wait_ready(f"http://127.0.0.1:{port}/healthz", process, log)
        return asyncio.run(drive.baseline_run(f"http://127.0.0.1:{port}", streams, rate, seconds))
    finally:
        servers.stop(process)


def ratio(kanal: dict, baseline: dict) -> float | None:
    p95 = kanal["all"]["p95_ms"]
    return round(p95 / baseline["p95_ms"], 1) if p95 and baseline.get("p95_ms") else None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.streams")
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--desks", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--agent-every", type=float, default=1.5, help="s between replies")
    parser.add_argument("--citizen-every", type=float, default=2.0,
                        help="s between messages of a citizen on an agent's page")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="100 chats, 10 desks, 15 s")
    parser.add_argument("--database", choices=("postgresql", "sqlite", "both"), default="both")
    args, _ = parser.parse_known_args(argv)
    if args.quick:
        args.chats, args.desks, args.seconds = 100, 10, 15.0
    result: dict = {
        "what": "message → screen latency with chat widgets and desk pages open on the stream "
        "process (kanal streams), through kanal's real HTTP endpoints",
        "chats": args.chats,
        "desks": args.desks,
        "seconds": args.seconds,
        "target": {"p95_ms": 1000, "errors": 0},
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },  # fmt: skip
    }
    with tempfile.TemporaryDirectory(prefix="kanal-bench-streams-") as tmp:
        work = Path(tmp)
        if args.database in ("postgresql", "both"):
            with scratch_postgres() as url:
                if url:
                    result["postgresql"] = run_kanal(url, work, args)
                    print("postgresql", json.dumps(result["postgresql"]), flush=True)
        if args.database in ("sqlite", "both"):
            result["sqlite"] = run_kanal(f"sqlite:///{work / 'kanal.db'}", work, args)
            print("sqlite", json.dumps(result["sqlite"]), flush=True)
        measured = [result[d] for d in ("postgresql", "sqlite") if d in result]
        rate = max(m["messages"] / max(m["exchange_seconds"], 1) for m in measured)
        result["baseline"] = run_baseline(
            work, args.chats + args.desks, round(rate, 1), min(args.seconds, 15.0)
        )
        print("baseline", json.dumps(result["baseline"]), flush=True)
    for d in ("postgresql", "sqlite"):
        if d in result:
            result[d]["ratio_p95_to_baseline"] = ratio(result[d], result["baseline"])
    print(f"wrote {results.write('streams', result, quick=args.quick)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
