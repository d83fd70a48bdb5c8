"""Policy profiles: ordered rules read from a declarative TOML file and checked on load."""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from router.domain.routing import Routing, skill_for_need
from router.policy.conditions import Condition, ConditionError, parse_when
from router.policy.context import CHANNELS, Action
from router.policy.queues import parse_routing
from router.policy.surge import SurgeRules, parse_instead_of, parse_surge

PROFILES_DIR = Path(__file__).parent / "profiles"
DEFAULT_RULE_ID = "default"
# Words a reason may quote from the context; anything else in braces is a typo.
REASON_FIELDS = ("grounds", "channel", "need", "bot_failures", "skill", "wait_minutes")

_TOP_KEYS = {
    "name", "description", "default_skill", "repeat_contact_priority", "skills", "rule", "routing",
    "surge",
}  # fmt: skip
_TOP_KEYS_REQUIRED = {"name", "description", "default"}
_RULE_KEYS = {"id", "when", "action", "reason", "skill", "priority"}
_DEFAULT_KEYS = {"action", "reason", "skill", "priority"}
_SURGE_RULE_KEYS = {*_RULE_KEYS, "instead_of"}
_SLUG = re.compile(r"^[a-z][a-z0-9_-]*$")


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the file, the rule and the problem."""


@dataclass(frozen=True)
class Rule:
    """When all conditions hold, take the action for the reason given."""

    id: str
    action: Action
    reason: str
    when: tuple[Condition, ...] = ()
    skill: str | None = None
    priority: int = 0
    # A surge rule only: the profile's own actions it replaces (empty: any).
    instead_of: tuple[Action, ...] = ()


@dataclass(frozen=True)
class Profile:
    """A country's or agency's digital-first policy: ordered rules, first match wins."""

    name: str
    description: str
    rules: tuple[Rule, ...]
    default: Rule
    skills: tuple[tuple[str, str], ...] = ()
    default_skill: str = "general"
    repeat_contact_priority: int = 1
    source: str = ""
    # The channels it was read against (the registry's): the invariant check walks them all.
    channels: tuple[str, ...] = CHANNELS
    # Queues, capacities and timers of assisted work (router/policy/queues.py).
    routing: Routing = Routing()
    # Surge mode: its thresholds and the rules it applies first (router/policy/surge.py).
    surge: SurgeRules | None = None

    def skill_for(self, need: str | None) -> str:
        """Return the queue skill for a need; "intent:qualifier" tries the qualifier first."""
        return skill_for_need(self.skills, self.default_skill, need)

    @property
    def surge_rules(self) -> tuple[Rule, ...]:
        return self.surge.rules if self.surge is not None else ()

    def rule(self, rule_id: str) -> Rule:
        """Return the rule with this id (the default rule is "default")."""
        for rule in (*self.rules, *self.surge_rules, self.default):
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def available_profiles() -> list[str]:
    """Return the names of the profiles shipped with kanal."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.toml"))


def load_profile(name_or_path: str | Path, channels: tuple[str, ...] = CHANNELS) -> Profile:
    """Load a shipped profile by name, or any profile file by path, validating it.

    `channels` are the channels a rule may name: the registry's (bootstrap gives them).
    """
    path = Path(name_or_path)
    is_path = path.suffix == ".toml" or len(path.parts) > 1
    if not is_path:
        path = PROFILES_DIR / f"{name_or_path}.toml"
        if not path.is_file():
            raise ProfileError(
                f"unknown policy profile '{name_or_path}' "
                f"(shipped: {', '.join(available_profiles())}; or give a path to a .toml file)"
            )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the profile ({exc.strerror or exc})") from exc
    return parse_profile(text, source=str(path), channels=tuple(channels))


@lru_cache(maxsize=32)  # a Profile is immutable: the same text parses to the same profile
def parse_profile(
    text: str, source: str = "<profile>", channels: tuple[str, ...] = CHANNELS
) -> Profile:
    """Parse and validate a profile's TOML text; errors name `source` and the rule."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: not valid TOML: {exc}") from exc
    try:
        return _profile(data, source, tuple(channels))
    except ProfileError:
        raise
    except (ConditionError, ValueError) as exc:
        raise ProfileError(f"{source}: {exc}") from exc


def _profile(data: dict[str, Any], source: str, channels: tuple[str, ...]) -> Profile:
    unknown = set(data) - _TOP_KEYS - {"default"}
    if unknown:
        raise ProfileError(
            f"{source}: unknown setting(s) {', '.join(sorted(unknown))} "
            f"(allowed: {', '.join(sorted(_TOP_KEYS | {'default'}))})"
        )
    missing = _TOP_KEYS_REQUIRED - set(data)
    if missing:
        raise ProfileError(f"{source}: missing {', '.join(sorted(missing))}")
    name, description = data["name"], data["description"]
    if not isinstance(name, str) or not _SLUG.match(name):
        raise ProfileError(f"{source}: 'name' must be a lowercase name like \"denmark\"")
    if not isinstance(description, str) or not description.strip():
        raise ProfileError(f"{source}: 'description' must be a non-empty text")
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list):
        raise ProfileError(f"{source}: write each rule as a [[rule]] table")
    rules = tuple(_rule(raw, i, source, channels) for i, raw in enumerate(raw_rules, start=1))
    surge = parse_surge(
        data.get("surge"),
        source,
        lambda raw, i, src: _rule(raw, i, src, channels, surge=True),
    )
    seen: set[str] = set()
    for rule in (*rules, *(surge.rules if surge else ())):
        if rule.id in seen or rule.id == DEFAULT_RULE_ID:
            raise ProfileError(f"{source}: rule '{rule.id}': the id is used twice")
        seen.add(rule.id)
    default = data["default"]
    if not isinstance(default, dict):
        raise ProfileError(f"{source}: [default] must be a table with action and reason")
    _keys(default, _DEFAULT_KEYS, f"{source}: [default]")
    default_rule = _rule({**default, "id": DEFAULT_RULE_ID}, 0, source, channels)
    skills = data.get("skills", {})
    if not isinstance(skills, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and _SLUG.match(v) for k, v in skills.items()
    ):
        raise ProfileError(
            f'{source}: [skills] maps needs to skill names, e.g. pension = "pension"'
        )
    default_skill = data.get("default_skill", "general")
    if not isinstance(default_skill, str) or not _SLUG.match(default_skill):
        raise ProfileError(f"{source}: 'default_skill' must be a skill name like \"general\"")
    bonus = data.get("repeat_contact_priority", 1)
    if isinstance(bonus, bool) or not isinstance(bonus, int) or not 0 <= bonus <= 9:
        raise ProfileError(f"{source}: 'repeat_contact_priority' must be a whole number 0-9")
    return Profile(
        name=name,
        description=description.strip(),
        rules=rules,
        default=default_rule,
        skills=tuple(sorted(skills.items())),
        default_skill=default_skill,
        repeat_contact_priority=bonus,
        source=source,
        channels=channels,
        routing=parse_routing(
            data.get("routing"),
            source,
            skills=tuple(sorted(skills.items())),
            default_skill=default_skill,
            channels=channels,
        ),  # fmt: skip
        surge=surge,
    )


def _keys(raw: dict, allowed: set[str], where: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise ProfileError(
            f"{where}: unknown field(s) {', '.join(sorted(unknown))} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )


def _rule(
    raw: Any, index: int, source: str, channels: tuple[str, ...] = CHANNELS, *, surge: bool = False
) -> Rule:
    if not isinstance(raw, dict):
        raise ProfileError(f"{source}: rule {index} must be a table")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _SLUG.match(rule_id):
        raise ProfileError(
            f"{source}: rule {index} needs an 'id' of lowercase letters, digits, '-' and '_'"
        )
    where = f"{source}: rule '{rule_id}'" if index else f"{source}: [default]"
    if surge:
        where = f"{source}: surge rule '{rule_id}'"
    _keys(raw, _SURGE_RULE_KEYS if surge else _RULE_KEYS, where)
    if "action" not in raw or "reason" not in raw:
        raise ProfileError(f"{where}: needs both 'action' and 'reason'")
    try:
        action = Action(raw["action"])
    except ValueError:
        known = ", ".join(a.value for a in Action)
        raise ProfileError(f"{where}: unknown action {raw['action']!r} (known: {known})") from None
    reason = raw["reason"]
    if not isinstance(reason, str) or not reason.strip():
        raise ProfileError(f"{where}: 'reason' must be a plain-language text")
    _check_reason(reason, where)
    skill = raw.get("skill")
    if skill is not None and (not isinstance(skill, str) or not _SLUG.match(skill)):
        raise ProfileError(f"{where}: 'skill' must be a skill name like \"pension\"")
    priority = raw.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 9:
        raise ProfileError(f"{where}: 'priority' must be a whole number 0-9 (higher is sooner)")
    try:
        when = parse_when(raw.get("when", {}), channels)
    except ConditionError as exc:
        raise ProfileError(f"{where}: {exc}") from None
    try:
        instead_of = parse_instead_of(raw.get("instead_of"), where)
    except ValueError as exc:
        raise ProfileError(str(exc)) from None
    return Rule(rule_id, action, reason.strip(), when, skill, priority, instead_of)


def _check_reason(reason: str, where: str) -> None:
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(reason) if f is not None]
    except ValueError as exc:
        raise ProfileError(f"{where}: 'reason' has unbalanced braces ({exc})") from None
    for name in names:
        if name not in REASON_FIELDS:
            raise ProfileError(
                f"{where}: 'reason' quotes {{{name}}}; it may quote {', '.join(REASON_FIELDS)}"
            )
