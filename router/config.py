"""Configuration from KANAL_* (and TWILIO_*) environment variables, with safe local defaults."""

from __future__ import annotations

import os
from pathlib import Path

from router.domain.channels import SMS, WEBCHAT

DEV_SECRET = "kanal-development-secret-change-me"
# Twilio signs sandbox webhooks with this token too; documented in the README.
DEV_TWILIO_TOKEN = "kanal-sandbox-auth-token"
DEV_TWILIO_SID = "ACkanal0000000000000000000000sandbox"

ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def languages(spec: str) -> tuple[str, ...]:
    """Parse KANAL_LANGUAGES ("da,en"): two-letter codes, the default first, no repeats."""
    codes = tuple(dict.fromkeys(c.strip().lower() for c in spec.split(",") if c.strip()))
    bad = [c for c in codes if len(c) != 2 or not c.isalpha()]
    if not codes or bad:
        raise ConfigError(
            f"KANAL_LANGUAGES must list two-letter ISO 639-1 codes such as da,en (got {spec!r})."
        )
    return codes


def names(value: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Return a list setting's names: "webchat,sms" (as in the environment) or a sequence."""
    items = value.split(",") if isinstance(value, str) else value
    return tuple(n.strip() for n in items if n and n.strip())


def share(spec: str) -> float:
    """Parse KANAL_SURVEY_SHARE: a fraction from 0 to 1 ("0.25"), or a percentage ("25%")."""
    text = spec.strip()
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise ConfigError(f"KANAL_SURVEY_SHARE must be a share from 0 to 1 (got {spec!r}).")
    return value


def from_env(env: dict[str, str] | None = None, instance_path: str | None = None) -> dict:
    """Return Flask config values read from the environment."""
    env = dict(os.environ if env is None else env)
    instance = Path(env.get("KANAL_INSTANCE_PATH") or instance_path or ROOT / "instance")
    port = int(env.get("KANAL_PORT", "8000"))
    sid = env.get("TWILIO_ACCOUNT_SID") or ""
    sandbox = _bool(env.get("KANAL_TWILIO_SANDBOX"), default=not sid)
    return {
        "KANAL_ENV": env.get("KANAL_ENV", "development"),
        "SECRET_KEY": env.get("KANAL_SECRET_KEY", DEV_SECRET),
        "KANAL_INSTANCE_PATH": str(instance),
        "KANAL_DATABASE_URL": env.get("KANAL_DATABASE_URL") or f"sqlite:///{instance / 'kanal.db'}",
        "KANAL_PORT": port,
        "KANAL_PUBLIC_URL": (env.get("KANAL_PUBLIC_URL") or f"http://127.0.0.1:{port}").rstrip("/"),
        "KANAL_POLICY": env.get("KANAL_POLICY", "denmark"),
        "KANAL_RASA_URL": env.get(
            "KANAL_RASA_URL", f"http://127.0.0.1:{env.get('KANAL_RASA_PORT', '5005')}"
        ),
        "KANAL_BOT_TIMEOUT": float(env.get("KANAL_BOT_TIMEOUT", "2.5")),
        "KANAL_BOT_CONCURRENCY": int(env.get("KANAL_BOT_CONCURRENCY", "4")),
        "KANAL_BOT_WAIT_SECONDS": float(env.get("KANAL_BOT_WAIT_SECONDS", "10")),
        "KANAL_BOT_FAILURES": int(env.get("KANAL_BOT_FAILURES", "3")),
        "KANAL_BOT_RESET_SECONDS": float(env.get("KANAL_BOT_RESET_SECONDS", "30")),
        "KANAL_BUSINESS_HOURS": env.get("KANAL_BUSINESS_HOURS", "08:00-16:00"),
        "KANAL_BUSINESS_DAYS": env.get("KANAL_BUSINESS_DAYS", "mon-fri"),
        "KANAL_TIMEZONE": env.get("KANAL_TIMEZONE", "Europe/Copenhagen"),
        "KANAL_ALWAYS_OPEN": _bool(env.get("KANAL_ALWAYS_OPEN")),
        "KANAL_SMS_INACTIVITY_MINUTES": int(env.get("KANAL_SMS_INACTIVITY_MINUTES", "30")),
        "KANAL_CHAT_INACTIVITY_MINUTES": int(env.get("KANAL_CHAT_INACTIVITY_MINUTES", "30")),
        "KANAL_REPEAT_WINDOW_DAYS": int(env.get("KANAL_REPEAT_WINDOW_DAYS", "7")),
        # The dashboard's targets, "digital_take_up=0.8,phone_abandonment_rate=0.05" (analytics).
        "KANAL_TARGETS": env.get("KANAL_TARGETS", ""),
        # The managers' figures (docs/domain.md §4): abandons shorter than this are excluded,
        # Y of service level X/Y, and the cost of a contact by kind (SOCITM 2012, £).
        "KANAL_SHORT_ABANDON_SECONDS": int(env.get("KANAL_SHORT_ABANDON_SECONDS", "5")),
        "KANAL_SERVICE_LEVEL_SECONDS": int(env.get("KANAL_SERVICE_LEVEL_SECONDS", "20")),
        "KANAL_COST_DIGITAL": float(env.get("KANAL_COST_DIGITAL", "0.15")),
        "KANAL_COST_PHONE": float(env.get("KANAL_COST_PHONE", "2.83")),
        "KANAL_COST_ASSISTED_WRITTEN": float(env.get("KANAL_COST_ASSISTED_WRITTEN", "2.83")),
        # The answer to HELP/INFO; unset: kanal's own text in the citizen's language.
        "KANAL_SMS_HELP_TEXT": env.get("KANAL_SMS_HELP_TEXT") or "",
        # The languages the agency serves (ISO 639-1), the first when a message's is unsure.
        "KANAL_LANGUAGES": languages(env.get("KANAL_LANGUAGES") or "da,en"),
        # Live chat streams one web process serves at once; more get 503 and the widget polls.
        "KANAL_MAX_STREAMS": int(env.get("KANAL_MAX_STREAMS", "12")),
        # The stream process (`kanal streams`): where it listens, and the origin pages open
        # their live streams at (empty: the page's own origin, where a proxy routes the
        # stream URLs to it; `make run` sets http://127.0.0.1:8001). Docs: docs/live.md.
        "KANAL_STREAM_HOST": env.get("KANAL_STREAM_HOST") or "127.0.0.1",
        "KANAL_STREAM_PORT": int(env.get("KANAL_STREAM_PORT", "8001")),
        "KANAL_STREAM_URL": (env.get("KANAL_STREAM_URL") or "").rstrip("/"),
        # A queued web chat whose citizen has had no stream open, nor written or polled, for
        # this long is abandoned (it comes back if they return): router/service/left_chats.py.
        "KANAL_CHAT_ABANDON_SECONDS": int(env.get("KANAL_CHAT_ABANDON_SECONDS", "120")),
        "KANAL_LOG_LEVEL": env.get("KANAL_LOG_LEVEL", "INFO"),
        # Sign-in limits (router/entrypoints/security.py): attempts per address, failed
        # attempts per account and address, and where the counts live (memory:// is per
        # process; redis://… shares them between web processes).
        "KANAL_LOGIN_RATE": env.get("KANAL_LOGIN_RATE") or "20 per minute",
        "KANAL_LOGIN_LOCKOUT": env.get("KANAL_LOGIN_LOCKOUT") or "5 per 15 minutes",
        "KANAL_RATE_LIMIT_STORAGE": env.get("KANAL_RATE_LIMIT_STORAGE") or "memory://",
        # Where turns run: "thread" (worker threads in each web process) or "process"
        # (a separate `kanal worker` process; the web process then only acknowledges).
        "KANAL_TURN_WORKER": env.get("KANAL_TURN_WORKER", "thread"),
        "KANAL_TURN_THREADS": int(env.get("KANAL_TURN_THREADS", "4")),
        # Where acknowledged messages wait for their turn. Unset: beside an SQLite database
        # (its own file, so acknowledging never waits for a turn's write lock), or the same
        # PostgreSQL database.
        "KANAL_INBOX_DATABASE_URL": env.get("KANAL_INBOX_DATABASE_URL") or None,
        # Taken inbox entries are kept this long to recognise a webhook Twilio retries.
        "KANAL_INBOX_KEEP_HOURS": int(env.get("KANAL_INBOX_KEEP_HOURS", "48")),
        # Callbacks: calls placed before a callback lands on the desk's failed list, the wait
        # between a call not answered and the next, and how often a booked callback looks
        # for a free agent.
        "KANAL_CALLBACK_ATTEMPTS": int(env.get("KANAL_CALLBACK_ATTEMPTS", "3")),
        "KANAL_CALLBACK_RETRY_MINUTES": float(env.get("KANAL_CALLBACK_RETRY_MINUTES", "10")),
        "KANAL_CALLBACK_RECHECK_SECONDS": float(env.get("KANAL_CALLBACK_RECHECK_SECONDS", "20")),
        # Where an agent's leg rings: a Twilio Client identity or a phone number; {id} is the
        # agent's user id.
        "KANAL_AGENT_CALL_ENDPOINT": env.get("KANAL_AGENT_CALL_ENDPOINT", "client:agent-{id}"),
        # Hours after a caller took the digital route before a callback is offered by SMS
        # (unless the agency's self-service reported the need completed).
        "KANAL_DEFLECTION_FOLLOWUP_HOURS": float(env.get("KANAL_DEFLECTION_FOLLOWUP_HOURS", "48")),
        # The satisfaction survey after a contact closes (docs/domain.md §4.5): the share of
        # closed contacts asked (0 to 1, chosen by the contact's id), the channels that ask,
        # and the hours an SMS question waits for its answer (a digit 1-5).
        "KANAL_SURVEY_SHARE": share(env.get("KANAL_SURVEY_SHARE") or "1"),
        "KANAL_SURVEY_CHANNELS": names(env.get("KANAL_SURVEY_CHANNELS", f"{WEBCHAT},{SMS}")),
        "KANAL_SURVEY_ANSWER_HOURS": float(env.get("KANAL_SURVEY_ANSWER_HOURS", "24")),
        # Days before an exemption from digital-first ends that the citizen is texted a
        # reminder, once per end date (docs/domain.md §2.5).
        "KANAL_EXEMPTION_REMINDER_DAYS": int(env.get("KANAL_EXEMPTION_REMINDER_DAYS", "30")),
        # Days an API token lasts from when it is issued (`kanal tokens create --days`).
        "KANAL_API_TOKEN_DAYS": int(env.get("KANAL_API_TOKEN_DAYS", "90")),
        "KANAL_HOST": env.get("KANAL_HOST", "127.0.0.1"),
        "KANAL_WEB_WORKERS": int(env.get("KANAL_WEB_WORKERS", "2")),
        "KANAL_WEB_THREADS": int(env.get("KANAL_WEB_THREADS", "24")),
        # Proxies in front of `kanal web` that set X-Forwarded-For, -Proto and -Host (nginx in
        # deploy/: 1). kanal then sees the client's address (sign-in limits, audit) and URL.
        "KANAL_PROXIES": int(env.get("KANAL_PROXIES", "0")),
        "KANAL_RASA_PORT": int(env.get("KANAL_RASA_PORT", "5005")),
        "KANAL_ACTIONS_PORT": int(env.get("KANAL_ACTIONS_PORT", "5055")),
        "KANAL_RASA_CORS": env.get("KANAL_RASA_CORS") or None,
        "KANAL_RASA_VENV": env.get("KANAL_RASA_VENV") or None,
        # Rasa's conversation memory (bots/rasa/kanal_tracker_store.py): "memory" (in the Rasa
        # process) or redis://host:port/db; each conversation keeps its latest session, at most
        # MAX_EVENTS events of it, and is forgotten after IDLE_MINUTES without a turn.
        "KANAL_RASA_TRACKER_STORE": env.get("KANAL_RASA_TRACKER_STORE") or "memory",
        "KANAL_RASA_TRACKER_MAX_EVENTS": int(env.get("KANAL_RASA_TRACKER_MAX_EVENTS") or "60"),
        "KANAL_RASA_TRACKER_IDLE_MINUTES": float(
            env.get("KANAL_RASA_TRACKER_IDLE_MINUTES") or "60"
        ),
        # "memory" only: beyond this many conversations the least recently active goes first.
        "KANAL_RASA_TRACKER_MAX_CONVERSATIONS": int(
            env.get("KANAL_RASA_TRACKER_MAX_CONVERSATIONS") or "5000"
        ),
        # Rasa's lock per conversation: "memory" (one Rasa process) or redis://host:port/db
        # (several Rasa processes sharing a Redis tracker store).
        "KANAL_RASA_LOCK_STORE": env.get("KANAL_RASA_LOCK_STORE") or "memory",
        # The endpoints file `kanal bot serve` gives Rasa; unset: bots/rasa/endpoints.yml.
        # deploy/rasa/endpoints.yml names Rasa's own Redis lock store (deploy/README.md).
        "KANAL_RASA_ENDPOINTS": env.get("KANAL_RASA_ENDPOINTS") or None,
        # Seconds between the sandbox's status callbacks (queued → sent → delivered).
        "KANAL_SANDBOX_CALLBACK_DELAY": float(env.get("KANAL_SANDBOX_CALLBACK_DELAY", "0.2")),
        "TWILIO_ACCOUNT_SID": sid or DEV_TWILIO_SID,
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN") or DEV_TWILIO_TOKEN,
        "TWILIO_FROM_NUMBER": env.get("TWILIO_FROM_NUMBER", "+4570000000"),
        "KANAL_TWILIO_SANDBOX": sandbox,
        # Unset means: the public URL + /sandbox/twilio, and a SQLite file in the instance folder.
        "KANAL_TWILIO_SANDBOX_URL": env.get("KANAL_TWILIO_SANDBOX_URL"),
        "KANAL_SANDBOX_DATABASE_URL": env.get("KANAL_SANDBOX_DATABASE_URL"),
        "KANAL_TWILIO_TIMEOUT": float(env.get("KANAL_TWILIO_TIMEOUT", "10")),
        # The phone (ivr/): languages offered (the first is the default), the agency's name in
        # the greeting, the speech confidence below which the caller is asked again, and how
        # long a caller waits before being offered a callback.
        "KANAL_VOICE_LANGUAGES": tuple(
            lang.strip()
            for lang in env.get("KANAL_VOICE_LANGUAGES", "da,en").split(",")
            if lang.strip()
        ),
        "KANAL_AGENCY_NAME": env.get("KANAL_AGENCY_NAME", "kanal"),
        # The desk's canned replies (router/adapters/canned_replies.toml is the default).
        "KANAL_CANNED_REPLIES": env.get("KANAL_CANNED_REPLIES") or None,
        "KANAL_VOICE_MIN_CONFIDENCE": float(env.get("KANAL_VOICE_MIN_CONFIDENCE", "0.4")),
        "KANAL_VOICE_CALLBACK_OFFER_SECONDS": int(
            env.get("KANAL_VOICE_CALLBACK_OFFER_SECONDS", "120")
        ),
        "KANAL_VOICE_HOLD_MUSIC": env.get("KANAL_VOICE_HOLD_MUSIC") or None,
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
    }


class ConfigError(RuntimeError):
    """The configuration is unsafe or inconsistent; the service refuses to start."""


def check(config: dict) -> None:
    """Refuse production with development secrets."""
    if config.get("KANAL_ENV") != "production":
        return
    if config.get("SECRET_KEY") in (None, "", DEV_SECRET):
        raise ConfigError(
            "KANAL_ENV=production needs KANAL_SECRET_KEY set to a secret of your own."
        )
    if (
        not config.get("KANAL_TWILIO_SANDBOX")
        and config.get("TWILIO_AUTH_TOKEN") == DEV_TWILIO_TOKEN
    ):
        raise ConfigError("KANAL_ENV=production needs TWILIO_AUTH_TOKEN from your Twilio account.")
    if config.get("KANAL_TWILIO_SANDBOX"):
        raise ConfigError(
            "KANAL_ENV=production runs with real Twilio credentials, not the sandbox: set "
            "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, and unset KANAL_TWILIO_SANDBOX."
        )
