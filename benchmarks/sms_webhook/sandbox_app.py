"""The Twilio-compatible sandbox served on its own, outside the server under test.

    gunicorn 'benchmarks.sms_webhook.sandbox_app:create_app()'

Reads TWILIO_AUTH_TOKEN, KANAL_SANDBOX_DATABASE_URL and KANAL_SANDBOX_CALLBACK_DELAY; kanal
points KANAL_TWILIO_SANDBOX_URL at <this server>/sandbox/twilio.
"""

from __future__ import annotations

from channels.twilio_sandbox.app import create_app

__all__ = ["create_app"]
