"""create_app: the one place that reads configuration and picks concrete adapters.

Everything the app is made of is built here, in order, and kept in one typed container
(`Kanal`); blueprints are built by factories handed what they need, never looking it up.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine

from router import config as cfg
from router.adapters.db import make_engine, make_session_factory
from router.adapters.inbox import SqlInbox
from router.adapters.inbox import inbox_url as default_inbox_url
from router.adapters.language import LinguaIdentifier, UnknownLanguage
from router.adapters.uow import SqlUnitOfWork
from router.entrypoints.logs import configure_logging
from router.entrypoints.worker import Worker
from router.policy import Profile, load_profile
from router.service.callback_desk import CallbackDesk
from router.service.callbacks import Callbacks
from router.service.calls import Calls
from router.service.channels import Channel, Channels
from router.service.delivery import Delivery
from router.service.desk import Desk
from router.service.dialling import CallbackSettings, Dialling
from router.service.followups import Followups
from router.service.ports import BotPort, Caller, DurableJobs, Sender
from router.service.services import ChannelServices
from router.service.settings import BusinessHours, RouterSettings
from router.service.survey import Surveys, SurveySettings
from router.service.translations import available as available_languages
from router.service.turn import Turns
from router.service.views import Views

log = logging.getLogger(__name__)
_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Kanal:
    """What the wiring point built: one typed container, handed to whoever needs a part."""

    config: Mapping[str, object]
    engine: Engine
    read_engine: Engine
    uow: Callable[[], SqlUnitOfWork]
    read_uow: Callable[[], SqlUnitOfWork]
    bot: BotPort
    profile: Profile
    settings: RouterSettings
    channels: Channels
    delivery: Delivery
    turns: Turns
    desk: Desk
    views: Views
    worker: Worker
    clock: Callable[[], datetime]
    analytics_engine: Engine
    callbacks: Callbacks
    dialling: Dialling
    callback_desk: CallbackDesk
    followups: Followups
    jobs: DurableJobs
    calls: Calls
    sandbox: object | None = None  # channels.twilio_sandbox.peer.SandboxPeer, in sandbox mode
    surveys: Surveys | None = None  # the satisfaction question after a contact closes

    def close(self) -> None:
        """Stop the worker and release database connections (tests, shutdown)."""
        self.worker.stop()
        self.engine.dispose()
        self.read_engine.dispose()
        self.turns.inbox.engine.dispose()
        if self.analytics_engine is not self.engine:
            self.analytics_engine.dispose()
        if self.sandbox is not None:
            self.sandbox.close()
        close_jobs = getattr(self.jobs, "close", None)
        if close_jobs is not None:
            close_jobs()


def kanal_of(app: Flask) -> Kanal:
    """Return the container create_app built for this app (the CLI and tests use it)."""
    return app.extensions["kanal"]


def _weekdays(spec: str) -> tuple[int, ...]:
    if "-" in spec:
        first, last = (s.strip().lower()[:3] for s in spec.split("-", 1))
        return tuple(range(_DAYS.index(first), _DAYS.index(last) + 1))
    return tuple(_DAYS.index(d.strip().lower()[:3]) for d in spec.split(","))


def router_settings(config: Mapping) -> RouterSettings:
    """Build the service layer's settings from the configuration."""
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
        repeat_window_days=config["KANAL_REPEAT_WINDOW_DAYS"],
        languages=tuple(config["KANAL_LANGUAGES"]),
    )


def _rasa_bot(config: Mapping) -> BotPort:
    from bots.client import RasaBot

    return RasaBot(config["KANAL_RASA_URL"], timeout=config["KANAL_BOT_TIMEOUT"])


def _language_identifier(languages: tuple[str, ...]) -> LinguaIdentifier:
    """Identify messages among the agency's languages; say so when kanal lacks a catalogue."""
    try:
        identifier = LinguaIdentifier(languages)
    except UnknownLanguage as exc:
        raise cfg.ConfigError(f"KANAL_LANGUAGES: {exc}") from None
    missing = [code for code in languages if code not in available_languages()]
    if missing:
        log.warning(
            "no catalogue for %s: kanal's own texts fall back to English (docs/translations.md)",
            ", ".join(missing),
        )
    return identifier


def installed_channels() -> list:
    """Return the channel modules listed in `channels.INSTALLED`."""
    from channels import INSTALLED

    return [importlib.import_module(name) for name in INSTALLED]


def build(
    config: Mapping,
    *,
    bot: BotPort | None = None,
    senders: Mapping[str, Sender] | None = None,
    clock: Callable[[], datetime] | None = None,
    caller: Caller | None = None,
    jobs: DurableJobs | None = None,
) -> Kanal:
    """Build the container from configuration, with stand-ins where the caller gives them."""
    clock = clock or utcnow
    settings = router_settings(config)
    identify = _language_identifier(settings.languages)  # refuses a language it cannot tell
    url = config["KANAL_DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    session_factory = make_session_factory(engine)

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(session_factory)

    # Reads (the channels' and the desk's views, staff sign-in) never take SQLite's write
    # lock: a transaction that only reads begins DEFERRED and sees one WAL snapshot.
    read_engine = make_engine(url, immediate=False) if url.startswith("sqlite") else engine
    read_sessions = make_session_factory(read_engine)

    def read_uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(read_sessions)

    sandbox = None
    # The sandbox lives in kanal's process unless it is served elsewhere (its own process).
    if config["KANAL_TWILIO_SANDBOX"] and not config["KANAL_TWILIO_SANDBOX_URL"]:
        from channels.twilio_sandbox.peer import SandboxPeer

        sandbox = SandboxPeer.from_config(config)
    channels = Channels()
    for module in installed_channels():
        channel: Channel = module.channel(config, sender=(senders or {}).get(module.NAME))
        channels.add(channel)
    delivery = Delivery(uow, channels, clock)
    bot = bot if bot is not None else _rasa_bot(config)
    profile = load_profile(config["KANAL_POLICY"])
    # Decisions name the profile by its own name: KANAL_POLICY may be a long file path.
    settings = replace(settings, policy_name=profile.name[:40])
    inbox_url = config["KANAL_INBOX_DATABASE_URL"] or default_inbox_url(url)
    inbox_engine = engine if inbox_url == url else make_engine(inbox_url, immediate=False)
    if caller is None:
        from router.adapters.twilio_voice import caller_from_config

        caller = caller_from_config(config)
    if jobs is None:
        from router.adapters.durable_jobs import SqlDurableJobs

        jobs = SqlDurableJobs(url)
    from channels.sms import NAME as SMS
    from ivr.dialler import TwilioDialler
    from ivr.voice import NAME as PHONE

    callbacks = Callbacks(uow, jobs, clock, phone=PHONE)
    dialler = TwilioDialler(caller, config["KANAL_PUBLIC_URL"], config["KANAL_AGENT_CALL_ENDPOINT"])
    dialling = Dialling(uow, callbacks, dialler, callback_settings(config), clock)
    surveys = Surveys(uow, channels, delivery, survey_settings(config), settings.languages, clock)
    turns = Turns(
        uow, SqlInbox(inbox_engine), bot, profile, channels, delivery, settings, clock,
        identify=identify, callbacks=callbacks, surveys=surveys,
    )  # fmt: skip
    in_web = config["KANAL_TURN_WORKER"] == "thread"
    worker = Worker(
        turns,
        uow,
        clock,
        threads=config["KANAL_TURN_THREADS"],
        poll_seconds=1.0 if in_web else 0.05,
        poll_age=timedelta(seconds=5) if in_web else timedelta(0),
    )
    from analytics.reader import reader_engine

    followups = Followups(
        uow,
        channels,
        delivery,
        callbacks,
        jobs,
        timedelta(hours=config["KANAL_DEFLECTION_FOLLOWUP_HOURS"]),
        clock,
    )
    return Kanal(
        config=config,
        engine=engine,
        read_engine=read_engine,
        uow=uow,
        read_uow=read_uow,
        bot=bot,
        profile=profile,
        settings=settings,
        channels=channels,
        delivery=delivery,
        turns=turns,
        desk=Desk(uow, channels, delivery, clock),
        views=Views(read_uow),
        worker=worker,
        clock=clock,
        analytics_engine=reader_engine(engine),
        callbacks=callbacks,
        dialling=dialling,
        callback_desk=CallbackDesk(uow, dialling, clock),
        followups=followups,
        jobs=jobs,
        calls=Calls(
            uow,
            turns,
            delivery,
            channels,
            settings,
            clock,
            callbacks=callbacks,
            followups=followups,
            phone=PHONE,
            sms=SMS,
        ),  # fmt: skip
        sandbox=sandbox,
        surveys=surveys,
    )


def survey_settings(config: Mapping) -> SurveySettings:
    """Build the satisfaction survey's settings from the configuration."""
    return SurveySettings(
        share=float(config["KANAL_SURVEY_SHARE"]),
        channels=tuple(config["KANAL_SURVEY_CHANNELS"]),
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


def create_app(
    config: Mapping | None = None,
    *,
    bot: BotPort | None = None,
    senders: Mapping[str, Sender] | None = None,
    clock: Callable[[], datetime] | None = None,
    caller: Caller | None = None,
    jobs: DurableJobs | None = None,
) -> Flask:
    """Create the kanal web application."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(cfg.from_env())
    if config:
        app.config.update(config)
    if isinstance(app.config["KANAL_LANGUAGES"], str):  # given as in the environment: "da,en"
        app.config["KANAL_LANGUAGES"] = cfg.languages(app.config["KANAL_LANGUAGES"])
    cfg.check(app.config)
    configure_logging(app.config["KANAL_LOG_LEVEL"])
    kanal = build(app.config, bot=bot, senders=senders, clock=clock, caller=caller, jobs=jobs)
    app.extensions["kanal"] = kanal
    _register(app, kanal)
    return app


def _register(app: Flask, kanal: Kanal) -> None:
    """Register sign-in, CSRF and every blueprint, each handed what it needs."""
    from analytics import api as analytics_api
    from router import web
    from router.entrypoints import auth, health, security
    from router.entrypoints.desk import views as desk_views
    from router.service.access import DeskAccess

    auth.init_app(app, kanal.read_uow)
    security.init_app(app)  # cookies' flags, security headers, sign-in limits
    web.init_app(app)
    app.register_blueprint(health.blueprint(kanal.engine, kanal.bot, kanal.uow))
    audit = DeskAccess(kanal.uow, kanal.clock)  # the desk's access rule and its audit log
    app.register_blueprint(
        desk_views.blueprint(kanal.desk, kanal.views, kanal.callback_desk, audit)
    )
    api = analytics_api.blueprint(kanal.analytics_engine, kanal.config, auth.token_required)
    app.register_blueprint(api)
    auth.csrf.exempt(api)
    from router.entrypoints import integration_api

    events_api = integration_api.blueprint(kanal.followups, auth.token_required)
    app.register_blueprint(events_api)
    auth.csrf.exempt(events_api)
    demo = None
    if app.config["KANAL_ENV"] != "production":
        from router.entrypoints.demo import demo_identities

        def demo() -> list[dict[str, str]]:
            return demo_identities(kanal.uow, app.config["SECRET_KEY"])

    services = ChannelServices(
        turns=kanal.turns,
        views=kanal.views,
        delivery=kanal.delivery,
        run_turn=kanal.worker.notify if app.config["KANAL_TURN_WORKER"] == "thread" else None,
        config=kanal.config,
        demo_identities=demo,
        callbacks=kanal.callbacks,
        dialling=kanal.dialling,
        followups=kanal.followups,
        calls=kanal.calls,
        surveys=kanal.surveys,
    )
    for module in installed_channels():
        bp = module.blueprint(services)
        app.register_blueprint(bp)
        auth.csrf.exempt(bp)  # channels authenticate their callers themselves
    from ivr import legs

    bp = legs.blueprint(services)  # outbound calls: callbacks answered, calls' statuses
    app.register_blueprint(bp)
    auth.csrf.exempt(bp)
    if kanal.sandbox is not None:
        from channels.twilio_sandbox import app as sandbox

        bp = sandbox.blueprint(kanal.sandbox)
        app.register_blueprint(bp)
        auth.csrf.exempt(bp)
