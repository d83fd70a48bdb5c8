"""The Twilio-compatible sandbox served on its own, outside the server under test.

    gunicorn 'benchmarks.sms_webhook.sandbox_app:create_app()'

Reads TWILIO_AUTH_TOKEN, KANAL_SANDBOX_DATABASE_URL and KANAL_SANDBOX_CALLBACK_DELAY; kanal
points KANAL_TWILIO_SANDBOX_URL at <this server>/sandbox/twilio.
"""

from __future__ import annotations

import os

from flask import Flask

from channels import sandbox


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        TWILIO_AUTH_TOKEN=os.environ["TWILIO_AUTH_TOKEN"],
        KANAL_INSTANCE_PATH=os.environ.get("KANAL_INSTANCE_PATH"),
        KANAL_SANDBOX_DATABASE_URL=os.environ.get("KANAL_SANDBOX_DATABASE_URL"),
        KANAL_SANDBOX_CALLBACK_DELAY=float(os.environ.get("KANAL_SANDBOX_CALLBACK_DELAY", "0")),
    )
    sandbox.init_app(app)
    app.add_url_rule("/healthz", "healthz", lambda: "ok")
    return app
