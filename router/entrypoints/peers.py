"""The outside world bootstrap plugs kanal into, from the configuration: the databases and
the units of work over them, the bot (Rasa), the language identifier, the channel modules and
where committed contact changes are announced. The unit tests give stand-ins instead
(`bootstrap(uow=..., bot=..., identify=..., live=...)`)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType

from router import config as cfg
from router.adapters.language import LinguaIdentifier, UnknownLanguage
from router.entrypoints.container import Storage
from router.service.ports import BotPort, LiveUpdates
from router.service.translations import available as available_languages

log = logging.getLogger(__name__)


def rasa_bot(config: Mapping) -> BotPort:
    """Return the Rasa bot behind its circuit breaker, as configured."""
    from bots.client import RasaBot

    return RasaBot(
        config["KANAL_RASA_URL"],
        timeout=config["KANAL_BOT_TIMEOUT"],
        failure_threshold=config["KANAL_BOT_FAILURES"],
        reset_after=config["KANAL_BOT_RESET_SECONDS"],
        concurrency=config["KANAL_BOT_CONCURRENCY"],
    )


def language_identifier(languages: tuple[str, ...]) -> LinguaIdentifier:
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


def load_language_models(identify: object) -> None:
    """Load the language identifier's models before the process serves (its first
    identification would otherwise hold every thread of the process while they load)."""
    if isinstance(identify, LinguaIdentifier):
        identify.load()


def channel_modules(names: Iterable[str] | None = None) -> list[ModuleType]:
    """Return the channel modules named (default: those listed in `channels.INSTALLED`)."""
    if names is None:
        from channels import INSTALLED

        names = INSTALLED
    return [importlib.import_module(name) for name in names]


def storage_of(config: Mapping) -> tuple[Storage, Callable, Callable]:
    """Open kanal's databases; return them with the unit-of-work factories over them."""
    from analytics.reader import reader_engine
    from router.adapters.db import make_engine, make_session_factory
    from router.adapters.inbox import inbox_url as default_inbox_url
    from router.adapters.uow import SqlUnitOfWork

    url = config["KANAL_DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    # Reads (the channels' and the desk's views, staff sign-in) never take SQLite's write
    # lock: a transaction that only reads begins DEFERRED and sees one WAL snapshot.
    read_engine = make_engine(url, immediate=False) if url.startswith("sqlite") else engine
    read_sessions = make_session_factory(read_engine)
    inbox_url = config["KANAL_INBOX_DATABASE_URL"] or default_inbox_url(url)
    inbox_engine = engine if inbox_url == url else make_engine(inbox_url, immediate=False)
    storage = Storage(engine, read_engine, inbox_engine, reader_engine(engine))

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    def read_uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(read_sessions)

    return storage, uow, read_uow


def live_updates(storage: Storage | None) -> LiveUpdates:
    """Return where committed contact changes are announced: pg_notify, or nowhere."""
    from router.adapters.live import NoNotices, PgNotify

    if storage is not None and storage.engine.dialect.name == "postgresql":
        return PgNotify(storage.engine)
    return NoNotices()
