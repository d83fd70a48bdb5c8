"""The channels kanal serves: one module each, registered here with one line.

A channel module exposes `NAME`, `channel(config, sender=None) -> Channel` (its settings,
wording and sender) and `blueprint(services) -> Blueprint` (its inbound adapter).
See docs/architecture.md, "Adding a channel".
"""

INSTALLED = (
    "channels.webchat",
    "channels.sms",
    "ivr.voice",
)
