"""bootstrap: the one place that reads configuration and picks concrete adapters.

`bootstrap(config, *, uow=..., bot=..., senders=..., clock=...)` builds everything kanal is
made of, in order, into one typed container (`Kanal`, router/entrypoints/container.py). It
needs no Flask: `kanal worker` and `kanal scheduler` call it directly, the web app wraps what
it built (`router.entrypoints.app.create_app`), and the unit tests call it with fakes
(`uow=FakeUnitOfWork`, `inbox=FakeInbox`...), so they run the same wiring as production.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from router.domain.events import ContactChanged
from router.entrypoints.configuration import (
    callback_settings,
    configuration,
    router_settings,
    survey_settings,
)
from router.entrypoints.container import (
    DurableJob,
    DurableJobRegistry,
    Kanal,
)
from router.entrypoints.peers import (
    channel_modules,
    language_identifier,
    live_updates,
    rasa_bot,
    storage_of,
)
from router.entrypoints.worker import Worker
from router.policy import load_profile, refuse_traps
from router.service import callbacks as callbacks_jobs
from router.service import followups as followups_jobs
from router.service.access import DeskAccess
from router.service.assignments import Assignments
from router.service.callback_desk import CallbackDesk
from router.service.callbacks import Callbacks
from router.service.calls import Calls
from router.service.channels import Channel, Channels
from router.service.counters import ProcessCounters
from router.service.delivery import Delivery
from router.service.desk import Desk
from router.service.dialling import Dialling
from router.service.exemption_reminders import ExemptionReminders
from router.service.followups import Followups
from router.service.left_chats import LeftChats
from router.service.messagebus import MessageBus
from router.service.ports import (
    BotPort,
    Caller,
    DurableJobs,
    Inbox,
    LanguageIdentifier,
    LiveUpdates,
    Sender,
)
from router.service.sla_callbacks import SlaCallbacks, either
from router.service.sla_timers import SlaTimers
from router.service.supervision import Supervision
from router.service.surges import SurgeWatch
from router.service.survey import Surveys
from router.service.turn import Turns
from router.service.unit_of_work import UnitOfWork
from router.service.views import Views

__all__ = ["Kanal", "bootstrap", "configuration", "kanal_of"]

# `identify=` not given: build the real identifier (None means "identify no language").
_BUILD = object()


def utcnow() -> datetime:
    return datetime.now(UTC)


def kanal_of(app) -> Kanal:  # noqa: ANN001 - a Flask app
    """Return the container a web app was made around (the CLI and tests use it)."""
    return app.extensions["kanal"]


def bootstrap(
    config: Mapping | None = None,
    *,
    uow: Callable[[], UnitOfWork] | None = None,
    inbox: Inbox | None = None,
    bot: BotPort | None = None,
    senders: Mapping[str, Sender] | None = None,
    clock: Callable[[], datetime] | None = None,
    caller: Caller | None = None,
    jobs: DurableJobs | None = None,
    identify: LanguageIdentifier | None | object = _BUILD,
    channels: Iterable[str] | None = None,
    env: Mapping | None = None,
    live: LiveUpdates | None = None,
) -> Kanal:
    """Build kanal from configuration, with the stand-ins the caller gives.

    `config` overrides the environment (`env`, default the process's). Without `uow` the
    databases are opened (SQLAlchemy); with one, `inbox` and `jobs` must be given too and no
    database is touched. `senders={name: Sender}` replaces a channel's sender, `channels`
    lists the channel modules (default `channels.INSTALLED`), `identify` the language
    identifier (None: identify none), `clock` replaces `utcnow`, `live` where committed
    contact changes are announced (default: `pg_notify` on PostgreSQL, nothing on SQLite
    and on fakes, where the stream process reads the log).
    """
    config = configuration(config, env)
    clock = clock or utcnow
    settings = router_settings(config)
    if identify is _BUILD:
        identify = language_identifier(settings.languages)  # refuses a language it cannot tell
    storage = None
    if uow is None:
        storage, uow, read_uow = storage_of(config)
    else:
        if inbox is None or jobs is None:
            raise ValueError("bootstrap(uow=...) needs the inbox and the durable jobs too")
        read_uow = uow
    # One bus for the whole kanal: every service works in its units of work, so what a
    # commit changed is announced to the live pages after it (router/service/messagebus.py).
    live = live if live is not None else live_updates(storage)
    bus = MessageBus(uow)
    bus.on_event(ContactChanged, live.publish)
    uow = bus.uow
    commits = None  # to the inbox's SQLite file: a poll of `kanal worker` skips a quiet inbox
    if inbox is None:
        from router.adapters.inbox import SqlInbox
        from router.adapters.sqlite_changes import commits_to

        inbox = SqlInbox(storage.inbox_engine)
        commits = commits_to(storage.inbox_engine.url)
    if jobs is None:
        from router.adapters.durable_jobs import SqlDurableJobs

        jobs = SqlDurableJobs(config["KANAL_DATABASE_URL"])
    sandbox = None
    # The sandbox lives in kanal's process unless it is served elsewhere (its own process).
    if config["KANAL_TWILIO_SANDBOX"] and not config["KANAL_TWILIO_SANDBOX_URL"]:
        from channels.twilio_sandbox.peer import SandboxPeer

        sandbox = SandboxPeer.from_config(config)
    modules = channel_modules(channels)
    registry = Channels()
    for module in modules:
        channel: Channel = module.channel(config, sender=(senders or {}).get(module.NAME))
        registry.add(channel)
    counters = ProcessCounters()  # this process' turns, bot failures, deliveries (/metrics)
    reports = None
    if storage is not None:
        from router.adapters.delivery_reports import SqlDeliveryReports

        reports = SqlDeliveryReports(storage.engine, storage.read_engine)
    delivery = Delivery(uow, registry, clock, counters=counters, reports=reports)
    bot = bot if bot is not None else rasa_bot(config)
    # The policy reads its profile against the channels installed here: a rule may name any;
    # one that could trap a citizen is refused at start, as `kanal policy check` refuses it.
    # Every person it promises must have a queue, in every language kanal speaks.
    profile = refuse_traps(
        load_profile(config["KANAL_POLICY"], channels=registry.names()), spoken(config)
    )
    # Decisions name the profile by its own name: KANAL_POLICY may be a long file path.
    settings = replace(settings, policy_name=profile.name[:40], routing=profile.routing)
    if caller is None:
        from router.adapters.twilio_voice import caller_from_config

        caller = caller_from_config(config)
    from channels.sms import NAME as SMS
    from channels.webchat import NAME as CHAT
    from ivr.dialler import TwilioDialler
    from ivr.voice import NAME as PHONE

    callbacks = Callbacks(uow, jobs, clock, phone=PHONE, routing=settings.routing)
    dialler = TwilioDialler(caller, config["KANAL_PUBLIC_URL"], config["KANAL_AGENT_CALL_ENDPOINT"])
    dialling = Dialling(uow, callbacks, dialler, callback_settings(config), clock)
    surveys = Surveys(uow, registry, delivery, survey_settings(config), settings.languages, clock)
    turns = Turns(
        uow, inbox, bot, profile, registry, delivery, settings, clock,
        identify=identify, callbacks=callbacks, surveys=surveys, counters=counters,
    )  # fmt: skip
    in_web = config["KANAL_TURN_WORKER"] == "thread"
    worker = Worker(
        turns,
        clock,
        threads=config["KANAL_TURN_THREADS"],
        poll_seconds=1.0 if in_web else 0.05,
        poll_age=timedelta(seconds=5) if in_web else timedelta(0),
        commits=None if in_web else commits,
    )
    followups = Followups(
        uow,
        registry,
        delivery,
        callbacks,
        jobs,
        timedelta(hours=config["KANAL_DEFLECTION_FOLLOWUP_HOURS"]),
        clock,
        sms_channel=SMS,
    )
    # A reply of CALL to a follow-up's offer is answered in its turn, before any contact.
    # A reply of CALL to the SLA timers' callback offer books it (web chat and SMS).
    sla_callbacks = SlaCallbacks(registry, delivery, phone=PHONE)
    turns.answer_with(SMS, either(followups.answer, sla_callbacks.answer))
    turns.answer_with(CHAT, sla_callbacks.answer)
    assignments = Assignments(uow, settings.routing, clock)
    surge_watch = SurgeWatch(uow, profile, clock, settings.average_handle_seconds)
    durable = DurableJobRegistry(
        [
            # place a booked callback's call; offer a callback by SMS
            DurableJob(callbacks_jobs.RUN_JOB, dialling.run, "callback"),
            DurableJob(followups_jobs.RUN_JOB, followups.run, "follow-up"),
        ]
    )
    return Kanal(
        config=config,
        uow=uow,
        read_uow=read_uow,
        bot=bot,
        profile=profile,
        settings=settings,
        channels=registry,
        delivery=delivery,
        turns=turns,
        desk=Desk(uow, registry, delivery, clock, assignments),
        assignments=assignments,
        # The agency's day (KANAL_TIMEZONE), as the supervisor board's and the dashboard's.
        views=Views(read_uow, clock, channels=registry, timezone=config["KANAL_TIMEZONE"]),
        worker=worker,
        clock=clock,
        callbacks=callbacks,
        dialling=dialling,
        callback_desk=CallbackDesk(uow, dialling, clock),
        followups=followups,
        jobs=jobs,
        durable=durable,
        calls=Calls(
            uow,
            turns,
            delivery,
            registry,
            settings,
            clock,
            callbacks=callbacks,
            followups=followups,
            phone=PHONE,
            sms=SMS,
        ),  # fmt: skip
        storage=storage,
        sandbox=sandbox,
        installed=tuple(module.__name__ for module in modules),
        surveys=surveys,
        exemption_reminders=ExemptionReminders(
            uow,
            registry,
            delivery,
            clock,
            days=int(config["KANAL_EXEMPTION_REMINDER_DAYS"]),
            timezone=config["KANAL_TIMEZONE"],
            agency_phone=config["TWILIO_FROM_NUMBER"],
            sms_channel=SMS,
        ),  # fmt: skip
        counters=counters,
        live=live,
        left_chats=LeftChats(
            uow, clock, channel=CHAT, after=timedelta(seconds=config["KANAL_CHAT_ABANDON_SECONDS"])
        ),
        supervision=Supervision(
            uow,
            settings.routing,
            clock,
            DeskAccess(uow, clock, settings.routing),
            zone=ZoneInfo(config["KANAL_TIMEZONE"]),
            service_level_seconds=config["KANAL_SERVICE_LEVEL_SECONDS"],
            short_abandon_seconds=config["KANAL_SHORT_ABANDON_SECONDS"],
            surge=surge_watch,
        ),  # fmt: skip
        sla_timers=SlaTimers(uow, settings.routing, clock, registry, delivery),
        surge_watch=surge_watch,
    )


def spoken(config: Mapping) -> tuple[str, ...]:
    """Return the languages a conversation can be held in (KANAL_LANGUAGES, as two-letter
    codes; every channel's, the phone's too: router/service/languages.py keeps a contact's
    language among them): the policy check wants a queue for each."""
    from router.service.translations import language_code

    value = config.get("KANAL_LANGUAGES") or ()
    codes = [language_code(v) for v in (value.split(",") if isinstance(value, str) else value)]
    return tuple(dict.fromkeys(c for c in codes if c))
