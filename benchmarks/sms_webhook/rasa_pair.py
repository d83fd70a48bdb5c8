"""Target (d): chat turns through kanal against the same Rasa model called directly.

One Rasa server and one action server serve both clients, started once. Every conversation
is four turns; a turn's latency runs from sending the citizen's text until the bot's answer
is in hand (for kanal: in the POST's answer, or, should the turn run later, on polling).
The two paths take turns (one conversation each when sequential, rounds when concurrent),
so that the load of other tenants of the machine falls on both alike.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from benchmarks.sms_webhook.servers import spawn, stop, wait_ready

TURNS = ("hello", "when is my payment", "how do I change my address", "thanks")
# Concurrent runs alternate in this many rounds per path (direct, kanal, kanal, direct...).
ROUNDS = 4


@contextlib.contextmanager
def rasa(work: Path, model: Path, venv: Path, groups: dict | None = None) -> Iterator[str]:
    """Start the action server and Rasa (bots/serve.py's commands) on free ports; `groups`,
    if given, gets their process groups under "rasa" and "actions"."""
    os.environ["KANAL_RASA_VENV"] = str(venv)  # read by bots.train.rasa_executable
    from bots.serve import actions_command, actions_env, free_port, rasa_command, rasa_server_env
    from bots.train import PROJECT_DIR

    port, action_port = free_port(), free_port()
    actions = spawn(actions_command(action_port), actions_env(), work / "actions.log", PROJECT_DIR)
    server = None
    try:
        server = spawn(
            rasa_command(port, model), rasa_server_env(action_port), work / "rasa.log", PROJECT_DIR
        )
        if groups is not None:
            groups.update(rasa=server.pid, actions=actions.pid)
        wait_ready(f"http://127.0.0.1:{action_port}/health", actions, work / "actions.log", 180)
        wait_ready(f"http://127.0.0.1:{port}/status", server, work / "rasa.log", 300)
        yield f"http://127.0.0.1:{port}"
    finally:
        if server is not None:
            stop(server)
        stop(actions)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Direct:
    """Rasa's REST channel: POST /webhooks/rest/webhook {sender, message}."""

    def __init__(self, url: str) -> None:
        self.url = url + "/webhooks/rest/webhook"

    def open(self, session: requests.Session) -> str:
        return uuid.uuid4().hex

    def turn(self, session: requests.Session, conversation: str, text: str) -> None:
        answer = session.post(self.url, json={"sender": conversation, "message": text}, timeout=30)
        if answer.status_code != 200 or not answer.json():
            raise RuntimeError(f"Rasa answered {answer.status_code} with no message")


class ThroughKanal:
    """kanal's chat API; every POSTed message is counted as acknowledged for the accounting."""

    def __init__(self, url: str) -> None:
        self.url = url + "/api/v1/chat/sessions"
        self.acknowledged: set[str] = set()
        self._lock = threading.Lock()

    def open(self, session: requests.Session) -> str:
        answer = session.post(self.url, timeout=30)
        answer.raise_for_status()
        body = answer.json()
        session.headers["Authorization"] = f"Bearer {body['token']}"
        return body["session_id"]

    def turn(self, session: requests.Session, conversation: str, text: str) -> None:
        client_id = uuid.uuid4().hex[:16]
        url = f"{self.url}/{conversation}/messages"
        answer = session.post(url, json={"text": text, "client_id": client_id}, timeout=30)
        if answer.status_code not in (200, 201, 202):
            raise RuntimeError(f"kanal answered {answer.status_code}: {answer.text[:200]}")
        with self._lock:
            self.acknowledged.add(f"{conversation}:{client_id}"[:64])
        messages = answer.json().get("messages", [])
        if not any(m.get("author") == "bot" for m in messages):
            told = [m.get("text", "") for m in messages if m.get("author") != "citizen"]
            if told:  # the turn ran and kanal answered without the bot (busy, timed out)
                raise RuntimeError(f"answered without the bot: {told[0][:80]}")
        deadline = time.monotonic() + 30
        after = max((m["id"] for m in messages), default=0)
        while not any(m.get("author") == "bot" for m in messages):
            if time.monotonic() > deadline:
                raise RuntimeError("no bot answer within 30 s")
            time.sleep(0.005)
            messages = session.get(url, params={"after": after}, timeout=30).json()["messages"]


def conversations(client, count: int, concurrency: int) -> dict:
    """Run `count` four-turn conversations, `concurrency` at a time; time each turn."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    local = threading.local()

    def one(_: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        session.headers.pop("Authorization", None)
        try:
            conversation = client.open(session)
            for text in TURNS:
                started = time.perf_counter()
                client.turn(session, conversation, text)
                with lock:
                    latencies.append(time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - counted and reported
            with lock:
                failures.append(f"{type(exc).__name__}: {exc}"[:200])

    started, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(count)))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu  # the load generator's own CPU: near 1.0 means it is the bound
    return {"latencies": latencies, "wall": wall, "cpu": cpu, "count": count,
            "concurrent": concurrency, "failures": failures}  # fmt: skip


def summary(runs: list[dict]) -> dict:
    """One side's figures over its rounds: turns/s over its own time, pooled percentiles, and
    the CPU each server spent per turn (when measured)."""
    latencies = [x for r in runs for x in r["latencies"]]
    cpu: dict[str, float] = {}
    for r in runs:
        for name, seconds in r.get("server_cpu", {}).items():
            cpu[name] = cpu.get(name, 0.0) + seconds
    failures = [f for r in runs for f in r["failures"]]
    wall = sum(r["wall"] for r in runs)
    return {
        "conversations": sum(r["count"] for r in runs),
        "concurrent": runs[0]["concurrent"],
        "rounds": len(runs),
        "turns": len(latencies),
        "turns_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 2) if latencies else None,
        "p99_ms": round(1000 * _percentile(latencies, 0.99), 2) if latencies else None,
        "client_cpu_share": round(sum(r["cpu"] for r in runs) / wall, 3),
        "failed_conversations": len(failures),
        "failures": sorted(set(failures))[:5],
        **({"server_cpu_ms_per_turn": {name: round(1000 * seconds / len(latencies), 2)
                                       for name, seconds in cpu.items()}}
           if cpu and latencies else {}),
    }  # fmt: skip


def interleaved(direct, kanal, count: int, concurrency: int, rounds: int, cpu=None) -> dict:  # noqa: ANN001
    """Both paths in alternating rounds (direct, kanal, kanal, direct, ...), so the other
    tenants' load, which moves from minute to minute on shared cores, weighs on both alike.
    `cpu()`, if given, says the CPU seconds each server has used so far."""
    per_round = max(1, count // rounds)
    runs: dict[str, list[dict]] = {"rasa_direct": [], "kanal": []}
    for i in range(rounds):
        order = (("rasa_direct", direct), ("kanal", kanal))
        for name, client in order if i % 2 == 0 else reversed(order):
            before = cpu() if cpu else {}
            run = conversations(client, per_round, concurrency)
            after = cpu() if cpu else {}
            run["server_cpu"] = {k: after[k] - before[k] for k in after if k in before}
            runs[name].append(run)
    return {name: summary(found) for name, found in runs.items()}


def compare(
    rasa_url: str,
    kanal_url: str,
    args,
    check: Callable[[set[str]], dict],
    cpu=None,  # noqa: ANN001
) -> dict:
    """Sequential, then concurrent, each in interleaved rounds; then the accounting."""
    direct, kanal = Direct(rasa_url), ThroughKanal(kanal_url)
    conversations(direct, 2, 1), conversations(kanal, 2, 1)  # warm both paths
    # One at a time: a round of one conversation each, alternating.
    sequential = interleaved(direct, kanal, args.sequential_conversations, 1,
                             args.sequential_conversations, cpu)  # fmt: skip
    concurrent = interleaved(direct, kanal, args.concurrent_conversations,
                             args.chat_concurrency, ROUNDS, cpu)  # fmt: skip
    return {
        "sequential": sequential,
        "concurrent": concurrent,
        "accounting": check(kanal.acknowledged),
    }
