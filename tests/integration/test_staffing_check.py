"""`kanal agents check`, and `kanal agents set` warning of what nobody serves any more: a
queue, language and channel kanal routes contacts to with no agent whose profile covers it
(router/domain/staffing.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.conftest import kanal_command
from tests.integration.test_desk import PASSWORD

pytestmark = pytest.mark.integration


@pytest.fixture
def kanal_cli(database_url, tmp_path, kanal):
    return kanal_command(database_url, tmp_path, KANAL_LANGUAGES="da,en")


def test_the_check_lists_what_no_agent_serves_and_set_warns_when_a_language_is_left(
    kanal, kanal_cli
):
    nobody = kanal_cli("agents", "check", "--strict")
    assert nobody.exit_code == 1
    assert "warning: no agent serves queue" in nobody.output
    assert " in da on voice" in nobody.output and " in en on webchat" in nobody.output

    made = kanal_cli(
        "users", "create", "ann", "--role", "agent", "--password-stdin", input=PASSWORD + "\n"
    )
    assert made.exit_code == 0, made.output
    everyone = kanal_cli("agents", "check", "--strict")
    assert everyone.exit_code == 0, everyone.output
    assert "has an agent who serves it" in everyone.output  # no profile: ann takes anything

    danish_only = kanal_cli("agents", "set", "ann", "--languages", "da")
    assert danish_only.exit_code == 0
    assert "warning: no agent serves queue" in danish_only.output
    assert " in en on " in danish_only.output and " in da on " not in danish_only.output
    checked = kanal_cli("agents", "check")
    assert checked.exit_code == 0 and " in en on sms" in checked.output  # a warning, not --strict
