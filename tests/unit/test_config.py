"""Configuration: safe local defaults, and no production start with development secrets."""

import pytest

from router import config as cfg


def test_local_defaults_use_the_sandbox_and_embedded_sqlite(tmp_path):
    conf = cfg.from_env({}, instance_path=str(tmp_path))
    assert conf["KANAL_TWILIO_SANDBOX"] is True
    assert conf["KANAL_DATABASE_URL"] == f"sqlite:///{tmp_path / 'kanal.db'}"
    assert conf["KANAL_PUBLIC_URL"] == "http://127.0.0.1:8000"
    cfg.check(conf)  # development may use development secrets


def test_the_port_changes_the_public_url():
    assert cfg.from_env({"KANAL_PORT": "9000"})["KANAL_PUBLIC_URL"] == "http://127.0.0.1:9000"


def test_real_twilio_credentials_turn_the_sandbox_off_unless_forced():
    real = {"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "tok"}
    assert cfg.from_env(real)["KANAL_TWILIO_SANDBOX"] is False
    assert cfg.from_env({**real, "KANAL_TWILIO_SANDBOX": "1"})["KANAL_TWILIO_SANDBOX"] is True


def test_production_refuses_the_default_secret():
    conf = cfg.from_env(
        {"KANAL_ENV": "production", "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "real"}
    )
    with pytest.raises(cfg.ConfigError, match="KANAL_SECRET_KEY"):
        cfg.check(conf)


def test_production_refuses_the_sandbox_and_the_development_twilio_token():
    base = {"KANAL_ENV": "production", "KANAL_SECRET_KEY": "s3cret-of-our-own"}
    with pytest.raises(cfg.ConfigError, match="sandbox"):
        cfg.check(cfg.from_env(base))
    with pytest.raises(cfg.ConfigError, match="TWILIO_AUTH_TOKEN"):
        cfg.check(cfg.from_env({**base, "TWILIO_ACCOUNT_SID": "AC1"}))
    cfg.check(cfg.from_env({**base, "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "real"}))


def test_the_agencys_languages_are_danish_first_by_default_and_checked():
    assert cfg.from_env({})["KANAL_LANGUAGES"] == ("da", "en")
    assert cfg.from_env({"KANAL_LANGUAGES": " EN, da ,en"})["KANAL_LANGUAGES"] == ("en", "da")
    for bad in ("danish", "d1", ",", "da;en"):
        with pytest.raises(cfg.ConfigError, match="KANAL_LANGUAGES"):
            cfg.from_env({"KANAL_LANGUAGES": bad})


def test_a_language_the_identifier_cannot_tell_is_refused_at_start(tmp_path):
    from router.entrypoints.bootstrap import bootstrap

    conf = {"KANAL_LANGUAGES": "da,xx", "KANAL_INSTANCE_PATH": str(tmp_path)}
    with pytest.raises(cfg.ConfigError, match="xx"):
        bootstrap(conf, env={}, bot=object())


def _hours(**env):
    from router.entrypoints.configuration import configuration, router_settings

    return router_settings(configuration(env={**env, "KANAL_INSTANCE_PATH": "/tmp"})).business_hours


def test_opening_days_across_the_weekend_are_open_days():
    from datetime import UTC, datetime

    # Before, "fri-mon" read as range(4, 1): no day at all, so kanal was never open and
    # every citizen asking for a person got an out-of-hours callback.
    hours = _hours(KANAL_BUSINESS_DAYS="fri-mon")
    assert hours.weekdays == (0, 4, 5, 6)
    saturday_ten = datetime(2026, 3, 7, 9, 0, tzinfo=UTC)  # 10:00 in Copenhagen
    assert hours.open_at(saturday_ten)
    assert not hours.open_at(datetime(2026, 3, 4, 9, 0, tzinfo=UTC))  # a Wednesday
    assert _hours(KANAL_BUSINESS_DAYS="mon,wed").weekdays == (0, 2)


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"KANAL_BUSINESS_HOURS": "8-16"}, "HH:MM-HH:MM"),  # before: ValueError, a traceback
        ({"KANAL_BUSINESS_HOURS": "16:00-08:00"}, "closes before it opens"),  # never open
        ({"KANAL_BUSINESS_DAYS": "weekdays"}, "KANAL_BUSINESS_DAYS names days"),
        ({"KANAL_BUSINESS_DAYS": "mon-funday"}, "got 'mon-funday'"),
    ],
)
def test_opening_hours_kanal_cannot_read_are_refused_saying_how_to_write_them(env, says):
    with pytest.raises(cfg.ConfigError, match=says):
        _hours(**env)
