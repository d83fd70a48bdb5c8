"""The digital-first policy: profiles of ordered rules, a pure decide(), and the invariant check."""

from router.policy.context import (
    AGE_BANDS,
    ASSISTED_SERVICE,
    CHANNELS,
    EXEMPTION_GROUNDS,
    Action,
    Decision,
    PolicyContext,
)
from router.policy.engine import decide
from router.policy.invariant import (
    MAX_STEPS,
    CheckReport,
    Violation,
    check_profile,
    check_profile_file,
    refuse_traps,
)
from router.policy.profile import (
    Profile,
    ProfileError,
    Rule,
    available_profiles,
    load_profile,
    parse_profile,
)
from router.policy.search import Step

__all__ = [
    "AGE_BANDS",
    "ASSISTED_SERVICE",
    "CHANNELS",
    "EXEMPTION_GROUNDS",
    "MAX_STEPS",
    "Action",
    "CheckReport",
    "Decision",
    "PolicyContext",
    "Profile",
    "ProfileError",
    "Rule",
    "Step",
    "Violation",
    "available_profiles",
    "check_profile",
    "check_profile_file",
    "decide",
    "load_profile",
    "parse_profile",
    "refuse_traps",
]
