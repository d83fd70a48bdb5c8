"""The README's benchmark table is what benchmarks/results/*.json say, and nothing else."""

from __future__ import annotations

import json

from benchmarks import headlines, results, table

FIX = "run `.venv/bin/python -m benchmarks.table` and commit README.md"


def test_the_readme_table_is_the_one_generated_from_the_committed_results():
    readme = table.README.read_text(encoding="utf-8")
    assert table.current(readme) == table.render(), f"README's benchmark table is stale: {FIX}"


def test_every_committed_result_has_headline_figures():
    """A benchmark whose keys moved fails here until benchmarks/headlines.py reads them."""
    for file in results.result_files():
        if results.name_of(file) not in headlines.READERS:
            continue  # a new benchmark: its rows are its own `summary` or `targets`
        data = json.loads(file.read_text(encoding="utf-8"))
        rows = data.get("summary") or headlines.summary(results.name_of(file), data)
        assert rows, f"{file.name}: no headline rows (benchmarks/headlines.py)"
        for row in rows:
            assert set(row) == {"metric", "value", "unit", "target", "met", "baseline", "ratio"}
            assert row["value"] is not None, f"{file.name}: {row['metric']}"


def test_results_whose_keys_moved_say_so_in_the_table():
    rows = headlines.summary("ivr_turn", {"without_bot": {"turn": {}}})
    assert rows[0]["value"] is None
    assert "ivr_turn: headline not found" in rows[0]["metric"]
    assert "not measured" in table.figure(rows[0])


def test_a_target_met_or_missed_reads_from_the_figures():
    claims = {
        "claimers": 16,
        "target": {"postgresql_p99_ms": 25},
        "postgresql": {
            "claims": {"p99_ms": 30.0, "double_assignments": 0},
            "baseline": {"p99_ms": 10.0},
            "ratio_p99": 3.0,
        },
    }
    pg, twice = headlines.summary("claims", claims)
    assert (pg["value"], pg["target"], pg["met"], pg["baseline"]) == (30.0, "<= 25 ms", False, 10.0)
    assert table.met(pg) == "**no**"
    assert table.figure(pg) == "30 ms (baseline 10 ms, ratio 3)"
    assert (twice["value"], twice["met"]) == (0, True)


def test_a_million_contact_target_is_not_judged_on_a_quick_run():
    data = {
        "about": {"contacts": 5_000, "targets": {"p95_ms": 250}},
        "sqlite": {"api": {"baseline: /healthz": {"p95_ms": 1.0},
                           "dashboard, month": {"p95_ms": 40.0}}},
    }  # fmt: skip
    (row,) = headlines.summary("million_contacts", data)
    assert row["met"] is None and row["target"] == "<= 250 ms at 1 M"
    assert "5,000 contacts" in row["metric"]


def test_a_quick_run_never_overwrites_a_full_one():
    assert results.path("claims", quick=True) != results.path("claims")
    assert results.name_of(results.path("claims", quick=True)) == "claims"
