"""kanal refuses to start with a profile that could trap a citizen, naming the rule, as
`kanal policy check` refuses it (before, the web app started and ran it)."""

from __future__ import annotations

import pytest

from router import create_app
from router.policy import ProfileError
from tests.unit.test_hostile_profiles import HOSTILE

pytestmark = pytest.mark.integration


def test_the_app_does_not_start_with_a_profile_that_traps_exempt_citizens(
    app_config, bot, tmp_path
):
    path = tmp_path / "hostile.toml"
    path.write_text(HOSTILE["exempt-bot-only"], encoding="utf-8")
    with pytest.raises(ProfileError) as refused:
        create_app({**app_config, "KANAL_POLICY": str(path)}, bot=bot)
    assert "rule 'exempt-bot-only' traps a citizen who has a valid exemption" in str(refused.value)
