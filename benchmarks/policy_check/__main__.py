"""The trap check of a hostile policy profile: time by number of rules, before and after.

    python -m benchmarks.policy_check [--quick] [--sizes=6,12,24,48] [--before-limit=SECONDS]

Outsiders probe kanal with profiles written to trap citizens; kanal checks a profile when it
starts (router/policy/invariant.py) and refuses one that traps. Each size is a profile of that
many rules (`hostile()`: seeded, the three ways out among rules on hours, waits, grounds, ages,
channels, needs, confidence, failures, repeat contacts, a digital offer and the bot's being
down, each sending some citizens to the bot, a digital route or a person), checked

- after: by boxes (`check_profile`, router/policy/turns.py), best of a few runs;
- before: deciding every combination (`check_profile(..., exhaustive=True)`, the check as it
  was), in a child process stopped after --before-limit seconds (then "over" that limit);

each a ratio to the baseline in the same run: the shipped Danish profile's check (by boxes).
Both must find the same rules trapping (checked where "before" finished).
Results: benchmarks/results/policy_check.json (.quick.json with --quick).
"""

from __future__ import annotations

import multiprocessing
import random
import sys
import time

from benchmarks import results
from router.policy import check_profile, load_profile, parse_profile

SIZES = (6, 12, 24, 48)
CONDITIONS = [
    ("exempt", ("true", "false")),
    ("exemption", ('"language"', '["impairment", "homeless"]', '{ not = "emigrated" }',
                   '"no_computer"', '"no_digital_id"')),
    ("channel", ('"voice"', '"sms"', '["webchat", "sms"]')),
    ("age_band", ('"80_plus"', '"under_15"', '["65_79", "80_plus"]')),
    ("identified", ("true", "false")),
    ("need", ('"goodbye"', '"none"', '["payment_date", "change_address"]', '"complaint"')),
    ("confidence", tuple(f"{{ {op} = {x} }}" for op in ("below", "at_least")
                         for x in (0.3, 0.5, 0.7, 0.9))),
    ("bot_failures", tuple(f"{{ {op} = {n} }}" for op in ("at_least", "at_most", "below", "above")
                           for n in range(4))),
    ("business_hours", ("true", "false")),
    ("queue_wait_seconds", tuple(f"{{ {op} = {s} }}" for op in ("above", "at_most")
                                 for s in (60, 300, 600, 900, 1800, 3600))),
    ("repeat_contact", ("true", "false")),
    ("digital_offered", ("true", "false")),
    ("bot_available", ("true", "false")),
]  # fmt: skip
WAYS_OUT = [
    ("exempt", "{ exempt = true }"),
    ("asked", "{ asked_for_person = true }"),
    ("failed", "{ bot_failures = { at_least = 2 } }"),
]
ACTIONS = ("self_service", "offer_digital", "assisted", "callback", "self_service")


def hostile(size: int, seed: int = 1) -> str:
    """A profile of `size` rules: the ways out to a person among random ones."""
    rng = random.Random(seed)
    rules = []
    for i in range(size - len(WAYS_OUT)):
        fields = rng.sample(CONDITIONS, rng.randint(1, 3))
        when = ", ".join(f"{name} = {rng.choice(values)}" for name, values in fields)
        rules.append((f"r{i}", f"{{ {when} }}", rng.choice(ACTIONS)))
    for rule_id, when in WAYS_OUT:
        rules.insert(rng.randint(0, len(rules)), (rule_id, when, "assisted"))
    text = f'name = "hostile-{size}"\ndescription = "Written to trap."\n'
    for rule_id, when, action in rules:
        text += f'[[rule]]\nid = "{rule_id}"\nwhen = {when}\naction = "{action}"\nreason = "R."\n'
    return text + '[default]\naction = "self_service"\nreason = "D."\n'


def timed(profile, exhaustive: bool = False) -> tuple[float, list]:
    started = time.perf_counter()
    report = check_profile(profile, exhaustive=exhaustive)
    seconds = time.perf_counter() - started
    return seconds, sorted((v.rule_id, v.trigger, v.problem) for v in report.violations)


def best(profile, repeats: int) -> tuple[float, list]:
    runs = [timed(profile) for _ in range(repeats)]
    return min(r[0] for r in runs), runs[0][1]


def _before(text: str, out) -> None:  # noqa: ANN001 - a multiprocessing queue
    out.put(timed(parse_profile(text), exhaustive=True))


def before(text: str, limit: float) -> tuple[float | None, list | None]:
    """The exhaustive check in a child process; (None, None) when it outlasts `limit`."""
    out = multiprocessing.Queue()
    child = multiprocessing.Process(target=_before, args=(text, out))
    child.start()
    child.join(limit)
    if child.is_alive():
        child.terminate()
        child.join()
        return None, None
    return out.get()


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    options = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    sizes = tuple(int(n) for n in options.get("sizes", ",".join(map(str, SIZES))).split(","))
    limit = float(options.get("before-limit", 20 if quick else 300))
    repeats = 3 if quick else 5
    denmark = load_profile("denmark")
    baseline, _ = best(denmark, repeats)
    rows = []
    for size in sizes:
        text = hostile(size)
        after, found = best(parse_profile(text), repeats)
        was, found_before = before(text, limit)
        row = {
            "rules": size,
            "after_s": round(after, 4),
            "after_ratio_to_baseline": round(after / baseline, 1),
            "before_s": None if was is None else round(was, 3),
            "before_over_s": limit if was is None else None,
            "before_ratio_to_baseline": None if was is None else round(was / baseline, 1),
            "speedup": None if was is None else round(was / after, 1),
            "rules_trapping": len({f[0] for f in found}),
            "same_verdict_as_before": None if found_before is None else found == found_before,
        }
        rows.append(row)
        shown = f"{was:.2f} s" if was is not None else f"over {limit:g} s (stopped)"
        print(f"{size:3} rules: after {after:.3f} s (x{row['after_ratio_to_baseline']} Denmark), "
              f"before {shown}; {row['rules_trapping']} rules trap", flush=True)  # fmt: skip
    result = {
        "benchmark": "policy_check",
        "about": {"repeats": repeats, "before_limit_s": limit},
        "baseline_denmark_s": round(baseline, 4),
        "sizes": rows,
        "all_verdicts_agree": all(r["same_verdict_as_before"] is not False for r in rows),
    }
    print(f"baseline (Denmark's check): {baseline:.4f} s")
    print(f"written: {results.write('policy_check', result, quick=quick)}")
    return 0 if result["all_verdicts_agree"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
