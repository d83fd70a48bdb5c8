"""API tokens end: each expires (`KANAL_API_TOKEN_DAYS`, 90 days by default) and can be
revoked one by one; an expired token is told so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from router.entrypoints.auth import create_token, create_user

pytestmark = pytest.mark.integration
URL = "/api/v1/metrics/channel-shift?from=2026-01-01&to=2026-01-31&group_by=channel"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def boss(kanal):
    create_user(kanal.uow, "boss", "correct horse battery", "manager")
    return "boss"


def test_a_token_past_its_days_is_refused_and_told_it_expired(client, kanal, boss):
    now = datetime.now(UTC)
    fresh = create_token(kanal.uow, "fresh", boss, now=now - timedelta(days=89))
    old = create_token(kanal.uow, "old", boss, now=now - timedelta(days=91))

    assert client.get(URL, headers=bearer(fresh)).status_code == 200
    refused = client.get(URL, headers=bearer(old))
    assert refused.status_code == 401
    assert "expired" in refused.get_json()["error"]
    assert (now - timedelta(days=1)).date().isoformat() in refused.get_json()["error"]


def test_the_days_a_token_lasts_are_the_agencys(client, kanal, boss):
    week_ago = datetime.now(UTC) - timedelta(days=7)
    short = create_token(kanal.uow, "short", boss, days=5, now=week_ago)
    long = create_token(kanal.uow, "long", boss, days=10, now=week_ago)

    assert client.get(URL, headers=bearer(short)).status_code == 401
    assert client.get(URL, headers=bearer(long)).status_code == 200
