"""Targets (a)-(c): acknowledging distinct and retried SMS webhooks; turns end to end."""

from __future__ import annotations

import os
import time
from pathlib import Path

from benchmarks.sms_webhook import cpu, load
from benchmarks.sms_webhook.db import Database, check_stored
from benchmarks.sms_webhook.servers import free_port, gunicorn, kanal

SCRIPTED = "benchmarks.sms_webhook.scripted:create_app()"
WARM_UP = 2_000  # webhooks posted before a measured run (kept out of wrk's file)


def _latency(result: dict) -> dict:
    return {
        "requests_per_s": round(result["rps"], 1),
        "p50_ms": result["p50_us"] / 1000,
        "p90_ms": result["p90_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "responses": result["requests"],
        "errors_and_non_2xx": result["errors"] + result["non2xx"],
    }


def baseline(work: Path, env: dict, args) -> dict:
    """Bare Flask answering the same empty TwiML, same gunicorn settings, same wrk load."""
    port = free_port()
    hooks = load.make_webhooks(f"http://127.0.0.1:{port}/twilio/sms", args.requests, args.citizens)
    load.write_tsv(work / "baseline.tsv", hooks[:-WARM_UP], args.connections)
    with gunicorn(
        "benchmarks.sms_webhook.baseline:app", env, work / "baseline.log", port=port
    ) as url:
        load.warm_up(url, work / "baseline-warm.tsv", hooks[-WARM_UP:], args.connections)
        return _latency(load.wrk(url, work / "baseline.tsv", args.connections, args.duration))


def floor(work: Path, env: dict, args) -> dict:
    """Bare Flask plus one committed SQLite INSERT per webhook: the acknowledgement's floor."""
    port = free_port()
    hooks = load.make_webhooks(f"http://127.0.0.1:{port}/twilio/sms", args.requests, args.citizens)
    load.write_tsv(work / "floor.tsv", hooks[:-WARM_UP], args.connections)
    env = {**env, "KANAL_BENCH_FLOOR_DB": str(work / f"floor-{port}.db")}
    with gunicorn(
        "benchmarks.sms_webhook.baseline:floor_app()", env, work / "floor.log", port=port
    ) as url:
        load.warm_up(url, work / "floor-warm.tsv", hooks[-WARM_UP:], args.connections)
        return _latency(load.wrk(url, work / "floor.tsv", args.connections, args.duration))


def ack_distinct(work: Path, env: dict, args) -> dict:
    """(a) Every request a distinct signed inbound SMS; then account for every MessageSid."""
    port = free_port()
    hooks = load.make_webhooks(f"http://127.0.0.1:{port}/twilio/sms", args.requests, args.citizens)
    tsv = work / "ack.tsv"
    load.write_tsv(tsv, hooks[:-WARM_UP], args.connections)
    with kanal("ack", work, env, SCRIPTED, port, args.worker_cmd) as (url, database_url):
        # Warm up every server thread (connections, compiled statements) before measuring;
        # the warm-up's webhooks are accounted for like the others.
        warm_sent, warm_unacked = load.warm_up(
            url, work / "ack-warm.tsv", hooks[-WARM_UP:], args.connections
        )
        result = load.wrk(url, tsv, args.connections, args.duration)
        sent, unacked = load.sent_and_unacked(result, hooks[:-WARM_UP], args.connections)
        sent |= warm_sent
        unacked |= warm_unacked
        # Like Twilio: what got no 200 is delivered again, so every sent SMS ends acknowledged.
        still = load.redeliver(url, hooks, unacked)
        db = Database(database_url)
        try:
            accounting = check_stored(db, sent - still)
        finally:
            db.close()
    if result["repeated_requests"]:
        accounting["problems"].append("wrk ran out of distinct webhooks: raise --requests")
        accounting["ok"] = False
    accounting.update(sent=len(sent), redelivered=len(unacked), never_acknowledged=len(still))
    return {**_latency(result), "accounting": accounting}


def ack_retried(work: Path, env: dict, args) -> dict:
    """(b) One webhook delivered once, then replayed flat out (same MessageSid and token)."""
    port = free_port()
    hooks = load.make_webhooks(f"http://127.0.0.1:{port}/twilio/sms", 1, 1)
    tsv = work / "retry.tsv"
    load.write_tsv(tsv, hooks)
    with kanal("retry", work, env, SCRIPTED, port, args.worker_cmd) as (url, database_url):
        first = load.post_all(url, hooks, concurrency=1)
        load.wrk(url, tsv, args.connections, 2, mode="duplicate")  # warm up, not measured
        result = load.wrk(url, tsv, args.connections, args.duration, mode="duplicate")
        db = Database(database_url)
        try:
            accounting = check_stored(db, first.acked)
        finally:
            db.close()
    accounting["first_delivery_status"] = first.status[hooks[0].sid]
    return {**_latency(result), "accounting": accounting}


def turns(work: Path, env: dict, args, database_url: str | None = None) -> dict:
    """(c) A burst of distinct webhooks, then wait until each is routed and answered
    (on a fresh SQLite file, or on the fresh PostgreSQL database `database_url`)."""
    port = free_port()
    count = args.burst
    hooks = load.make_webhooks(f"http://127.0.0.1:{port}/twilio/sms", count, args.citizens, "32")
    name = "turns" if database_url is None else "turns-pg"
    groups: dict = {}
    with kanal(name, work, env, SCRIPTED, port, args.worker_cmd, database_url, groups) as (
        url,
        database_url,
    ):
        roles = cpu.Roles(
            {
                "kanal_web": groups["kanal"],
                "kanal_turn_worker": groups["worker"],
                "twilio_sandbox": args.sandbox_groups["kanal"],
            },
            None if database_url.startswith("sqlite") else database_url.rsplit("/", 1)[1],
        )
        db = Database(database_url)
        try:
            before, started = cpu.snapshot(roles), time.monotonic()
            burst = load.post_all(url, hooks, concurrency=args.connections)
            unacked = {h.sid for h in hooks} - burst.acked
            still = load.redeliver(url, hooks, unacked)
            done = db.wait_for_turns(count, timeout=args.drain_timeout)
            # Every answered SMS's work includes its status callbacks: count until recorded.
            delivered = db.wait_for_delivered(count, timeout=60)
            after, settled = cpu.snapshot(roles), time.monotonic()
            processed, replies = db.turns()
            accounting = check_stored(db, {h.sid for h in hooks} - still)
        finally:
            db.close()
    seconds = (done - burst.started) if done else float("nan")
    spent = cpu.per_item(before, after, count)
    spent["replies_reported_delivered"] = delivered
    # Over the whole window (burst to the last status callback), against two cores' worth.
    window = settled - started
    spent["window_s"] = round(window, 3)
    spent["cpu_cores_used_by_run_processes"] = round(
        spent["all_run_processes_cpu_ms_per_answered_sms"] * count / 1000 / window, 2
    )
    spent["cores_needed_at_measured_rate"] = (
        round(spent["all_run_processes_cpu_ms_per_answered_sms"] * count / 1000 / seconds, 2)
        if done
        else None
    )
    accounting.update(redelivered=len(unacked), never_acknowledged=len(still))
    if done is None:
        accounting["problems"].append(
            f"only {processed}/{count} routed, {replies} replies after {args.drain_timeout} s"
        )
        accounting["ok"] = False
    return {
        "inbound_sms": count,
        "acknowledged_in_s": round(burst.finished - burst.started, 3),
        "all_routed_and_answered_in_s": round(seconds, 3),
        "turns_per_s": round(count / seconds, 1) if done else 0.0,
        "routed_inbound": processed,
        "replies_written": replies,
        "accounting": accounting,
        "cpu": spent,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
