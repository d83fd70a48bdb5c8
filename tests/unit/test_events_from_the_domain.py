"""What happened is recorded by the domain's methods (docs/architecture.md): outside
`router/domain` no code builds an event for the log (`Happened(…)`, `ContactEvent(…)`, or a
call handed one of `router.domain.events`' names), except the journal that writes them.

The one event about no aggregate is allowed by name: the agency's self-service reporting a
need completed (`digital_completed`, possibly for a citizen with no contact).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from router.domain import events
from tests.source_tree import parsed

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("router", "channels", "ivr", "bots")
# The journal writes what the aggregates raised (router/service/journal.py).
WRITERS = ("router/service/journal.py",)
EVENT_NAMES = {k for k, v in vars(events).items() if k.isupper() and isinstance(v, str)}
# Events read, not built (an event type handed to a read of the log).
OBSERVED = {
    ("router/service/followups.py", "DIGITAL_COMPLETED"),
    ("router/service/ratings.py", "SATISFACTION"),  # the board's low ratings
}


def _names_an_event(node: ast.AST) -> str | None:
    """Return the event's name for `ev.NAME` / `events.NAME` (kanal's alias of the module)."""
    if (
        isinstance(node, ast.Attribute)
        and node.attr in EVENT_NAMES
        and isinstance(node.value, ast.Name)
        and node.value.id in ("ev", "events")
    ):
        return node.attr
    return None


def built_events(tree: ast.AST) -> list[tuple[int, str]]:
    """Return (line, what) for each event built in `tree`."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = ast.unparse(node.func).rsplit(".", 1)[-1]
        named = [_names_an_event(a) for a in [*node.args, *(k.value for k in node.keywords)]]
        named = [n for n in named if n]
        if called in ("Happened", "ContactEvent") or named:
            found.append((node.lineno, named[0] if named else called))
    return found


def test_no_event_is_built_outside_the_domain():
    offending = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = path.relative_to(ROOT).as_posix()
            if module.startswith("router/domain/") or "migrations" in path.parts:
                continue
            if module in WRITERS:
                continue
            for line, what in built_events(parsed(path)):
                if (module, what) not in OBSERVED:
                    offending.append(f"{module}:{line}: {what}")
    assert offending == [], "raise it in a domain method instead:\n" + "\n".join(offending)


def test_the_walk_sees_what_it_looks_for():
    source = """
record(uow, contact, ev.CONTACT_OPENED, now, pseudonym)
placed = Happened(ev.AGENT_CALL_PLACED, {})
uow.events.append(ContactEvent(type=ev.DIGITAL_COMPLETED, at=now))
if e.type == ev.QUEUED:
    contact.opened(now, state=ContactState.CLOSED, doc=doc.QUEUED)
"""
    assert [line for line, _ in built_events(ast.parse(source))] == [2, 3, 4]
