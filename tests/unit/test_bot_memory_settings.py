"""The tracker store settings reach the Rasa server, checked, and endpoints.yml reads them all."""

from __future__ import annotations

import re

import pytest

from bots.serve import TRACKER_SETTINGS, rasa_server_env, tracker_store_env
from bots.train import PROJECT_DIR
from router.config import from_env

pytestmark = pytest.mark.unit


def test_by_default_the_bot_remembers_in_its_own_process_within_bounds():
    env = tracker_store_env(from_env({}))

    assert env == {
        "KANAL_RASA_TRACKER_STORE": "memory",
        "KANAL_RASA_TRACKER_MAX_EVENTS": "60",
        "KANAL_RASA_TRACKER_IDLE_MINUTES": "60.0",
        "KANAL_RASA_TRACKER_MAX_CONVERSATIONS": "5000",
        "KANAL_RASA_LOCK_STORE_TYPE": "in_memory",
        "KANAL_RASA_LOCK_STORE": "",
    }


def test_a_redis_lock_store_is_named_only_when_asked_for():
    env = tracker_store_env(from_env({"KANAL_RASA_LOCK_STORE": "redis://cache.internal:6379/3"}))

    assert env["KANAL_RASA_LOCK_STORE_TYPE"] == "kanal_tracker_store.RedisUrlLockStore"
    assert env["KANAL_RASA_LOCK_STORE"] == "redis://cache.internal:6379/3"
    # in parts too, for Rasa's own `type: redis` lock store (deploy/rasa/endpoints.yml)
    assert (
        env["KANAL_RASA_LOCK_STORE_HOST"],
        env["KANAL_RASA_LOCK_STORE_PORT"],
        env["KANAL_RASA_LOCK_STORE_DB"],
    ) == ("cache.internal", "6379", "3")


def test_a_redis_url_and_limits_are_passed_to_rasa(monkeypatch):
    monkeypatch.setenv("KANAL_RASA_TRACKER_STORE", "redis://cache.internal:6379/2")
    monkeypatch.setenv("KANAL_RASA_TRACKER_MAX_EVENTS", "40")

    env = rasa_server_env(5055, {"KANAL_RASA_TRACKER_IDLE_MINUTES": "30"})

    assert env["KANAL_RASA_TRACKER_STORE"] == "redis://cache.internal:6379/2"
    assert env["KANAL_RASA_TRACKER_MAX_EVENTS"] == "40"
    assert env["KANAL_RASA_TRACKER_IDLE_MINUTES"] == "30.0"
    assert env["KANAL_ACTION_ENDPOINT"] == "http://127.0.0.1:5055/webhook"


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("KANAL_RASA_TRACKER_STORE", "postgresql://db/kanal", "'memory' or a redis:// URL"),
        ("KANAL_RASA_TRACKER_STORE", "redis-host:6379", "'memory' or a redis:// URL"),
        ("KANAL_RASA_TRACKER_MAX_EVENTS", "0", "MAX_EVENTS must be at least 1"),
        ("KANAL_RASA_TRACKER_MAX_CONVERSATIONS", "-5", "MAX_CONVERSATIONS must be at least 1"),
        ("KANAL_RASA_TRACKER_IDLE_MINUTES", "0", "IDLE_MINUTES must be more than 0"),
        ("KANAL_RASA_LOCK_STORE", "postgresql://db/kanal", "'memory' or a redis:// URL"),
    ],
)
def test_a_wrong_setting_is_refused_before_rasa_starts(setting, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        tracker_store_env(from_env({setting: value}))


def test_endpoints_yml_reads_every_setting_serve_passes_and_uses_kanals_store():
    text = (PROJECT_DIR / "endpoints.yml").read_text()

    assert "type: kanal_tracker_store.KanalTrackerStore" in text
    read = set(re.findall(r"\$\{(KANAL_RASA_\w+)\}", text))
    assert read == set(tracker_store_env(from_env({}))) and set(TRACKER_SETTINGS) <= read


def test_the_deployments_endpoints_read_only_what_serve_passes_with_a_redis_lock_store():
    text = (PROJECT_DIR.parents[1] / "deploy" / "rasa" / "endpoints.yml").read_text()
    redis = from_env({"KANAL_RASA_LOCK_STORE": "redis://127.0.0.1:6379/3"})

    assert "type: kanal_tracker_store.KanalTrackerStore" in text
    assert re.search(r"lock_store:\n  type: redis\n", text), "Rasa's own Redis lock store"
    read = set(re.findall(r"\$\{(KANAL_RASA_\w+)\}", text))
    assert read <= set(tracker_store_env(redis)) and set(TRACKER_SETTINGS) <= read
