"""One composition root, without Flask: the structure docs/architecture.md promises.

bootstrap builds the container; only the app factory (router/entrypoints/app.py) knows the
Flask app; no view, decorator or job finds a part through a global.
"""

import ast
from pathlib import Path

import pytest

from router.entrypoints.bootstrap import bootstrap
from router.entrypoints.container import DurableJob, DurableJobRegistry, Kanal
from tests.fakes import fake_kanal
from tests.source_tree import parsed

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("router", "channels", "ivr", "analytics", "bots")
APP_FACTORY = Path("router/entrypoints/app.py")
# Objects that belong to one app: made at import time they would be shared by every app.
PER_APP = {
    "Flask",
    "Blueprint",
    "CSRFProtect",
    "LoginManager",
    "StaffSignIn",
    "BackgroundScheduler",
    "CollectorRegistry",  # a Prometheus registry: /metrics of one app
}


def sources() -> list[Path]:
    return sorted(
        path.relative_to(ROOT)
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "rasa" not in path.relative_to(ROOT).parts
    )


def tree(path: Path) -> ast.Module:
    return parsed(ROOT / path)


def reads_current_app(module: ast.Module) -> bool:
    for node in ast.walk(module):
        if isinstance(node, ast.Name) and node.id == "current_app":
            return True
        if isinstance(node, ast.Attribute) and node.attr == "current_app":
            return True
        if isinstance(node, ast.ImportFrom) and any(a.name == "current_app" for a in node.names):
            return True
    return False


def test_the_structural_checks_see_what_they_look_for():
    assert reads_current_app(ast.parse("from flask import current_app\n"))
    assert reads_current_app(ast.parse("import flask\nflask.current_app.config\n"))
    assert module_level_objects(ast.parse("bp = Blueprint('x', __name__)\n")) == ["Blueprint"]
    assert module_level_objects(ast.parse("def f():\n    bp = Blueprint('x', 'y')\n")) == []
    assert globals_declared(ast.parse("def f():\n    global _thing\n")) == ["_thing"]


def test_no_module_reads_current_app_outside_the_app_factory():
    found = [str(p) for p in sources() if p != APP_FACTORY and reads_current_app(tree(p))]
    assert found == []


def module_level_objects(module: ast.Module) -> list[str]:
    made = []
    for node in module.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(value, ast.Call):
            func = value.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in PER_APP:
                made.append(name)
    return made


def globals_declared(module: ast.Module) -> list[str]:
    return [n for node in ast.walk(module) if isinstance(node, ast.Global) for n in node.names]


@pytest.mark.parametrize("package", ["router/entrypoints", "channels", "ivr", "analytics"])
def test_no_app_object_is_made_at_import_time_and_no_module_keeps_a_global(package):
    paths = [p for p in sources() if str(p).startswith(package + "/")]
    assert paths
    made = {str(p): module_level_objects(tree(p)) for p in paths}
    kept = {str(p): globals_declared(tree(p)) for p in paths}
    assert {p: m for p, m in made.items() if m} == {}
    assert {p: g for p, g in kept.items() if g} == {}


def test_bootstrap_builds_the_whole_container_on_fakes_without_a_web_app():
    k = fake_kanal()
    assert isinstance(k.kanal, Kanal)
    assert k.kanal.storage is None and k.kanal.engine is None  # no database was opened
    assert set(k.channels.names()) == {"webchat", "sms", "voice"}
    assert k.turns.inbox is k.inbox and k.dialling is k.kanal.dialling
    assert not hasattr(k.kanal, "app")


def test_bootstrap_with_a_unit_of_work_wants_the_inbox_and_the_jobs_too():
    with pytest.raises(ValueError, match="inbox"):
        bootstrap({}, env={}, uow=lambda: None, bot=object(), identify=None)


def test_durable_jobs_run_through_the_registry_by_the_name_they_were_scheduled_under():
    k = fake_kanal()
    assert k.durable.names() == ("run_callback", "run_followup")
    ran = []
    registry = DurableJobRegistry([DurableJob("ring", ran.append)])
    registry.run("ring", 7)
    assert ran == [7]
    with pytest.raises(LookupError, match="no durable job is named 'nothing'"):
        registry.run("nothing", 1)
    with pytest.raises(ValueError, match="two durable jobs"):
        DurableJobRegistry([DurableJob("ring", ran.append), DurableJob("ring", print)])
