"""Build the kanal app under test across the old and the new `create_app` signatures.

New core:  router.create_app(config, *, bot=None, senders=None, clock=None)
Configuration comes from the KANAL_* environment (router.config.from_env), and
KANAL_TWILIO_SANDBOX_URL points SMS at the sandbox the benchmark runs as its own process.
"""

from __future__ import annotations

from flask import Flask


def make_app(bot: object | None = None) -> Flask:
    """Create kanal with `bot` (None: the core's own Rasa client at KANAL_RASA_URL)."""
    import router
    from router.config import from_env

    return router.create_app(from_env(), bot=bot)


def rasa_app() -> Flask:
    """gunicorn 'benchmarks.sms_webhook.factory:rasa_app()': kanal with the real Rasa bot."""
    return make_app(None)
