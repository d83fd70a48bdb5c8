"""Rasa's memory over 10,000 conversations and its latency over one long conversation.

    .venv/bin/python -m benchmarks.rasa_memory [--quick] [--conversations 10000]
        [--redis redis://127.0.0.1:6379/13] [--only baseline,memory,redis]

Three Rasa servers in turn, the same model and command line, only the tracker store differs:

- baseline: Rasa's own default (InMemoryTrackerStore: every conversation, whole, for ever);
- memory:   kanal's default, `KanalTrackerStore` in the Rasa process (bounded, idle expiry);
- redis:    `KanalTrackerStore` over Redis (skipped with a note when Redis does not answer).

Each first answers one message read for meaning, which loads the sentence encoder, as in
service. Then scripted conversations of two turns (a greeting, a question) through kanal's channel
(`POST /webhooks/kanal/webhook`), 16 at a time, each under its own opaque id; the resident
memory of the Rasa process (VmRSS from /proc) is read after 0, 1,000, 5,000 and 10,000
conversations. Then three conversations of 100 turns, one turn at a time, timed by the client:
the latency at turn n (1, 10, 50, 100) is the median of turns n-3..n of the three (turn 1:
of the first turns).
Writes benchmarks/results/rasa_memory.json.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection, RemoteDisconnected
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks import results as results_file
from bots.client import WEBHOOK_PATH
from bots.serve import running_bot
from bots.train import PROJECT_DIR, train_if_changed

RESULTS = Path(__file__).resolve().parents[1] / "results" / "rasa_memory.json"
TURNS = ("hello", "when will my pension be paid")
LONG_TURNS = ("hello", "when is my payment", "I want to apply for pension", "how do I log in")
# Read for meaning (the words alone are unsure), so the sentence encoder is loaded before the
# first reading: the process is measured as it runs in service, encoder included.
MEANING_TURN = "my request from march, has anyone looked at it yet"
CHECKPOINTS = (0, 1_000, 5_000, 10_000)
LATENCY_AT = (1, 10, 50, 100)
CONCURRENCY = 16
LONG_REPEATS = 3
WINDOW = 4  # latency at turn n: the median of turns n-3..n (of every long conversation)


def rss_mib(pid: int) -> float:
    """Return the resident memory of a process, in MiB, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def baseline_endpoints(work: Path) -> Path:
    """Write kanal's endpoints.yml without its tracker store: Rasa's default then applies."""
    kept = (PROJECT_DIR / "endpoints.yml").read_text().split("\n# Bounded conversation")[0]
    if "tracker_store" in kept:
        raise RuntimeError("endpoints.yml changed: cannot strip its tracker store for the baseline")
    path = work / "endpoints-baseline.yml"
    path.write_text(kept + "\n")
    return path


class Client:
    """Threads with one keep-alive connection each, posting turns through kanal's channel.

    http.client rather than requests: the client shares the machine's two cores with Rasa.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self._local = threading.local()
        self._failures = 0
        self._lock = threading.Lock()

    @property
    def failures(self) -> int:
        return self._failures

    def turn(self, sender: str, text: str) -> float:
        """Send one message; return the seconds until the bot's answer was in hand.

        A kept-alive connection the server closed while it was idle is opened again and the
        message sent again (not a failure of the bot, and not timed).
        """
        body = json.dumps({"sender": sender, "message": text})
        for attempt in (1, 2):
            connection = getattr(self._local, "connection", None)
            fresh = connection is None
            if fresh:
                connection = HTTPConnection(self.host, self.port, timeout=30)
                self._local.connection = connection
            started = time.perf_counter()
            try:
                connection.request("POST", WEBHOOK_PATH, body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                answer = response.read()
            except (RemoteDisconnected, ConnectionError) as exc:
                connection.close()
                self._local.connection = None
                if fresh or attempt == 2:
                    return self._failed(started, exc)
                continue
            seconds = time.perf_counter() - started
            if response.status != 200 or not json.loads(answer).get("messages"):
                return self._failed(started, f"{response.status} {answer[:200]!r}")
            return seconds
        raise AssertionError("unreachable")

    def _failed(self, started: float, why: object) -> float:
        with self._lock:
            self._failures += 1
        print(f"  failed turn: {why}", file=sys.stderr)
        return time.perf_counter() - started

    def conversation(self, sender: str) -> None:
        for text in TURNS:
            self.turn(sender, text)


def pseudonym() -> str:
    """Return an opaque conversation id, like the pseudonyms kanal gives Rasa."""
    return "c_" + uuid.uuid4().hex


def measure(name: str, settings: dict[str, str], endpoints: Path | None, args, work: Path) -> dict:  # noqa: ANN001
    """Start one Rasa server, run the conversations and the long ones; return its figures."""
    checkpoints = [c for c in CHECKPOINTS if c <= args.conversations]
    if args.conversations not in checkpoints:
        checkpoints.append(args.conversations)
    extra = {"endpoints": endpoints} if endpoints else {}
    with running_bot(work / name, settings=settings, **extra) as bot:
        client = Client(bot.url)
        for _ in range(5):  # warm up: first turns load lazily what every turn needs
            client.conversation(pseudonym())
        client.turn(pseudonym(), MEANING_TURN)
        memory = []
        done, started = 0, time.monotonic()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            for checkpoint in checkpoints:
                list(pool.map(client.conversation, (pseudonym() for _ in range(checkpoint - done))))
                done = checkpoint
                time.sleep(0.5)  # let Rasa finish what it does after answering
                memory.append({"conversations": done, "rss_mib": round(rss_mib(bot.rasa_pid), 1)})
                print(f"  {name:<8} {done:>6} conversations  RSS {memory[-1]['rss_mib']:7.1f} MiB",
                      flush=True)  # fmt: skip
        seconds = time.monotonic() - started
        per_turn: dict[int, list[float]] = {n: [] for n in LATENCY_AT}
        for _ in range(LONG_REPEATS):
            sender = pseudonym()
            for n in range(1, max(LATENCY_AT) + 1):
                ms = client.turn(sender, LONG_TURNS[(n - 1) % len(LONG_TURNS)]) * 1000
                for at in LATENCY_AT:  # turn `at` and the turns just before it (WINDOW in all)
                    if at - WINDOW < n <= at:
                        per_turn[at].append(ms)
        latency = {str(n): round(statistics.median(v), 1) for n, v in per_turn.items()}
        print(f"  {name:<8} latency ms at turn " +
              ", ".join(f"{n}: {ms}" for n, ms in latency.items()), flush=True)  # fmt: skip
        return {
            "store": name,
            "settings": settings,
            "memory": memory,
            "growth_mib_last_half": round(memory[-1]["rss_mib"] - _at_half(memory), 1),
            "turns_per_s": round(done * len(TURNS) / seconds, 1),
            "failed_turns": client.failures,
            "latency_ms_at_turn": latency,
        }


def _at_half(memory: list[dict]) -> float:
    """Return the RSS at the checkpoint nearest half the conversations."""
    half = memory[-1]["conversations"] / 2
    return min(memory, key=lambda m: abs(m["conversations"] - half))["rss_mib"]


def redis_answers(url: str) -> bool:
    try:
        import redis
    except ImportError:  # the app's environment may lack the client: ask Redis by hand
        import socket
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        try:
            with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False
    try:
        return bool(redis.Redis.from_url(url).ping())
    except redis.RedisError:
        return False


FLAT_MIB = 2.0  # growth from half the conversations to all of them, for kanal's stores
LATENCY_RATIO = 0.5  # kanal's store at turn 100 ÷ Rasa's default at turn 100
MIN_CONVERSATIONS_FOR_FLAT = 10_000  # twice the memory store's 5,000: it is full by half-way


def targets(results: list[dict], conversations: int) -> list[dict]:
    """Return each target, its figure and whether it passed (the stores measured only)."""
    by_store = {r["store"]: r for r in results}
    baseline = by_store.get("baseline")
    checks = []
    for store in ("memory", "redis"):
        r = by_store.get(store)
        if r is None:
            continue
        if conversations >= MIN_CONVERSATIONS_FOR_FLAT:
            growth = r["growth_mib_last_half"]
            checks.append(
                {"id": f"{store}.flat_mib", "figure": growth, "target": f"<= {FLAT_MIB}",
                 "passed": growth <= FLAT_MIB}
            )  # fmt: skip
        if baseline:
            at_100 = r["latency_ms_at_turn"]["100"] / baseline["latency_ms_at_turn"]["100"]
            ratio = round(at_100, 2)
            checks.append(
                {"id": f"{store}.turn100_ratio", "figure": ratio, "target": f"<= {LATENCY_RATIO}",
                 "passed": ratio <= LATENCY_RATIO}
            )  # fmt: skip
    return checks


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--conversations", type=int, default=10_000)
    p.add_argument("--quick", action="store_true", help="1,000 conversations: a smoke test")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    p.add_argument("--only", default="baseline,memory,redis")
    args = p.parse_args(argv)
    # Stopped from outside: still stop the Rasa servers this run started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.quick:
        args.conversations = 1_000
    train_if_changed(quiet=True)
    work = Path(tempfile.mkdtemp(prefix="kanal-rasa-memory-"))
    print(f"work dir {work}; {args.conversations} conversations of {len(TURNS)} turns each")
    variants = {
        "baseline": ({}, baseline_endpoints(work)),
        "memory": ({"KANAL_RASA_TRACKER_STORE": "memory"}, None),
        "redis": ({"KANAL_RASA_TRACKER_STORE": args.redis}, None),
    }
    results, notes = [], []
    for name in args.only.split(","):
        settings, endpoints = variants[name]
        if name == "redis" and not redis_answers(args.redis):
            notes.append(f"redis skipped: nobody answers at {args.redis}")
            print(f"  {notes[-1]}")
            continue
        results.append(measure(name, settings, endpoints, args, work))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    about = {
        "conversations": args.conversations,
        "turns_per_conversation": list(TURNS),
        "concurrency": CONCURRENCY,
        "defaults": "KANAL_RASA_TRACKER_MAX_EVENTS=60, IDLE_MINUTES=60, MAX_CONVERSATIONS=5000",
        "notes": notes,
    }
    checks = targets(results, args.conversations)
    report = {"about": about, "stores": results, "targets": checks}
    written = results_file.write("rasa_memory", report, quick=args.quick)
    print(f"\n{'store':<9} " + " ".join(f"{c:>8}" for c in (m["conversations"]
          for m in results[0]["memory"])) + "  (RSS MiB after N conversations)")  # fmt: skip
    for r in results:
        print(f"{r['store']:<9} " + " ".join(f"{m['rss_mib']:>8.1f}" for m in r["memory"]))
    print(f"\n{'store':<9} " + " ".join(f"{'turn ' + str(n):>9}" for n in LATENCY_AT) + "  (ms)")
    for r in results:
        print(f"{r['store']:<9} " + " ".join(f"{ms:>9}" for ms in r["latency_ms_at_turn"].values()))
    print(f"\nresults in {written}")
    for check in checks:
        verdict = "PASS" if check["passed"] else "FAIL"
        print(f"{check['id']:<22} {check['figure']:>7}  target {check['target']:<7} {verdict}")
    if any(r["failed_turns"] for r in results):
        return 2
    return 0 if all(c["passed"] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
