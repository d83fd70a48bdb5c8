"""What docs/architecture.md says of the import contracts, held: a `layers` contract over the
whole tree, no contract lists exceptions (`ignore_imports`), and import-linter's default that
fails on a stale exception is not turned off."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def _contracts() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return config["contracts"]


def test_no_contract_lists_exceptions_or_silences_stale_ones():
    loose = [
        c["name"]
        for c in _contracts()
        if c.get("ignore_imports") or "unmatched_ignore_imports_alerting" in c
    ]
    assert loose == []


def test_one_layers_contract_holds_the_whole_tree():
    layered = [c for c in _contracts() if c["type"] == "layers"]
    assert len(layered) == 1
    named = " ".join(str(layer) for layer in layered[0]["layers"])
    for package in ("router", "channels", "ivr", "bots", "analytics"):
        assert package in named, f"{package} is in no layer"
