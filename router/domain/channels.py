"""The channels kanal ships, by the names the log, the queues, the policy and the settings use.

The one source of those names: each channel module (`channels/webchat.py`, `channels/sms.py`,
`ivr/voice.py`) names itself from here, and every list or table of channels is built from
these. A channel added later brings its own name (docs/architecture.md, "Adding a channel");
the running kanal's registry, not this tuple, says what it serves.
"""

from __future__ import annotations

WEBCHAT = "webchat"
SMS = "sms"
VOICE = "voice"  # the phone (Twilio Voice, the IVR)

CHANNELS = (WEBCHAT, SMS, VOICE)  # as channels.INSTALLED ships them
# Where the citizen reads and writes: they count as digital for digital take-up (docs/domain.md
# §4), and a waiting citizen can be offered a callback there in writing.
WRITTEN = frozenset({WEBCHAT, SMS})
