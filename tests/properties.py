"""How hard the property tests search.

The unit tier runs a quick search, a fifth of each property test's examples, so that it stays
fast enough to run on every save. `make test` sets ``KANAL_HYPOTHESIS=deep`` and every property
test then draws its full count, so the whole suite searches as deeply as before.
"""

from __future__ import annotations

import os

from hypothesis import settings

PROFILE = os.environ.get("KANAL_HYPOTHESIS", "quick")
if PROFILE not in ("quick", "deep"):
    raise ValueError(f"KANAL_HYPOTHESIS must be 'quick' or 'deep', not {PROFILE!r}")


def search(examples: int) -> settings:
    """Settings for a property test that draws `examples` cases in the deep search."""
    drawn = examples if PROFILE == "deep" else max(20, examples // 5)
    return settings(max_examples=drawn, deadline=None)
