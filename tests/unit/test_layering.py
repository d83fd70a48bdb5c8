"""The house stays as drawn in docs/architecture.md: the import-linter contracts hold."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.unit
def test_import_linter_contracts_are_kept():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# The pure core is held to an allow-list: what it may import, everything else is refused.
# Babel is a pure package (no I/O of its own): the service layer reads kanal's message
# catalogues with it (router/service/translations.py).
ALLOWED = {
    "router.domain": {"router.domain"},
    "router.policy": {"router.domain", "router.policy"},
    "router.service": {"router.domain", "router.policy", "router.service", "babel"},
}


def _imports_of(package: str) -> dict[str, set[str]]:
    import grimp

    graph = grimp.build_graph("router", include_external_packages=True, cache_dir=None)
    found: dict[str, set[str]] = {}
    for module in graph.find_descendants(package) | {package}:
        for imported in graph.find_modules_directly_imported_by(module):
            found.setdefault(imported, set()).add(module)
    return found


@pytest.mark.unit
@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_the_pure_core_imports_only_what_its_allow_list_names(package):
    refused = {
        imported: sorted(importers)
        for imported, importers in _imports_of(package).items()
        if imported.split(".")[0] not in sys.stdlib_module_names
        and not any(imported == a or imported.startswith(a + ".") for a in ALLOWED[package])
    }
    assert refused == {}, f"{package} imports what its allow-list does not name: {refused}"
