"""SMS webhook and chat benchmarks against their targets, each a ratio to a baseline run here.

    python -m benchmarks.sms_webhook [--quick] [--only a,b,c,d]

(a) distinct signed SMS webhooks acknowledged, (b) one webhook retried, (c) SMS turns end to
end with a scripted in-process bot, (d) chat through kanal against the real Rasa model called
directly. Writes benchmarks/results/sms_webhook.json; exits 2 if any message was lost or
duplicated, 1 if a target failed. See README.md for the method.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.sms_webhook import report, servers, sms_runs

ROOT = servers.ROOT


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="short runs: a smoke test in about 2 min")
    p.add_argument("--only", default="a,b,c,d", help="which targets to measure, e.g. a,c")
    p.add_argument("--duration", type=float, help="seconds per wrk run (10; quick 3)")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--requests", type=int, help="distinct signed webhooks per wrk run")
    p.add_argument("--citizens", type=int, default=2_000, help="distinct phone numbers")
    p.add_argument("--burst", type=int, help="webhooks in the turns run (3000; quick 300)")
    p.add_argument("--drain-timeout", type=float, default=300)
    p.add_argument(
        "--callback-delay",
        type=float,
        default=0.0,
        help="seconds between the sandbox's status callbacks",
    )
    p.add_argument(
        "--worker-cmd",
        default=f"{sys.executable} -m benchmarks.sms_webhook.scripted",
        help="the turn worker run next to each kanal server (KANAL_TURN_WORKER=process)",
    )
    p.add_argument(
        "--rasa-venv",
        type=Path,
        default=Path(os.environ.get("KANAL_RASA_VENV") or ROOT / ".venv-rasa"),
    )
    p.add_argument(
        "--rasa-model",
        type=Path,
        default=Path(os.environ.get("KANAL_RASA_MODEL") or ROOT / "bots/rasa/models/kanal.tar.gz"),
    )
    p.add_argument("--sequential-conversations", type=int, help="(d) one at a time (50; quick 8)")
    p.add_argument("--concurrent-conversations", type=int, help="(d) in all (240; quick 48)")
    p.add_argument("--chat-concurrency", type=int, default=16)
    p.add_argument("--output", type=Path, help="default: benchmarks/results/sms_webhook.json")
    args = p.parse_args(argv)
    quick = args.quick
    defaults = {
        "duration": (10, 3),
        "requests": (120_000, 40_000),
        "burst": (3_000, 300),
        "sequential_conversations": (50, 8),
        "concurrent_conversations": (240, 48),
    }
    for key, (full, short) in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, short if quick else full)
    args.only = set(args.only.replace(" ", "").split(","))
    return args


def about(args) -> dict:
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "database": "SQLite (WAL), a fresh file per kanal run",
        "gunicorn": f"{servers.WORKERS} workers x {servers.THREADS} threads, worker class "
        f"{servers.WORKER_CLASS}, kanal and the bare Flask baseline alike",
        "wrk": f"-t{args.connections} -c{args.connections} -d{args.duration}s --timeout 15s",
        "twilio_sandbox": "its own gunicorn process (KANAL_TWILIO_SANDBOX_URL), not in kanal",
        "quick": args.quick,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


ROUNDS = 3  # of (a) and (b), each bare Flask, the floor and kanal one after the other


def sms(work: Path, env: dict, args, results: dict) -> None:
    base = None
    if args.only & {"a", "b"}:
        base = ack_rounds(work, env, args, results)
    elif "c" in args.only:
        # Bare Flask's rate moves a lot from run to run on two shared cores: take the median
        # of three runs (one when quick) as the baseline.
        runs = [sms_runs.baseline(work, env, args) for _ in range(1 if args.quick else ROUNDS)]
        base = _medians(runs)
    if "c" in args.only:
        c = results["c_turns_end_to_end_scripted_bot"] = sms_runs.turns(work, env, args)
        c["baseline_bare_flask_rps"] = base["requests_per_s"]
        c["ratio_turns_to_baseline_rps"] = c["turns_per_s"] / base["requests_per_s"]
        if c["acknowledged_in_s"] >= 0.9 * c["all_routed_and_answered_in_s"]:
            results["notes"].append(
                "(c) the turns kept up with the burst's acknowledgements: turns/s is bounded by "
                "how fast webhooks were acknowledged (a lower bound of the turn rate)"
            )
        admin = servers.postgres_admin_url()
        if admin is None:
            results["notes"].append("(c) no PostgreSQL answered: no PostgreSQL figure")
        else:
            with servers.postgres_database(admin, "turns") as url:
                pg = sms_runs.turns(work, env, args, database_url=url)
            pg["ratio_turns_to_baseline_rps"] = pg["turns_per_s"] / base["requests_per_s"]
            results["c_turns_end_to_end_scripted_bot_postgresql"] = pg


def ack_rounds(work: Path, env: dict, args, results: dict) -> dict:
    """(a) and (b) in rounds (one when quick): in each, bare Flask, the floor, kanal
    acknowledging distinct webhooks, kanal answering one retried, one after the other, so
    that the other tenants' load, which moves from minute to minute on shared cores, weighs on
    each of them alike. Each ratio is the median of the rounds' own ratios; every run is kept
    under `rounds`. Returns the baseline (medians of its runs) for (c)."""
    rounds = []
    for i in range(1 if args.quick else ROUNDS):
        work_of_round = work / f"round-{i + 1}"  # its own databases, webhooks and logs
        work_of_round.mkdir()
        one: dict = {"load_average_before": _load()}
        base = one["baseline_bare_flask"] = sms_runs.baseline(work_of_round, env, args)
        if "a" in args.only:
            floor = one["floor_bare_flask_one_sqlite_insert"] = sms_runs.floor(
                work_of_round, env, args
            )
            kanal = one["kanal"] = sms_runs.ack_distinct(work_of_round, env, args)
            one["ratio_kanal_to_baseline_rps"] = kanal["requests_per_s"] / base["requests_per_s"]
            one["ratio_floor_to_baseline_rps"] = floor["requests_per_s"] / base["requests_per_s"]
            one["ratio_kanal_to_floor_rps"] = kanal["requests_per_s"] / floor["requests_per_s"]
        if "b" in args.only:
            retried = one["kanal_retried"] = sms_runs.ack_retried(work_of_round, env, args)
            one["ratio_retried_to_baseline_rps"] = (
                retried["requests_per_s"] / base["requests_per_s"]
            )
        one["load_average_after"] = _load()
        rounds.append(one)
    baseline = _medians([r["baseline_bare_flask"] for r in rounds])
    if "a" in args.only:
        results["a_ack_distinct_webhooks"] = {
            "baseline_bare_flask": baseline,
            # What no acknowledgement can skip, measured the same way: the floor.
            "floor_bare_flask_one_sqlite_insert": _medians(
                [r["floor_bare_flask_one_sqlite_insert"] for r in rounds]
            ),
            "kanal": _medians([r["kanal"] for r in rounds]),
            **{
                key: statistics.median(r[key] for r in rounds)
                for key in (
                    "ratio_kanal_to_baseline_rps",
                    "ratio_floor_to_baseline_rps",
                    "ratio_kanal_to_floor_rps",
                )
            },
            "rounds": [{k: v for k, v in r.items() if k not in ("kanal_retried",)} for r in rounds],
        }
    if "b" in args.only:
        results["b_ack_retried_webhook"] = {
            "baseline_bare_flask_rps": baseline["requests_per_s"],
            "kanal": _medians([r["kanal_retried"] for r in rounds]),
            "ratio_kanal_to_baseline_rps": statistics.median(
                r["ratio_retried_to_baseline_rps"] for r in rounds
            ),
            "rounds": [
                {
                    "baseline_bare_flask_rps": r["baseline_bare_flask"]["requests_per_s"],
                    "kanal": r["kanal_retried"],
                    "ratio_kanal_to_baseline_rps": r["ratio_retried_to_baseline_rps"],
                }
                for r in rounds
            ],
        }
    return baseline


def _medians(runs: list[dict]) -> dict:
    """Each figure's median over runs of the same server (each run kept beside it)."""
    figures = ("requests_per_s", "p50_ms", "p90_ms", "p99_ms")
    out: dict = {key: statistics.median(run[key] for run in runs) for key in figures}
    out["runs_requests_per_s"] = [run["requests_per_s"] for run in runs]
    out["runs_p99_ms"] = [run["p99_ms"] for run in runs]
    out["errors_and_non_2xx"] = sum(run["errors_and_non_2xx"] for run in runs)
    return out


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: list[str]) -> int:
    args = parse(argv)
    if shutil.which("wrk") is None and args.only & {"a", "b"}:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    work = Path(tempfile.mkdtemp(prefix="kanal-bench-sms-"))
    print(f"work dir (logs, databases): {work}", flush=True)
    results: dict = {"about": about(args), "notes": []}
    env = servers.base_env(work)
    args.sandbox_groups = {}
    with servers.sandbox(work, args.callback_delay, args.sandbox_groups) as sandbox_url:
        env["KANAL_TWILIO_SANDBOX_URL"] = sandbox_url
        sms(work, env, args, results)
        if "d" in args.only:
            from benchmarks.sms_webhook.chat import chat

            results["d_chat_with_real_rasa"] = chat(work, env, args, results["notes"])
    results["about"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["targets"] = report.targets(results)
    failed_accounting = [n for n, acc in report.accounting(results) if not acc["ok"]]
    results["accounting_ok"] = not failed_accounting
    results["all_targets_pass"] = all(t["verdict"] == "PASS" for t in results["targets"])
    report.write(results, args.output)
    report.show(results)
    if failed_accounting:
        print(
            f"FAILED: messages lost or duplicated in {', '.join(failed_accounting)}",
            file=sys.stderr,
        )
        return 2
    return 0 if results["all_targets_pass"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
