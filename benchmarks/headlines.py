"""Each benchmark's headline rows, read from the keys its results file already has.

A row: `{metric, value, unit, target, met, baseline, ratio}`; `target` is the bound as text
(None: the benchmark sets none), `met` True/False, or None when nothing is to be met at this
scale; `baseline` is the same measure of the baseline run in the same command (same unit) and
`ratio` the benchmark's ratio to it. A benchmark without a reader here gets the rows of its
`targets` list, if it has one. Keys that moved show as a row saying so, not as a silent gap.
"""

from __future__ import annotations

from collections.abc import Callable

MILLION = 1_000_000
DATABASES = (("postgresql", "PostgreSQL"), ("sqlite", "SQLite"))


def row(metric, value, unit, *, target=None, met=None, baseline=None, ratio=None) -> dict:
    return {"metric": metric, "value": value, "unit": unit, "target": target, "met": met,
            "baseline": baseline, "ratio": ratio}  # fmt: skip


def at_most(value, limit) -> bool | None:
    return None if value is None else value <= limit


def at_least(value, limit) -> bool | None:
    return None if value is None else value >= limit


def _verdict(targets: list, key: str) -> tuple[str | None, bool | None]:
    for t in targets or ():
        if t.get("id") == key:
            return t.get("target"), {"PASS": True, "FAIL": False}.get(t.get("verdict"))
    return None, None


def sms_webhook(d: dict) -> list[dict]:
    t, rows = d.get("targets", []), []
    a, b = d.get("a_ack_distinct_webhooks"), d.get("b_ack_retried_webhook")
    chat = d.get("d_chat_with_real_rasa")
    if a:
        base, kanal = a["baseline_bare_flask"], a["kanal"]
        target, met = _verdict(t, "a.ack_ratio")
        rows.append(row("SMS webhooks acknowledged (distinct), kanal vs bare Flask",
                        kanal["requests_per_s"], "req/s", target=f"ratio {target}", met=met,
                        baseline=base["requests_per_s"],
                        ratio=round(a["ratio_kanal_to_baseline_rps"], 2)))  # fmt: skip
        target, met = _verdict(t, "a.ack_p99_ms")
        rows.append(row("SMS webhook acknowledgement p99 (distinct)", kanal["p99_ms"], "ms",
                        target=target and f"{target} ms", met=met, baseline=base["p99_ms"],
                        ratio=round(kanal["p99_ms"] / base["p99_ms"], 2)))  # fmt: skip
    if b:
        target, met = _verdict(t, "b.retry_ratio")
        rows.append(row("retried SMS webhook acknowledged, kanal vs bare Flask",
                        b["kanal"]["requests_per_s"], "req/s", target=f"ratio {target}", met=met,
                        baseline=b["baseline_bare_flask_rps"],
                        ratio=round(b["ratio_kanal_to_baseline_rps"], 2)))  # fmt: skip
    floor = a and a.get("floor_bare_flask_one_sqlite_insert")
    if floor:
        rows.append(row("SMS webhooks acknowledged (distinct), kanal vs the floor (bare Flask + "
                        "one SQLite INSERT)", a["kanal"]["requests_per_s"], "req/s",
                        baseline=floor["requests_per_s"],
                        ratio=round(a["ratio_kanal_to_floor_rps"], 2)))  # fmt: skip
    for key, label, check in (
        ("", "SQLite", "c.turns_ratio"),
        ("_postgresql", "PostgreSQL", "c.turns_ratio_pg"),
    ):
        c = d.get(f"c_turns_end_to_end_scripted_bot{key}")
        if not c:
            continue
        target, met = _verdict(t, check)
        if target is None:  # before the ratio (results of 30 Nov): turns/s against a bound
            target, met = _verdict(t, "c.turns_per_s")
        elif target:
            target = f"ratio {target}"
        rows.append(row(f"SMS turns end to end, burst of {c['inbound_sms']:,} (scripted bot), "
                        f"{label}; ratio: to bare Flask's req/s", c["turns_per_s"], "turns/s",
                        target=target, met=met,
                        ratio=c.get("ratio_turns_to_baseline_rps") and
                        round(c["ratio_turns_to_baseline_rps"], 3)))  # fmt: skip
    if chat and not chat.get("skipped"):
        con, seq = chat["concurrent"], chat["sequential"]
        target, met = _verdict(t, "d.chat_ratio")
        rows.append(row(f"chat turns via kanal vs Rasa direct ({con['kanal']['concurrent']} "
                        "at once)", con["kanal"]["turns_per_s"], "turns/s",
                        target=f"ratio {target}", met=met,
                        baseline=con["rasa_direct"]["turns_per_s"],
                        ratio=round(chat["ratio_kanal_to_rasa_turns_per_s"], 2)))  # fmt: skip
        target, met = _verdict(t, "d.added_p50_ms")
        rows.append(row("chat turn p50 via kanal vs Rasa direct (one at a time)",
                        seq["kanal"]["p50_ms"], "ms", target=target and f"added {target} ms",
                        met=met, baseline=seq["rasa_direct"]["p50_ms"],
                        ratio=round(seq["kanal"]["p50_ms"] / seq["rasa_direct"]["p50_ms"], 2),
                        ))  # fmt: skip
        target, met = _verdict(t, "d.p99_ratio")
        rows.append(row("chat turn p99 via kanal vs Rasa direct (at once)",
                        con["kanal"]["p99_ms"], "ms", target=f"ratio {target}", met=met,
                        baseline=con["rasa_direct"]["p99_ms"],
                        ratio=round(chat["p99_ratio_kanal_to_rasa_concurrent"], 2)))  # fmt: skip
    return rows


def turn_cost(d: dict) -> list[dict]:
    rows = []
    for turn in d["turns"]:
        main_db = turn.get("main_db_transactions_per_turn")
        capped = turn["turn"].startswith(("phone", "sms, a follow-up"))  # the docstring's target
        rows.append(row(f"CPU per turn, {turn['turn']} ({turn['sql_statements_per_turn']:g} "
                        f"SQL statements, {main_db:g} main-db transactions)",
                        turn["cpu_ms_per_turn"], "ms",
                        target="<= 2 main-db transactions" if capped else None,
                        met=at_most(main_db, 2) if capped else None))  # fmt: skip
    return rows


def ivr_turn(d: dict) -> list[dict]:
    rows, bare = [], d["without_bot"]
    rows.append(row("phone turn p50, no bot (signed voice webhook)", bare["turn"]["p50_ms"], "ms",
                    target="max < 1000 ms", met=bare["turn"]["max_ms"] < 1000,
                    baseline=bare["baseline"]["p50_ms"],
                    ratio=bare.get("ratio_turn_to_baseline_p50")))  # fmt: skip
    rasa = d.get("with_rasa")
    if isinstance(rasa, dict) and "turn" in rasa:
        rows.append(row("phone turn p50 with the real Rasa vs Rasa direct",
                        rasa["turn"]["p50_ms"], "ms", target="max < 1000 ms",
                        met=rasa["turn"]["max_ms"] < 1000, baseline=rasa["baseline"]["p50_ms"],
                        ratio=rasa.get("ratio_turn_to_rasa_direct_p50")))  # fmt: skip
        added = rasa.get("added_p50_vs_rasa_p50")
        if added is not None:
            rows.append(row("phone turn: kanal's added p50 / Rasa direct's p50 (interleaved)",
                            added, "", target="<= 0.5", met=at_most(added, 0.5),
                            baseline=rasa["baseline"]["p50_ms"]))  # fmt: skip
    return rows


def claims(d: dict) -> list[dict]:
    rows, target = [], d.get("target", {})
    doubles = 0
    for key, label in DATABASES:
        found = d.get(key, {})
        if "claims" not in found:
            continue
        limit = target.get(f"{key}_p99_ms")
        p99 = found["claims"]["p99_ms"]
        rows.append(row(f"claim p99, {d['claimers']} agents at once, {label}", p99, "ms",
                        target=limit and f"<= {limit} ms", met=limit and at_most(p99, limit),
                        baseline=found["baseline"]["p99_ms"],
                        ratio=found.get("ratio_p99")))  # fmt: skip
        doubles += found["claims"]["double_assignments"]
    if rows:  # no database measured: no claim was made twice, but none was made at all
        rows.append(row("claims: work assigned twice", doubles, "", target="0", met=doubles == 0))
    return rows


def streams(d: dict) -> list[dict]:
    rows, limit = [], d.get("target", {}).get("p95_ms")
    for key, label in DATABASES:
        found = d.get(key)
        if not found:
            continue
        p95, errors = found["all"]["p95_ms"], found["errors"]
        base = d.get("baseline", {}).get("p95_ms")
        rows.append(row(f"message to screen p95, {d['chats']} chats + {d['desks']} desks, "
                        f"{label} ({errors} errors)", p95, "ms",
                        target=limit and f"<= {limit} ms, 0 errors",
                        met=limit and at_most(p95, limit) and errors == 0, baseline=base,
                        ratio=found.get("ratio_p95_to_baseline")))  # fmt: skip
    return rows


def _contacts(d: dict) -> str:
    n = d.get("about", {}).get("contacts")
    return "? contacts" if n is None else ("1 M" if n == MILLION else f"{n:,}") + " contacts"


def million_contacts(d: dict) -> list[dict]:
    rows, about = [], d.get("about", {})
    limit = about.get("targets", {}).get("p95_ms", 250)
    full = about.get("contacts") == MILLION
    for key, label in DATABASES:
        api = d.get(key, {}).get("api")
        if not api:
            continue
        base = api.get("baseline: /healthz", {}).get("p95_ms")
        # The cold requests too: what is kept between requests (until the rollup job moves
        # its mark) forgotten before each.
        for name in ("dashboard, month, nothing cached", "dashboard, month",
                     "API, month, nothing cached", "API, month", "CSV, month"):  # fmt: skip
            got = api.get(name)
            if not got:
                continue
            rows.append(row(f"{name} p95 at {_contacts(d)}, {label}", got["p95_ms"], "ms",
                            target=f"<= {limit} ms" + ("" if full else " at 1 M"),
                            met=at_most(got["p95_ms"], limit) if full else None, baseline=base,
                            ratio=got.get("p95_ratio_to_baseline")))  # fmt: skip
    return rows


def simulator(d: dict) -> list[dict]:
    rows, about = [], d.get("about", {})
    limit, full = about.get("target_s", 60), about.get("contacts") == MILLION
    for key, label in DATABASES:
        found = d.get(key)
        if not found:
            continue
        for profile in ("france", "denmark"):
            got = found.get(profile)
            if not got:
                continue
            rows.append(row(f"simulator, month replayed under {profile}'s profile at "
                            f"{_contacts(d)}, {label}", got["wall_s"], "s",
                            target=f"<= {limit} s" + ("" if full else " at 1 M"),
                            met=at_most(got["wall_s"], limit) if full else None,
                            baseline=found["baseline_fetch"]["wall_s"],
                            ratio=got.get("ratio_to_baseline_fetch")))  # fmt: skip
    return rows


def channel_shift(d: dict) -> list[dict]:
    rows = []
    for key, label in DATABASES:
        found = d.get(key)
        if found:
            rows.append(row(f"channel-shift month report at {_contacts(d)}, {label}",
                            found["kanal_s"], "s", baseline=found["baseline_s"],
                            ratio=found["ratio"]))  # fmt: skip
    return rows


def language_id(d: dict) -> list[dict]:
    chosen = d["chosen_threshold"]
    at = next(t for t in d["thresholds"] if t["threshold"] == chosen)
    timing = d["timing"]
    return [
        row(f"language identified right when sure (threshold {chosen}, {at['unsure']} of "
            f"{at['right'] + at['wrong'] + at['unsure']} unsure)", at["accuracy_when_sure"], "",
            target=None),
        row("language identification per message", timing["per_message_us"], "µs",
            baseline=timing["baseline_per_message_us"], ratio=timing["ratio_to_baseline"]),
    ]  # fmt: skip


def rasa_memory(d: dict) -> list[dict]:
    rows, stores = [], {s["store"]: s for s in d["stores"]}
    checks = {c["id"]: c for c in d.get("targets", [])}
    base = stores.get("baseline")
    conversations = d.get("about", {}).get("conversations")
    for name, s in stores.items():
        if name == "baseline":
            continue
        flat = checks.get(f"{name}.flat_mib", {})
        rows.append(row(f"Rasa memory growth over the last half of {conversations:,} "
                        f"conversations, kanal's {name} store", s["growth_mib_last_half"], "MiB",
                        target=f"{flat['target']} MiB" if flat else "<= 2 MiB at 10,000",
                        met=flat.get("passed"),
                        baseline=base and base["growth_mib_last_half"]))  # fmt: skip
        ratio = checks.get(f"{name}.turn100_ratio", {})
        rows.append(row(f"Rasa latency at turn 100, kanal's {name} store vs Rasa's default",
                        s["latency_ms_at_turn"]["100"], "ms",
                        target=ratio.get("target") and f"ratio {ratio['target']}",
                        met=ratio.get("passed"),
                        baseline=base and base["latency_ms_at_turn"]["100"],
                        ratio=ratio.get("figure")))  # fmt: skip
    return rows


def surge(d: dict) -> list[dict]:
    at, base = d["surge"], d["baseline_1x"]
    limit = d.get("target", {})
    started = "started" if d.get("surge_started") else "never started"

    def served(run: dict) -> float:  # not left waiting for an agent: bot, digital, callback
        shares = run["route_shares"]
        return round(sum(shares.get(k, 0) for k in ("bot", "digital", "callback")), 3)

    return [
        row(f"surge, {at['contacts']} contacts at {at['rate_per_s']:g}/s against "
            f"{at['desk']['agents']} agents: refused (surge mode {started})", at["refused"], "",
            target=f"{limit.get('refused', 0)}", met=at["refused"] == limit.get("refused", 0),
            baseline=base["refused"]),
        row("surge: dropped (inbound never processed, queued contact abandoned)",
            at["dropped_total"], "", target=f"{limit.get('dropped', 0)}",
            met=at["dropped_total"] == limit.get("dropped", 0), baseline=base["dropped_total"]),
        row("surge: share served without an agent (bot, digital route, callback booked)",
            served(at), "", baseline=served(base)),
        *surge_end(at, base),
    ]  # fmt: skip


def surge_end(at: dict, base: dict) -> list[dict]:
    """When surge mode started and ended, the peak wait, and the surge's callbacks made."""
    if "surge_timeline" not in at:  # written before the surge's end was measured
        return []
    timeline = {e["type"]: e["after_load_start_s"] for e in at["surge_timeline"]}
    started, ended = timeline.get("surge_started"), timeline.get("surge_ended")
    cb = at["surge_callbacks"]
    return [
        row(f"surge: surge mode ended by itself, s after the load began (started at "
            f"{started if started is not None else '-'} s, load {at['load_seconds']:g} s)",
            ended, "s", target="ends", met=ended is not None),
        row("surge: peak wait in the queue (the longest wait, sampled every second)",
            at["peak_wait_seconds"], "s", baseline=base.get("peak_wait_seconds")),
        row(f"surge: callbacks booked for the surge and made afterwards, of {cb['booked']} "
            f"({cb['failed']} failed, {cb['settled']} settled, {cb['pending']} still pending)",
            cb["made"], "", target="0 pending", met=cb["pending"] == 0),
    ]  # fmt: skip


def policy_check(d: dict) -> list[dict]:
    base, rows = d["baseline_denmark_s"], []
    for r in d["sizes"]:
        rows.append(row(f"policy check of a hostile profile of {r['rules']} rules (by boxes; "
                        "baseline: the Danish profile's check)", r["after_s"], "s",
                        baseline=base, ratio=r["after_ratio_to_baseline"]))  # fmt: skip
        before = r["before_s"]  # None: stopped at the limit, its lower bound is shown
        stopped = "" if before is not None else ": more than this, stopped there"
        rows.append(row(f"the same, deciding every combination (the check before){stopped}",
                        r["before_over_s"] if before is None else before, "s", baseline=base,
                        ratio=r["before_ratio_to_baseline"],
                        target="same verdict", met=r["same_verdict_as_before"]))  # fmt: skip
    return rows


def from_targets(d: dict) -> list[dict]:
    """The rows of a `targets` list (`id`/`what`, `value`/`figure`, `target`, verdict)."""
    rows = []
    for t in d.get("targets", []) if isinstance(d.get("targets"), list) else []:
        met = t.get("passed", {"PASS": True, "FAIL": False}.get(t.get("verdict")))
        rows.append(row(t.get("what") or t.get("id"), t.get("value", t.get("figure")),
                        t.get("unit", ""), target=t.get("target"), met=met))  # fmt: skip
    return rows


READERS: dict[str, Callable[[dict], list[dict]]] = {
    "channel_shift": channel_shift,
    "claims": claims,
    "ivr_turn": ivr_turn,
    "language_id": language_id,
    "million_contacts": million_contacts,
    "policy_check": policy_check,
    "rasa_memory": rasa_memory,
    "simulator": simulator,
    "sms_webhook": sms_webhook,
    "streams": streams,
    "surge": surge,
    "turn_cost": turn_cost,
}


def summary(name: str, data: dict) -> list[dict]:
    """The headline rows of a benchmark's results (its own `summary` if it wrote one)."""
    if isinstance(data.get("summary"), list) and name not in READERS:
        return data["summary"]
    try:
        return READERS.get(name, from_targets)(data)
    except (KeyError, TypeError, ValueError, StopIteration, ZeroDivisionError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
        return [row(f"{name}: headline not found in the results ({problem})", None, "")]
