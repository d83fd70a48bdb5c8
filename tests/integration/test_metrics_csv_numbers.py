"""The CSV exports a manager opens in a spreadsheet: a negative figure is a number there
(the formula guard is for text only), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.integration.metrics_support import Citizen, Clock, clocked_app

pytestmark = pytest.mark.integration

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(app_config, bot):
    # A call costs less than a chat with the bot here: self-service saves nothing, it costs.
    config = {**app_config, "KANAL_COST_PHONE": 0.10, "KANAL_COST_DIGITAL": 0.15}
    yield from clocked_app(config, bot, Clock(DAY))


def test_a_negative_saving_is_exported_as_a_number_a_spreadsheet_sums(client, kanal, manager):
    Citizen(kanal.turns).chat("When is my pension paid?", "bye")

    response = client.get(
        "/api/v1/metrics/export.csv",
        query_string={"from": "2026-03-02", "to": "2026-03-02", "group_by": "none"},
        headers=manager,
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    (row,) = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    assert (row["cost"], row["phone_cost_same_demand"]) == ("0.15", "0.1")
    assert row["savings"] == "-0.05"  # not "'-0.05", which a spreadsheet reads as text
