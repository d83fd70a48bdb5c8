"""create_app: the one place that reads configuration and picks concrete adapters."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from flask import Flask

from router import config as cfg
from router.adapters.db import make_engine, make_session_factory
from router.adapters.uow import SqlUnitOfWork
from router.logs import configure_logging
from router.policy import load_profile
from router.service.contact_centre import ContactCentre
from router.service.settings import BusinessHours, RouterSettings
from router.service.views import Views

log = logging.getLogger(__name__)

_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass
class Kanal:
    """What the wiring point built, kept on `app.extensions["kanal"]`."""

    engine: Any
    session_factory: Any
    centre: ContactCentre
    views: Views
    bot: Any
    profile: Any
    extras: dict = field(default_factory=dict)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.session_factory)


def _weekdays(spec: str) -> tuple[int, ...]:
    if "-" in spec:
        first, last = (s.strip().lower()[:3] for s in spec.split("-", 1))
        return tuple(range(_DAYS.index(first), _DAYS.index(last) + 1))
    return tuple(_DAYS.index(d.strip().lower()[:3]) for d in spec.split(","))


def router_settings(config: dict) -> RouterSettings:
    """Build the service layer's settings from Flask config."""
    opens, closes = (
        time.fromisoformat(t.strip()) for t in config["KANAL_BUSINESS_HOURS"].split("-")
    )
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
        sms_inactivity_minutes=config["KANAL_SMS_INACTIVITY_MINUTES"],
        chat_inactivity_minutes=config["KANAL_CHAT_INACTIVITY_MINUTES"],
        repeat_window_days=config["KANAL_REPEAT_WINDOW_DAYS"],
        sms_help_text=config["KANAL_SMS_HELP_TEXT"],
    )


def _bot(config: dict):
    if config.get("KANAL_BOT") is not None:  # tests plug a bot in
        return config["KANAL_BOT"]
    from bots.client import RasaBot

    return RasaBot(config["KANAL_RASA_URL"], timeout=config["KANAL_BOT_TIMEOUT"])


def create_app(test_config: dict | None = None) -> Flask:
    """Create the kanal web application."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(cfg.from_env())
    if test_config:
        app.config.update(test_config)
    cfg.check(app.config)
    configure_logging(app.config["KANAL_LOG_LEVEL"])

    url = app.config["KANAL_DATABASE_URL"]
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    session_factory = make_session_factory(engine)
    profile = load_profile(app.config["KANAL_POLICY"])
    bot = _bot(app.config)

    def uow_factory() -> SqlUnitOfWork:
        return SqlUnitOfWork(session_factory)

    centre = ContactCentre(uow_factory, bot, profile, router_settings(app.config))
    app.extensions["kanal"] = Kanal(
        engine=engine,
        session_factory=session_factory,
        centre=centre,
        views=Views(uow_factory),
        bot=bot,
        profile=profile,
    )
    if app.config["KANAL_ENV"] != "production":
        from router.demo import demo_identities

        app.extensions["kanal"].extras["demo_identities"] = lambda: demo_identities(app)
    _register(app)
    return app


def _register(app: Flask) -> None:
    """Register blueprints, sign-in and CSRF."""
    from analytics.api import bp as analytics_bp
    from channels.webchat import bp as webchat_bp
    from router import auth, health, web
    from router.desk.views import bp as desk_bp

    auth.init_app(app)
    web.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(webchat_bp)
    app.register_blueprint(desk_bp)
    app.register_blueprint(analytics_bp)
    auth.csrf.exempt(webchat_bp)
    auth.csrf.exempt(analytics_bp)
    _register_sms(app)


def _register_sms(app: Flask) -> None:
    """Register the SMS channel, its delivery, and in sandbox mode the local Twilio peer."""
    from channels import sandbox, sms
    from router.adapters.twilio_sms import sender_from_config
    from router.service.delivery import SmsDelivery

    kanal = app.extensions["kanal"]
    delivery = SmsDelivery(
        kanal.uow,
        sender_from_config(app.config),
        app.config["KANAL_PUBLIC_URL"] + "/twilio/sms/status",
        background=not app.config.get("KANAL_SMS_SEND_INLINE", False),
    )
    kanal.centre.after_turn.append(delivery.on_turn)
    kanal.extras["sms"] = delivery
    kanal.extras["dispatch_sms"] = delivery.dispatch_due
    sms.init_app(app)
    if app.config["KANAL_TWILIO_SANDBOX"]:
        sandbox.init_app(app)  # absent when real credentials are configured
