"""Target (d) wiring: Rasa + actions once, kanal pointed at them, both clients, the ratios."""

from __future__ import annotations

from pathlib import Path

from benchmarks.sms_webhook import rasa_pair, servers
from benchmarks.sms_webhook.db import Database, check_chat
from benchmarks.sms_webhook.servers import free_port, kanal

# Rasa direct, 16 concurrent conversations, on the reference 2-core machine (turns/s).
REFERENCE_RASA_TURNS_PER_S = 190


def chat(work: Path, env: dict, args, notes: list[str]) -> dict:
    rasa_bin = args.rasa_venv / "bin" / "rasa"
    if not rasa_bin.exists() or not args.rasa_model.exists():
        why = f"no Rasa at {rasa_bin} or no model at {args.rasa_model} (make install train)"
        notes.append(f"(d) skipped: {why}")
        return {"skipped": why}
    groups: dict[str, int] = {}  # the servers' process groups, for their CPU per turn
    with rasa_pair.rasa(work, args.rasa_model, args.rasa_venv, groups) as rasa_url:
        # The bot's bulkhead is per web process (KANAL_BOT_CONCURRENCY, default 4): with the
        # benchmark's 2 gunicorn workers, 4 would let only 8 of the 16 conversations reach
        # Rasa at once. Each process gets an equal share of them, as a deployment sizes it.
        per_process = -(-args.chat_concurrency // servers.WORKERS)
        # Served as `make run` serves it: `kanal web` (its gunicorn threads and access log),
        # turns in the web process, kanal's own log level.
        kanal_env = {**env, "KANAL_RASA_URL": rasa_url, "KANAL_BOT_CONCURRENCY": str(per_process),
                     "KANAL_TURN_WORKER": "thread"}  # fmt: skip
        kanal_env.pop("KANAL_LOG_LEVEL", None)
        web = servers.KANAL_WEB
        with kanal("chat", work, kanal_env, web, free_port(), groups=groups) as (url, database_url):
            db = Database(database_url)

            def cpu() -> dict[str, float]:
                return {name: servers.group_cpu_seconds(pid) for name, pid in groups.items()}

            try:
                runs = rasa_pair.compare(
                    rasa_url, url, args, lambda acked: check_chat(db, acked), cpu
                )
            finally:
                db.close()
    seq, conc = runs["sequential"], runs["concurrent"]
    direct = conc["rasa_direct"]["turns_per_s"]
    if direct < 0.75 * REFERENCE_RASA_TURNS_PER_S:
        notes.append(
            f"(d) Rasa direct made {direct:g} turns/s at {args.chat_concurrency} concurrent, "
            f"under the ~{REFERENCE_RASA_TURNS_PER_S} expected: a slower machine, or the "
            f"client is the bottleneck (client CPU {conc['rasa_direct']['client_cpu_share']:.0%} "
            "of one core)"
        )
    for kind, run in (("sequential", seq), ("concurrent", conc)):
        for who, r in run.items():
            if r["failed_conversations"]:
                notes.append(
                    f"(d) {who} {kind}: {r['failed_conversations']} conversations "
                    f"failed: {r['failures']}"
                )
    return {
        "turns_per_conversation": len(rasa_pair.TURNS),
        **runs,
        "cpu_per_turn_concurrent": cpu_bound(conc),
        "ratio_kanal_to_rasa_turns_per_s": conc["kanal"]["turns_per_s"] / direct,
        "kanal_added_p50_ms_sequential": seq["kanal"]["p50_ms"] - seq["rasa_direct"]["p50_ms"],
        "p99_ratio_kanal_to_rasa_concurrent": conc["kanal"]["p99_ms"]
        / conc["rasa_direct"]["p99_ms"],
    }


def cpu_bound(concurrent: dict) -> dict | None:
    """What the servers' CPU per turn says of the throughput ratio: when the run's share of the
    machine's CPU is what bounds it (a busy, shared machine), turns/s go as 1 / (CPU per turn),
    so kanal can make at most Rasa's CPU ÷ (Rasa's + kanal's) of Rasa direct's turns/s."""
    direct = concurrent["rasa_direct"].get("server_cpu_ms_per_turn")
    through = concurrent["kanal"].get("server_cpu_ms_per_turn")
    if not direct or not through:
        return None
    bot_direct = direct.get("rasa", 0.0) + direct.get("actions", 0.0)
    bot_through = through.get("rasa", 0.0) + through.get("actions", 0.0)
    web = through.get("kanal", 0.0)
    return {
        "rasa_and_actions_ms_direct": round(bot_direct, 2),
        "rasa_and_actions_ms_through_kanal": round(bot_through, 2),
        "kanal_web_ms": round(web, 2),
        "ratio_if_cpu_bound": round(bot_direct / (bot_through + web), 3) if web else None,
    }
