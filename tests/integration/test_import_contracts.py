"""The house stays as drawn in docs/architecture.md: the import-linter contracts hold.

This runs the `lint-imports` program in a subprocess, so it lives in the integration tier; the
unit tier checks the layout and the allow-lists in-process (tests/unit/test_layering.py).
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def test_import_linter_contracts_are_kept():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
