"""What the core knows of a channel: its settings and wording, and the way replies leave.

Each channel module (`channels/webchat.py`, `channels/sms.py`, ...) describes itself with a
`Channel` and registers it in one line; the core never asks which channel it is serving,
only what the channel's description says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from router.service.ports import Sender


@dataclass(frozen=True)
class Channel:
    """One channel's settings, wording and sender."""

    name: str
    # A bot conversation left this long is closed (and a new message opens a new contact).
    inactivity: timedelta = timedelta(minutes=30)
    # How citizens talk to us here, in the texts we send: "write" on text channels, "say" on
    # the phone.
    verb: str = "write"
    # The longest message a citizen can send here; longer ones are cut (and said so).
    max_text: int = 2000
    # Whether a link in a reply can be followed on this channel.
    sends_links: bool = True
    # The address is a phone number, so the citizen can be identified in the register.
    address_is_phone: bool = False
    # Opt-out keywords (STOP) apply: never send to an address that has opted out.
    needs_consent: bool = False
    # Whether contacts here count as digital for digital take-up.
    digital: bool = True
    # The provider replies leave through; None when citizens read replies from kanal.
    sender: Sender | None = None
    # Where the provider reports delivery (None: no status callbacks).
    status_callback: str | None = None
    # The answer to HELP/INFO (channels with keywords).
    help_text: str = ""
    # Each contact here is a phone call (rows of `calls`, by CallSid), shown with the contact.
    calls: bool = False


class Channels:
    """The registered channels by name; an unknown name gets a plain text channel."""

    def __init__(self, channels: list[Channel] | tuple[Channel, ...] = ()) -> None:
        self._by_name = {c.name: c for c in channels}

    def add(self, channel: Channel) -> None:
        self._by_name[channel.name] = channel

    def __getitem__(self, name: str) -> Channel:
        found = self._by_name.get(name)
        return found if found is not None else Channel(name)

    def __iter__(self):
        return iter(self._by_name.values())

    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def with_senders(self) -> list[Channel]:
        """Return the channels whose replies a provider delivers."""
        return [c for c in self._by_name.values() if c.sender is not None]
