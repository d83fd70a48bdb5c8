"""Build the kanal app under test across the old and the new `create_app` signatures.

New core:  router.create_app(config, *, bot=None, senders=None, clock=None)
Old core:  router.create_app(test_config) with the bot plugged in as config["KANAL_BOT"]

In both, configuration comes from the KANAL_* environment (router.config.from_env), and
KANAL_TWILIO_SANDBOX_URL points SMS at the sandbox the benchmark runs as its own process.
"""

from __future__ import annotations

import contextlib
import inspect
import os
from collections.abc import Iterator

from flask import Flask


@contextlib.contextmanager
def _no_sandbox_inside() -> Iterator[None]:
    """Keep the core from registering the sandbox on the server under test.

    The core registers channels.sandbox whenever KANAL_TWILIO_SANDBOX is on, even when
    KANAL_TWILIO_SANDBOX_URL points elsewhere; the benchmark serves it separately.
    """
    if not os.environ.get("KANAL_TWILIO_SANDBOX_URL"):
        yield
        return
    from channels import sandbox

    original = sandbox.init_app
    sandbox.init_app = lambda app: None
    try:
        yield
    finally:
        sandbox.init_app = original


def make_app(bot: object | None = None) -> Flask:
    """Create kanal with `bot` (None: the core's own Rasa client at KANAL_RASA_URL)."""
    import router
    from router.config import from_env

    config = from_env()
    with _no_sandbox_inside():
        if "bot" in inspect.signature(router.create_app).parameters:
            return router.create_app(config, bot=bot)
        if bot is not None:
            config["KANAL_BOT"] = bot
        return router.create_app(config)


def rasa_app() -> Flask:
    """gunicorn 'benchmarks.sms_webhook.factory:rasa_app()': kanal with the real Rasa bot."""
    return make_app(None)
