"""The targets, the table and the JSON file: every figure a ratio or a bound from one command."""

from __future__ import annotations

import math
from pathlib import Path

from benchmarks import results as results_file

RESULTS = Path(__file__).resolve().parent.parent / "results" / "sms_webhook.json"


def _target(key: str, what: str, value: float | None, limit: float, op: str) -> dict:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        verdict = "SKIP"
    else:
        verdict = "PASS" if (value >= limit if op == ">=" else value <= limit) else "FAIL"
    value = None if verdict == "SKIP" else round(value, 3)
    return {
        "id": key,
        "what": what,
        "value": value,
        "target": f"{op} {limit:g}",
        "verdict": verdict,
    }


def targets(results: dict) -> list[dict]:
    out = []
    a, b = results.get("a_ack_distinct_webhooks"), results.get("b_ack_retried_webhook")
    c, d = results.get("c_turns_end_to_end_scripted_bot"), results.get("d_chat_with_real_rasa")
    out.append(
        _target(
            "a.ack_ratio",
            "distinct SMS webhooks acknowledged: kanal ÷ bare Flask req/s",
            a and a["ratio_kanal_to_baseline_rps"],
            0.60,
            ">=",
        )
    )
    out.append(
        _target(
            "a.ack_p99_ms",
            "distinct SMS webhooks: kanal p99 ms",
            a and a["kanal"]["p99_ms"],
            50,
            "<=",
        )
    )
    out.append(
        _target(
            "b.retry_ratio",
            "retried webhook (same MessageSid + token): kanal ÷ bare Flask req/s",
            b and b["ratio_kanal_to_baseline_rps"],
            0.60,
            ">=",
        )
    )
    out.append(
        _target(
            "c.turns_ratio",
            "SMS turns end to end (scripted bot, SQLite) per s ÷ bare Flask req/s",
            c and c["ratio_turns_to_baseline_rps"],
            0.04,
            ">=",
        )
    )
    pg = results.get("c_turns_end_to_end_scripted_bot_postgresql")
    out.append(
        _target(
            "c.turns_ratio_pg",
            "the same on PostgreSQL (beside it; the target is SQLite's)",
            pg and pg["ratio_turns_to_baseline_rps"],
            0.04,
            ">=",
        )
    )
    d_ok = d and not d.get("skipped")
    out.append(
        _target(
            "d.chat_ratio",
            "chat turns/s via kanal ÷ Rasa direct (16 concurrent)",
            d_ok and d["ratio_kanal_to_rasa_turns_per_s"],
            0.80,
            ">=",
        )
    )
    out.append(
        _target(
            "d.added_p50_ms",
            "kanal's added median ms per turn (sequential)",
            d_ok and d["kanal_added_p50_ms_sequential"],
            5,
            "<=",
        )
    )
    out.append(
        _target(
            "d.added_p50_vs_rasa",
            "kanal's added median ÷ Rasa direct's own median (sequential)",
            d_ok and d["kanal_added_p50_ms_sequential"] / d["sequential"]["rasa_direct"]["p50_ms"],
            0.5,
            "<=",
        )
    )
    out.append(
        _target(
            "d.p99_ratio",
            "chat p99 kanal ÷ Rasa direct (16 concurrent)",
            d_ok and d["p99_ratio_kanal_to_rasa_concurrent"],
            1.5,
            "<=",
        )
    )
    return out


def accounting(results: dict) -> list[tuple[str, dict]]:
    """Every run's exactly-once accounting, by run (each round's, where runs are in rounds)."""
    found: list[tuple[str, dict]] = []

    def walk(name: str, node: object) -> None:
        if isinstance(node, dict):
            if "accounting" in node:
                found.append((name, node["accounting"]))
                return
            for key, value in node.items():
                walk(f"{name}.{key}" if name else key, value)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(f"{name}[{i}]", value)

    walk("", results)
    return found


def show(results: dict) -> None:
    print()
    print(f"{'target':<16} {'measured':>10} {'target':>9}  verdict  what")
    for t in results["targets"]:
        value = "-" if t["value"] is None else f"{t['value']:g}"
        print(f"{t['id']:<16} {value:>10} {t['target']:>9}  {t['verdict']:<7}  {t['what']}")
    a = results.get("a_ack_distinct_webhooks")
    for i, r in enumerate((a or {}).get("rounds", []), 1):
        floor = r["floor_bare_flask_one_sqlite_insert"]
        print(
            f"round {i} (load {r['load_average_before'][0]:g} -> "
            f"{r['load_average_after'][0]:g}): bare Flask "
            f"{r['baseline_bare_flask']['requests_per_s']:g} req/s "
            f"(p99 {r['baseline_bare_flask']['p99_ms']:g} ms), floor "
            f"{floor['requests_per_s']:g} (p99 {floor['p99_ms']:g}), kanal "
            f"{r['kanal']['requests_per_s']:g} (p99 {r['kanal']['p99_ms']:g}): ratio "
            f"{r['ratio_kanal_to_baseline_rps']:.2f}"
        )
    if a:
        base = a["baseline_bare_flask"]
        print(
            f"context (medians of the rounds): bare Flask under the same load: "
            f"{base['requests_per_s']:g} req/s, "
            f"p50 {base['p50_ms']:g} ms, p99 {base['p99_ms']:g} ms"
        )
        floor = a.get("floor_bare_flask_one_sqlite_insert")
        if floor:
            print(
                f"context: the floor (bare Flask + one SQLite INSERT): "
                f"{floor['requests_per_s']:g} req/s ({a['ratio_floor_to_baseline_rps']:.2f} of "
                f"bare Flask), p99 {floor['p99_ms']:g} ms; kanal ÷ floor "
                f"{a['ratio_kanal_to_floor_rps']:.2f}"
            )
    for key in ("c_turns_end_to_end_scripted_bot", "c_turns_end_to_end_scripted_bot_postgresql"):
        c = results.get(key)
        if c:
            print(f"context: {key}: {c['turns_per_s']:g} turns/s")
    for name, acc in accounting(results):
        verdict = "OK" if acc["ok"] else "LOST OR DUPLICATED: " + "; ".join(acc["problems"])
        print(
            f"exactly once, {name}: {acc['acknowledged_distinct_ids']} acknowledged, "
            f"{acc['stored_distinct_ids']} stored: {verdict}"
        )
    for note in results.get("notes", []):
        print("note:", note)


def write(results: dict, path: Path | None = None) -> None:
    """In the results envelope (benchmarks/results.py); --quick: sms_webhook.quick.json."""
    quick = results.get("about", {}).get("quick", False)
    print(f"written: {results_file.write('sms_webhook', results, quick=quick, to=path)}")
