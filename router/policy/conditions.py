"""The `when` language of profile rules: parse a condition and test it against a context.

A rule's `when` is a table of conditions that must all hold. Each key names a field of the
context (or `exempt` / `exemption`, derived from the citizen's valid exemptions); its value is

- a scalar: equality (`channel = "voice"`, `asked_for_person = true`);
- a list: one of (`need = ["goodbye", "thanks"]`);
- a table of operators, all of which must hold: `at_least`, `at_most`, `below`, `above` for
  numbers (`bot_failures = { at_least = 2 }`), and `not` (a value or a list) for any field.

`exemption` tests grounds: a scalar or list means "has any of these grounds", `not` means
"has none of them". A need names an intent, optionally qualified ("apply_benefit:pension");
`need = "apply_benefit"` matches both. `need` and `age_band` are "none"/"unknown" when the
context has no value. A number comparison never holds on an unknown value (no confidence
before the bot answers).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from typing import Any

from router.policy.context import AGE_BANDS, CHANNELS, EXEMPTION_GROUNDS, PolicyContext

NO_NEED = "none"
UNKNOWN_AGE = "unknown"

NUMBER_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "at_least": operator.ge,
    "at_most": operator.le,
    "below": operator.lt,
    "above": operator.gt,
}
OPERATORS = (*NUMBER_OPERATORS, "not")
_NAME = re.compile(r"^[a-z][a-z0-9_:]*$")


@dataclass(frozen=True)
class Field:
    """A field a condition can test: its kind and, for closed sets, the allowed values."""

    name: str
    kind: str  # "bool" | "int" | "float" | "choice" | "name" | "grounds"
    choices: tuple[str, ...] = ()
    read: Callable[[PolicyContext], Any] = lambda ctx: None


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("channel", "choice", CHANNELS, lambda c: c.channel),
        Field("exempt", "bool", read=lambda c: bool(c.exemptions)),
        Field("exemption", "grounds", EXEMPTION_GROUNDS, lambda c: frozenset(c.exemptions)),
        Field("age_band", "choice", (*AGE_BANDS, UNKNOWN_AGE), lambda c: c.age_band or UNKNOWN_AGE),
        Field("identified", "bool", read=lambda c: c.identified),
        Field("need", "name", read=lambda c: c.need or NO_NEED),
        Field("confidence", "float", read=lambda c: c.confidence),
        Field("bot_failures", "int", read=lambda c: c.bot_failures),
        Field("bot_available", "bool", read=lambda c: c.bot_available),
        Field("asked_for_person", "bool", read=lambda c: c.asked_for_person),
        Field("business_hours", "bool", read=lambda c: c.business_hours),
        Field("queue_wait_seconds", "int", read=lambda c: c.queue_wait_seconds),
        Field("repeat_contact", "bool", read=lambda c: c.repeat_contact),
        Field("digital_offered", "bool", read=lambda c: c.digital_offered),
        Field("surge", "bool", read=lambda c: c.surge),
    )
}


class ConditionError(ValueError):
    """A condition that does not parse; the message says what is wrong."""


@dataclass(frozen=True)
class Condition:
    """One test of one field: `op` is "eq", "in", "not" or a number operator."""

    field: str
    op: str
    value: Any
    holds: Callable[[PolicyContext], bool] = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Compiled once: the invariant check calls this hundreds of thousands of times.
        object.__setattr__(self, "holds", _compile(FIELDS[self.field], self.op, self.value))


def _compile(field: Field, op: str, value: Any) -> Callable[[PolicyContext], bool]:
    """Return a test of the context for one condition."""
    read = field.read
    if field.kind == "grounds":
        wanted = frozenset(value if isinstance(value, tuple) else (value,))
        if op == "not":
            return lambda ctx: wanted.isdisjoint(read(ctx))
        return lambda ctx: not wanted.isdisjoint(read(ctx))
    if field.kind == "name":
        # "apply_benefit" also matches the qualified need "apply_benefit:pension".
        wanted = frozenset(value if isinstance(value, tuple) else (value,))

        def named(ctx: PolicyContext) -> bool:
            need = read(ctx)
            return need in wanted or need.partition(":")[0] in wanted

        return (lambda ctx: not named(ctx)) if op == "not" else named
    if op == "eq":
        return lambda ctx: read(ctx) == value
    if op == "in":
        return lambda ctx: read(ctx) in value
    if op == "not":
        if isinstance(value, tuple):
            return lambda ctx: read(ctx) not in value
        return lambda ctx: read(ctx) != value
    compare = NUMBER_OPERATORS[op]

    def number(ctx: PolicyContext) -> bool:
        actual = read(ctx)
        return actual is not None and compare(actual, value)

    return number


def parse_when(when: Any, channels: tuple[str, ...] = CHANNELS) -> tuple[Condition, ...]:
    """Parse a rule's `when` table into conditions, or raise ConditionError.

    `channels` are the names a `channel` condition may take: those of kanal's registry.
    """
    if not isinstance(when, dict):
        raise ConditionError("'when' must be a table of conditions, e.g. when = { exempt = true }")
    conditions: list[Condition] = []
    for name, spec in when.items():
        field = FIELDS.get(name)
        if field is None:
            raise ConditionError(f"unknown condition '{name}' (known: {', '.join(FIELDS)})")
        if name == "channel":
            field = replace(field, choices=tuple(channels))
        if isinstance(spec, dict):
            if not spec:
                raise ConditionError(f"condition '{name}' has an empty table of operators")
            for op, value in spec.items():
                conditions.append(_operator(field, op, value))
        elif isinstance(spec, list):
            conditions.append(Condition(name, "in", _values(field, spec)))
        else:
            conditions.append(Condition(name, "eq", _value(field, spec)))
    return tuple(conditions)


def _operator(field: Field, op: str, value: Any) -> Condition:
    if op not in OPERATORS:
        raise ConditionError(
            f"unknown operator '{op}' in condition '{field.name}' (known: {', '.join(OPERATORS)})"
        )
    if op == "not":
        parsed = _values(field, value) if isinstance(value, list) else _value(field, value)
        return Condition(field.name, "not", parsed)
    if field.kind not in ("int", "float"):
        raise ConditionError(f"'{op}' compares numbers, but '{field.name}' is not a number")
    return Condition(field.name, op, _value(field, value))


def _values(field: Field, values: list) -> tuple:
    if not values:
        raise ConditionError(f"condition '{field.name}' has an empty list")
    return tuple(_value(field, v) for v in values)


def _value(field: Field, value: Any) -> Any:
    kind = field.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConditionError(f"'{field.name}' takes true or false, not {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConditionError(f"'{field.name}' takes a whole number >= 0, not {value!r}")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ConditionError(f"'{field.name}' takes a number from 0 to 1, not {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ConditionError(f"'{field.name}' takes a name in quotes, not {value!r}")
    if field.choices and value not in field.choices:
        raise ConditionError(
            f"'{field.name}' cannot be {value!r} (allowed: {', '.join(field.choices)})"
        )
    if not field.choices and not _NAME.match(value):
        raise ConditionError(
            f"'{field.name}' takes an intent name like \"payment_date\", not {value!r}"
        )
    return value
