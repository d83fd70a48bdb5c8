"""One name per concept (docs/domain.md, "Words"): no two classes of the product share a name,
and what staff and the API are told about a missing contact says "contact".

A Protocol and its implementation are two classes too: the SQL repositories are named
`Sql…` (`SqlContactRepository` implements the service's `ContactRepository`), as
`SqlUnitOfWork` and `SqlInbox` are. The HTTP API's models (pydantic `BaseModel`s, in the
`*_doc.py` modules) are named after the JSON they describe, which the OpenAPI document shows
by that name: they are unique among themselves, and may share a name with the domain's
class of the same thing (the chat API's `Message` is a `Message` as JSON).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from tests.source_tree import parsed

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("router", "channels", "ivr", "bots", "analytics")

# Clashes in modules other work is changing now (the bot's breaker, the desk's wrap-up, the
# policy simulator), to be renamed there. The list only shrinks: the last test fails when
# an entry no longer clashes.
NOT_YET_RENAMED = {
    "Outcome": {"bots/breaker.py", "router/domain/wrapup.py"},
}


def _modules() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def _is_api_model(node: ast.ClassDef) -> bool:
    return any(ast.unparse(base).endswith("BaseModel") for base in node.bases)


def classes_by_name(modules: list[Path]) -> dict[str, list[str]]:
    """Return where each class is defined, the API's models apart (`name (API model)`)."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in modules:
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.ClassDef):
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
                name = f"{node.name} (API model)" if _is_api_model(node) else node.name
                found[name].append(f"{Path(shown).as_posix()}:{node.lineno}")
    return found


def _modules_of(where: list[str]) -> set[str]:
    return {w.rsplit(":", 1)[0] for w in where}


def _shared() -> dict[str, list[str]]:
    return {name: where for name, where in classes_by_name(_modules()).items() if len(where) > 1}


def test_no_two_classes_of_the_product_share_a_name():
    shared = {
        name: where
        for name, where in _shared().items()
        if not _modules_of(where) <= NOT_YET_RENAMED.get(name, set())
    }
    assert shared == {}, "rename one of each (SQL implementations: Sql…):\n" + "\n".join(
        f"{name}: {', '.join(where)}" for name, where in sorted(shared.items())
    )


def test_every_clash_not_yet_renamed_still_needs_its_place_on_the_list():
    shared = _shared()
    renamed = sorted(name for name in NOT_YET_RENAMED if name not in shared)
    assert renamed == [], f"renamed: remove from NOT_YET_RENAMED: {renamed}"


def test_the_walk_finds_classes_at_any_depth(tmp_path):
    (tmp_path / "a.py").write_text("class Step:\n    class Inner: ...\n")
    (tmp_path / "b.py").write_text("def f():\n    class Step: ...\n")
    (tmp_path / "c.py").write_text(
        "class Step(BaseModel): ...\nclass Inner(pydantic.BaseModel): ...\n"
    )
    found = classes_by_name([tmp_path / "a.py", tmp_path / "b.py", tmp_path / "c.py"])
    assert {name: len(where) for name, where in found.items()} == {
        "Step": 2,
        "Inner": 1,
        "Step (API model)": 1,
        "Inner (API model)": 1,
    }
    assert len(_modules()) > 50


def test_a_missing_contact_is_never_called_a_conversation():
    said = [
        f"{path.relative_to(ROOT).as_posix()}:{node.lineno}"
        for path in _modules()
        for node in ast.walk(parsed(path))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("No such")
        and "conversation" in node.value
    ]
    assert said == [], "say 'No such contact.' (docs/domain.md, Words): " + ", ".join(said)
