"""The SMS webhook benchmark's (a) and (b) in rounds: each ratio is the median of the rounds'
own ratios, every run is kept, each round has its own work dir, and the exactly-once
accounting of every round is checked (benchmarks/sms_webhook)."""

from __future__ import annotations

from types import SimpleNamespace

from benchmarks.sms_webhook import __main__ as bench
from benchmarks.sms_webhook import report


def run(rps: float, p99: float = 10.0, ok: bool = True) -> dict:
    figures = {"requests_per_s": rps, "p50_ms": 1.0, "p90_ms": 5.0, "p99_ms": p99}
    return {**figures, "errors_and_non_2xx": 0, "accounting": {"ok": ok, "problems": []}}


def test_each_ratio_is_the_median_of_the_rounds_own_and_every_run_is_kept(tmp_path, monkeypatch):
    # Bare Flask's rate moves between rounds and kanal with it: the rounds' ratios are 0.75,
    # 0.4 and 0.7 (median 0.7); the medians' ratio would read 3,000 / 5,000 = 0.6.
    bare = iter([run(4_000), run(5_000), run(10_000)])
    kanal = iter([run(3_000, p99=80), run(2_000, p99=60), run(7_000, p99=40)])
    floor = iter([run(1_000), run(2_000), run(3_000)])
    retried = iter([run(4_000), run(4_000), run(4_000)])
    dirs = []

    def recorded(source):  # noqa: ANN001, ANN202
        def measure(work, env, args):  # noqa: ANN001, ANN202
            dirs.append(work)
            return next(source)

        return measure

    monkeypatch.setattr(bench.sms_runs, "baseline", recorded(bare))
    monkeypatch.setattr(bench.sms_runs, "floor", recorded(floor))
    monkeypatch.setattr(bench.sms_runs, "ack_distinct", recorded(kanal))
    monkeypatch.setattr(bench.sms_runs, "ack_retried", recorded(retried))
    results: dict = {}
    args = SimpleNamespace(quick=False, only={"a", "b"})
    base = bench.ack_rounds(tmp_path, {}, args, results)

    a, b = results["a_ack_distinct_webhooks"], results["b_ack_retried_webhook"]
    assert round(a["ratio_kanal_to_baseline_rps"], 3) == 0.7
    assert [round(r["ratio_kanal_to_baseline_rps"], 2) for r in a["rounds"]] == [0.75, 0.4, 0.7]
    assert a["kanal"]["p99_ms"] == 60 and a["kanal"]["runs_p99_ms"] == [80, 60, 40]
    assert base["requests_per_s"] == 5_000 and base["runs_requests_per_s"] == [4_000, 5_000, 10_000]
    assert round(b["ratio_kanal_to_baseline_rps"], 2) == 0.8  # 1.0, 0.8, 0.4
    assert len(b["rounds"]) == 3
    # Each round in a work dir of its own: fresh databases, its own logs.
    assert sorted({d.name for d in dirs}) == ["round-1", "round-2", "round-3"]
    assert [d.name for d in dirs[:4]] == ["round-1"] * 4  # bare, floor, kanal, retried


def test_a_round_that_lost_or_duplicated_a_message_is_named():
    results = {
        "a_ack_distinct_webhooks": {
            "rounds": [{"kanal": run(1, ok=True)}, {"kanal": run(1, ok=False)}]
        },
        "b_ack_retried_webhook": {"rounds": [{"kanal": run(1)}]},
    }
    failed = [name for name, acc in report.accounting(results) if not acc["ok"]]
    assert failed == ["a_ack_distinct_webhooks.rounds[1].kanal"]
    assert len(report.accounting(results)) == 3
