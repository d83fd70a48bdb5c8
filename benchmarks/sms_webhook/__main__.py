"""Load the inbound SMS webhook with wrk against kanal under gunicorn, next to a bare baseline.

    .venv/bin/python -m benchmarks.sms_webhook [--duration 10] [--connections 32]

Both servers run with the same gunicorn settings as `kanal web` on this machine, one after
the other, so the ratio (kanal ÷ baseline) is what to compare across machines and runs.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import requests
from sqlalchemy import create_engine, text

from channels.twilio_signature import sign

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TOKEN = "benchmark-twilio-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_requests(path: Path, url: str, count: int, citizens: int) -> None:
    """Write `count` signed inbound-SMS webhooks, each with its own MessageSid."""
    numbers = [f"+4531{i:06d}" for i in range(citizens)]
    with path.open("w") as out:
        for i in range(count):
            sid = "SM" + secrets.token_hex(16)
            form = {
                "MessageSid": sid,
                "SmsSid": sid,
                "AccountSid": "ACbenchmark",
                "From": numbers[i % citizens],
                "To": "+4570000000",
                "Body": "When is my payment?",
                "NumMedia": "0",
                "NumSegments": "1",
                "SmsStatus": "received",
                "ApiVersion": "2010-04-01",
            }
            out.write(f"{urlencode(form)}\t{sign(url, form, TOKEN)}\n")


def start(app: str, port: int, workers: int, env: dict, log: Path) -> subprocess.Popen:
    cmd = [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", "8",
        "--bind", f"127.0.0.1:{port}", app,
    ]  # fmt: skip
    process = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"{app} did not start; see {log}")


def wrk(port: int, args, requests_file: Path, mode: str = "unique", rate: float = 0) -> dict:
    """Run wrk against one server: flat out, or paced at about `rate` requests per second."""
    connections = 2 if rate else args.connections
    threads = min(args.threads, connections)
    env = {
        **os.environ,
        "KANAL_BENCH_REQUESTS": str(requests_file),
        "KANAL_BENCH_MODE": mode,
        "KANAL_BENCH_THREADS": str(threads),
        "KANAL_BENCH_DELAY_MS": str(int(1000 * connections / rate)) if rate else "0",
    }
    cmd = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{args.duration}s",
        "--latency", "--timeout", "15s", "-s", str(HERE / "post.lua"),
        f"http://127.0.0.1:{port}/twilio/sms",
    ]  # fmt: skip
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    result = json.loads(line[5:])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["warning"] = "WARNING" in out
    return result


def drain_seconds(database_url: str, timeout: float = 300) -> tuple[float, int]:
    """Wait until kanal has routed every accepted message; return the wait and the count."""
    engine = create_engine(database_url)
    started = time.monotonic()
    try:
        while time.monotonic() - started < timeout:
            with engine.connect() as conn:
                left = conn.execute(
                    text("SELECT count(*) FROM messages WHERE direction = 'in' AND NOT processed")
                ).scalar()
                total = conn.execute(
                    text("SELECT count(*) FROM messages WHERE direction = 'in'")
                ).scalar()
            if not left:
                return time.monotonic() - started, total
            time.sleep(0.5)
        return float("nan"), total
    finally:
        engine.dispose()


def row(name: str, r: dict, base: dict) -> str:
    return (
        f"{name:<28} {r['rps']:>9.0f} {r['rps'] / base['rps']:>7.2f} "
        f"{r['p50_us'] / 1000:>8.2f} {r['p90_us'] / 1000:>8.2f} {r['p99_us'] / 1000:>8.2f} "
        f"{r['errors'] + r['non2xx']:>7}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=60_000)
    parser.add_argument("--citizens", type=int, default=2_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--light-rate", type=float, default=10, help="requests/s, light run")
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument("--rasa-url", default=None, help="default: none (the bot is down)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    work = Path(tempfile.mkdtemp(prefix="kanal-bench-sms-"))
    kanal_port, base_port = free_port(), free_port()
    public = f"http://127.0.0.1:{kanal_port}"
    database_url = args.database_url or f"sqlite:///{work / 'kanal.db'}"
    env = {
        **os.environ,
        "KANAL_INSTANCE_PATH": str(work),
        "KANAL_DATABASE_URL": database_url,
        "KANAL_PORT": str(kanal_port),
        "KANAL_PUBLIC_URL": public,
        "KANAL_TWILIO_SANDBOX": "1",
        "TWILIO_AUTH_TOKEN": TOKEN,
        "KANAL_RASA_URL": args.rasa_url or f"http://127.0.0.1:{free_port()}",
        "KANAL_ALWAYS_OPEN": "1",
        "KANAL_LOG_LEVEL": "WARNING",
    }
    kanal = str(Path(sys.executable).parent / "kanal")
    subprocess.run([kanal, "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)  # fmt: skip
    signed = work / "requests.tsv"
    write_requests(signed, public + "/twilio/sms", args.requests, args.citizens)

    engine = database_url.split(":")[0]
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s; gunicorn --workers "
        f"{args.workers} --threads 8; {os.cpu_count()} CPUs; {engine}"
    )
    results = {}
    base_env = {
        **env,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    }
    baseline = start("benchmarks.sms_webhook.baseline:app", base_port, args.workers, base_env,
                     work / "baseline.log")  # fmt: skip
    try:
        results["baseline"] = wrk(base_port, args, signed)
        results["baseline_light"] = wrk(base_port, args, signed, rate=args.light_rate)
    finally:
        baseline.terminate()
        baseline.wait()
    server = start("router:create_app()", kanal_port, args.workers, env, work / "kanal.log")
    try:
        results["kanal_light"] = wrk(kanal_port, args, signed, rate=args.light_rate)
        drain_seconds(database_url, args.drain_timeout)
        results["kanal"] = wrk(kanal_port, args, signed)
        results["drain_s"], results["stored"] = drain_seconds(database_url, args.drain_timeout)
        results["kanal_retry"] = wrk(kanal_port, args, signed, mode="duplicate")
    finally:
        server.terminate()
        server.wait()
    # The webhook on its own: the same server with routing left for later (a harness patch).
    ack_env = {**env, "PYTHONPATH": os.pathsep.join([str(HERE / "ack_only"), str(ROOT)])}
    fresh = work / "requests-ack.tsv"
    write_requests(fresh, public + "/twilio/sms", args.requests, args.citizens)
    server = start("router:create_app()", kanal_port, args.workers, ack_env, work / "ack.log")
    try:
        results["kanal_ack"] = wrk(kanal_port, args, fresh)
    finally:
        server.terminate()
        server.wait()
    base = results["baseline"]
    print(
        f"{'':<28} {'req/s':>9} {'ratio':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
        f"{'errors':>7}"
    )
    light = results["baseline_light"]
    print(f"light steady load (about {args.light_rate:g} requests/s, wrk -c2 with a delay):")
    print(row("  bare Flask (baseline)", light, light))
    print(row("  kanal POST /twilio/sms", results["kanal_light"], light))
    print(f"saturated (wrk -c{args.connections}):")
    print(row("  bare Flask (baseline)", base, base))
    print(row("  kanal POST /twilio/sms", results["kanal"], base))
    print(row("  kanal, retried webhook", results["kanal_retry"], base))
    print(row("  kanal, routing deferred", results["kanal_ack"], base))
    accepted = results["kanal"]["requests"]
    print(
        f"under saturation kanal acknowledged {accepted} webhooks in {args.duration} s; routing "
        f"them (bot turn, reply SMS, its status callbacks) finished {results['drain_s']:.1f} s "
        f"after the load stopped: {accepted / (args.duration + results['drain_s']):.0f} "
        "messages/s end to end."
    )
    if any(r.get("warning") for k, r in results.items() if isinstance(r, dict)):
        print("WARNING: some requests were repeated; raise --requests")
    (work / "results.json").write_text(json.dumps(results, indent=2))
    print(f"details: {work}")


if __name__ == "__main__":
    main()
