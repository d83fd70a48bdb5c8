"""The domain changes state only through its methods (docs/architecture.md).

Walks kanal's code with `ast` and finds, outside `router/domain`:
- no assignment to a state attribute (`x.state = ...`, `x.status = ...`,
  `x.delivery_status = ...`, also in tuple targets and augmented assignments);
- no comparison of a state with a bare string naming a state (`state == "closed"`,
  `Contact.state.in_(("queued", ...))`): code compares the domain's enums.

The state attributes are those of the aggregates: `state` (Contact, QueueItem, Callback,
Followup), `status` (Call) and `delivery_status` (Message). `last_status` (the provider's
last word about a callback's call) and `queue_result` are records of what a provider said,
not states kanal moves, and are not checked.
"""

from __future__ import annotations

import ast
from enum import StrEnum
from functools import cache
from pathlib import Path

import pytest

from router.domain import callbacks, calls, followups, model
from tests.source_tree import parsed

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("router", "channels", "ivr", "bots", "analytics")
STATE_ATTRIBUTES = frozenset({"state", "status", "delivery_status"})

# Words that name a state: every value of the domain's state enums (a call's statuses are
# Twilio's words, `CallStatus`).
STATE_WORDS = {
    member.value
    for module in (model, callbacks, calls, followups)
    for enum in vars(module).values()
    if isinstance(enum, type)
    and issubclass(enum, StrEnum)
    and enum.__name__.endswith(("State", "Status"))
    for member in enum
}

# Not kanal's domain: these play Twilio's part (the local Twilio stand-in and the simulated
# caller), and their `status` is the status of a call at Twilio. Prefixes, so the stand-in
# is found before and after it moves into its own package.
TWILIOS_PART = (
    "channels/sandbox.py",
    "channels/twilio_sandbox/voice.py",
    "channels/twilio_sandbox/",
    "ivr/phone.py",
)

# Not converted yet (issue 14): none left. Whoever adds one here must convert it; the test
# below fails while a listed module has nothing left to allow, so the list only shrinks.
NOT_YET_CONVERTED: set[str] = set()


def _is_state(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr in STATE_ATTRIBUTES
    return isinstance(node, ast.Name) and node.id in STATE_ATTRIBUTES


def _state_words(node: ast.AST) -> list[str]:
    """Return the bare strings naming a state in a constant or a literal tuple/list/set."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        values = [node.value]
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
    else:
        return []
    return [v for v in values if isinstance(v, str) and v in STATE_WORDS]


def findings(source: str | ast.Module) -> list[tuple[int, str]]:
    """Return (line, what) for each state assignment and bare-string state comparison."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source) if isinstance(source, str) else source):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if (
                        isinstance(sub, ast.Attribute)
                        and sub.attr in STATE_ATTRIBUTES
                        and isinstance(sub.ctx, ast.Store)
                    ):
                        found.append((node.lineno, f"assigns .{sub.attr}"))
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_state(s) for s in sides):
                words = [w for s in sides for w in _state_words(s)]
                if words:
                    found.append((node.lineno, f"compares a state with {words[0]!r}"))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("in_", "not_in")
            and _is_state(node.func.value)
        ):
            words = [w for arg in node.args for w in _state_words(arg)]
            if words:
                found.append((node.lineno, f"compares a state with {words[0]!r}"))
    return found


def _modules() -> list[str]:
    return sorted(
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


@cache
def _scan() -> dict[str, list[tuple[int, str]]]:
    found = {}
    for module in _modules():
        if module.startswith("router/domain/") or module.startswith(TWILIOS_PART):
            continue
        hits = findings(parsed(ROOT / module))
        if hits:
            found[module] = hits
    return found


def test_no_state_is_assigned_or_compared_with_a_bare_string_outside_the_domain():
    offending = {m: hits for m, hits in _scan().items() if m not in NOT_YET_CONVERTED}
    assert offending == {}, "\n".join(
        f"{module}:{line}: {what}" for module, hits in offending.items() for line, what in hits
    )


def test_every_module_not_yet_converted_still_needs_its_place_on_the_list():
    found = _scan()
    converted = sorted(m for m in NOT_YET_CONVERTED if m not in found)
    assert converted == [], f"converted: remove from NOT_YET_CONVERTED: {converted}"


def test_the_walk_sees_what_it_looks_for():
    assert len(_modules()) > 50
    source = """
contact.state = "closed"
message.delivery_status, x = "sent", 1
if item.state == "waiting" or "queued" != call.status:
    pass
stmt = select(QueueItem).where(QueueItem.state.in_(("waiting", "assigned")))
ok = contact.state == ContactState.CLOSED and kind == "message" and state_of(x) == "bot"
"""
    assert [line for line, _ in findings(source)] == [2, 3, 4, 4, 6]


def test_the_domain_itself_is_where_states_change():
    assert findings((ROOT / "router/domain/model/contact.py").read_text())
