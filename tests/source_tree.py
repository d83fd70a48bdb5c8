"""kanal's own source files, parsed once per test session.

Several structural tests (tests/unit/test_state_changes.py, test_composition_root.py) walk
the same modules; parsing is pure, so each file is read and parsed once and the tree shared.
Callers only read the trees, never change them.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path


@cache
def parsed(path: Path) -> ast.Module:
    """Return the syntax tree of the Python file at `path` (absolute)."""
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
