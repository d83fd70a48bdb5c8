"""Every figure a manager or supervisor reads counts days in one time zone, the agency's
(KANAL_TIMEZONE), on kanal's one clock: at 00:30 in Copenhagen, still the day before in UTC,
the dashboard, the policy simulator and an agent's day all say it is the new day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from router import create_app
from router.domain.access import Viewer
from router.entrypoints.bootstrap import kanal_of
from tests.integration.test_desk import sign_in

pytestmark = pytest.mark.integration

# 23:30 UTC on 4 March is 00:30 on 5 March in Copenhagen (CET, UTC+1).
JUST_AFTER_MIDNIGHT = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)


@pytest.fixture
def app(app_config, bot):
    config = {**app_config, "KANAL_TIMEZONE": "Europe/Copenhagen"}
    app = create_app(config, bot=bot, clock=lambda: JUST_AFTER_MIDNIGHT)
    yield app
    kanal_of(app).close()


def test_the_dashboard_and_the_simulator_end_their_period_on_the_agencys_today(app, staff):
    manager = sign_in(app, staff, "mona", "manager")

    dashboard = manager.get("/dashboard").get_data(as_text=True)
    simulator = manager.get("/dashboard/simulate").get_data(as_text=True)

    assert 'value="2026-03-05"' in dashboard
    assert 'value="2026-03-05"' in simulator


def test_an_agents_day_begins_at_the_agencys_midnight(app, staff):
    kanal = kanal_of(app)
    staff("ann", "agent")
    staff("sue", "supervisor")
    with kanal.uow() as uow:
        ann, sue = uow.users.by_username("ann").id, uow.users.by_username("sue").id

    day = kanal.supervision.agent_day(Viewer(sue, "sue", "supervisor"), ann)

    assert day.day == date(2026, 3, 5)
