"""kanal's configuration (`KANAL_*`, router/config.py) read into the service layer's settings;
bootstrap (router/entrypoints/bootstrap.py) builds kanal with them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time, timedelta

from router import config as cfg
from router.service.dialling import CallbackSettings
from router.service.settings import BusinessHours, RouterSettings
from router.service.survey import SurveySettings

_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def configuration(overrides: Mapping | None = None, env: Mapping | None = None) -> dict:
    """Return kanal's configuration: the environment's `KANAL_*` values, then `overrides`.

    `env` replaces the process environment (the unit tests give `{}`: no variable of the
    machine they run on reaches them). The result is checked (router.config.check).
    """
    config = cfg.from_env(None if env is None else dict(env))
    config.update(overrides or {})
    if isinstance(config["KANAL_LANGUAGES"], str):  # given as in the environment: "da,en"
        config["KANAL_LANGUAGES"] = cfg.languages(config["KANAL_LANGUAGES"])
    cfg.check(config)
    return config


def _day(name: str, spec: str) -> int:
    day = name.strip().lower()[:3]
    if day not in _DAYS or len(name.strip()) < 3:
        raise cfg.ConfigError(
            f"KANAL_BUSINESS_DAYS names days as mon, tue, ... sun, in a range (mon-fri) or a "
            f"list (mon,wed,fri) (got {spec!r})."
        )
    return _DAYS.index(day)


def _weekdays(spec: str) -> tuple[int, ...]:
    """Read KANAL_BUSINESS_DAYS: a range ("mon-fri", or "fri-mon" across the weekend) or a
    list ("mon,wed,fri"); days an agency is never open would leave callbacks unplaced."""
    if "-" in spec:
        first, last = (_day(s, spec) for s in spec.split("-", 1))
        return tuple(sorted((first + n) % 7 for n in range((last - first) % 7 + 1)))
    return tuple(sorted({_day(d, spec) for d in spec.split(",")}))


def _hours(spec: str) -> tuple[time, time]:
    """Read KANAL_BUSINESS_HOURS ("08:00-16:00"); equal times mean never open (callbacks
    only), a closing before the opening is refused (it read as never open, silently)."""
    try:
        opens, closes = (time.fromisoformat(t.strip()) for t in spec.split("-"))
    except ValueError:
        raise cfg.ConfigError(
            f"KANAL_BUSINESS_HOURS must be the opening and closing times as HH:MM-HH:MM, "
            f"e.g. 08:00-16:00 (got {spec!r})."
        ) from None
    if closes < opens:
        raise cfg.ConfigError(
            f"KANAL_BUSINESS_HOURS closes before it opens ({spec!r}): an opening across "
            "midnight is not supported; use KANAL_ALWAYS_OPEN=1 for service round the clock."
        )
    return opens, closes


def router_settings(config: Mapping) -> RouterSettings:
    """Build the service layer's settings from the configuration."""
    opens, closes = _hours(config["KANAL_BUSINESS_HOURS"])
    hours = BusinessHours(
        opens=opens,
        closes=closes,
        weekdays=_weekdays(config["KANAL_BUSINESS_DAYS"]),
        timezone=config["KANAL_TIMEZONE"],
        always_open=config["KANAL_ALWAYS_OPEN"],
    )
    return RouterSettings(
        policy_name=config["KANAL_POLICY"],
        business_hours=hours,
        repeat_window_days=config["KANAL_REPEAT_WINDOW_DAYS"],
        languages=tuple(config["KANAL_LANGUAGES"]),
        bot_wait_seconds=config["KANAL_BOT_WAIT_SECONDS"],
    )


def survey_settings(config: Mapping) -> SurveySettings:
    """Build the satisfaction survey's settings from the configuration."""
    return SurveySettings(
        share=cfg.share(str(config["KANAL_SURVEY_SHARE"])),
        channels=cfg.names(config["KANAL_SURVEY_CHANNELS"]),
        answer_window=timedelta(hours=float(config["KANAL_SURVEY_ANSWER_HOURS"])),
    )


def callback_settings(config: Mapping) -> CallbackSettings:
    """Build the callbacks' settings from the configuration."""
    return CallbackSettings(
        attempts=config["KANAL_CALLBACK_ATTEMPTS"],
        retry_after=timedelta(minutes=config["KANAL_CALLBACK_RETRY_MINUTES"]),
        recheck=timedelta(seconds=config["KANAL_CALLBACK_RECHECK_SECONDS"]),
        hours=router_settings(config).business_hours,
    )
