"""The channels' names have one source, router/domain/channels.py: the shipped channel
modules name themselves from it, and the tables that list channels (capacity, the desk's and
the dashboard's words, the policy's default channels, the survey's) cover exactly those."""

from __future__ import annotations

import importlib

import pytest

import channels
from analytics import dashboard, dashboard_words
from analytics.metrics.facts import PHONE
from router.domain import channels as domain
from router.domain.events import DIGITAL_CHANNELS
from router.domain.routing import DEFAULT_CAPACITY
from router.domain.sla import CALLBACK_CHANNELS
from router.entrypoints.desk.words import CHANNEL_WORDS
from router.policy import CHANNELS as POLICY_CHANNELS
from router.service.survey import SurveySettings

pytestmark = pytest.mark.unit


def test_the_shipped_channel_modules_are_named_by_the_domain_in_its_order():
    names = tuple(importlib.import_module(m).NAME for m in channels.INSTALLED)
    assert names == domain.CHANNELS == (domain.WEBCHAT, domain.SMS, domain.VOICE)


def test_every_table_of_channels_covers_the_domains_channels():
    assert set(DEFAULT_CAPACITY) == set(CHANNEL_WORDS) == set(domain.CHANNELS)
    assert POLICY_CHANNELS == domain.CHANNELS
    assert {g for kind, g in dashboard.NARROWING if kind == "channel"} == set(domain.CHANNELS)
    assert set(domain.CHANNELS) <= set(dashboard_words.GROUP_WORDS)
    assert DIGITAL_CHANNELS == CALLBACK_CHANNELS == domain.WRITTEN == {domain.WEBCHAT, domain.SMS}
    assert set(SurveySettings().channels) == domain.WRITTEN
    assert PHONE == domain.VOICE  # the metrics are pure (standard library only): a copy
