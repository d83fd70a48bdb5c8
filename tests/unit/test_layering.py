"""The house stays as drawn in docs/architecture.md: the layout and the allow-lists hold.

`lint-imports` itself runs in tests/integration/test_import_contracts.py (a subprocess).
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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


# -- the layout: every part of the tree has a layer, and no two parts import each other ----

PACKAGES = ("router", "bots", "channels", "ivr", "analytics")


def _layers_contract() -> list[str]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    return [name.strip() for layer in layers for name in layer.replace(":", "|").split("|")]


@pytest.mark.unit
def test_every_part_of_the_router_has_a_place_in_the_layers_contract():
    layered = set(_layers_contract())
    parts = {
        f"router.{path.stem}"
        for path in (ROOT / "router").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    assert parts - layered == set(), "name each part of router/ in the layers contract"
    assert {"channels", "ivr", "analytics", "bots"} <= layered


def import_cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """Return the groups of nodes that import each other, directly or not (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(imports.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                other = stack.pop()
                group.append(other)
                if other == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(imports):
        if node not in index:
            visit(node)
    return cycles


def _module_imports() -> dict[str, set[str]]:
    import grimp

    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    return {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}


def _part(module: str) -> str:
    """Return the part of the tree a module belongs to: `router.service`, `channels.sms`..."""
    return ".".join(module.split(".")[:2])


@pytest.mark.unit
def test_the_cycle_finder_finds_a_cycle_through_three_parts():
    imports = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(imports) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.unit
def test_no_two_modules_import_each_other():
    assert import_cycles(_module_imports()) == []


@pytest.mark.unit
def test_no_two_parts_of_the_tree_import_each_other():
    parts: dict[str, set[str]] = {}
    for module, imported in _module_imports().items():
        if module in PACKAGES:  # a root package's __init__ (router's `create_app` shortcut)
            continue
        parts.setdefault(_part(module), set()).update(
            _part(m) for m in imported if _part(m) != _part(module)
        )
    assert import_cycles(parts) == []
