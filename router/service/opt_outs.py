"""An opt-out (STOP) from a number with no conversation open: the consent is recorded and
no contact is opened for it. A contact opened for a keyword alone would wait in no queue
yet count in the figures as a conversation nobody had (docs/domain.md §5.5); the opt-out
is honoured all the same, since every message out checks the number's consent."""

from __future__ import annotations

from datetime import datetime

from router.domain.model import InboxEntry
from router.service.channels import Channel
from router.service.outbox import set_consent
from router.service.unit_of_work import UnitOfWork


def keyword_of(text: str) -> str:
    """Return the keyword as consent keeps it (STOP, not ' stop.')."""
    return text.strip().upper()[:16]


def opted_out_alone(uow: UnitOfWork, entry: InboxEntry, channel: Channel, now: datetime) -> bool:
    """Record an opt-out that finds no open contact on its number; True when it did.

    False (nothing written) for any other message, or when a conversation is open: the
    opt-out is then filed in it as the citizen's message, for the desk to see."""
    if entry.kind != "opt_out" or not channel.needs_consent or entry.contact_id is not None:
        return False
    uow.contacts.lock_address(entry.channel, entry.address)
    if uow.contacts.open_on(entry.channel, entry.address, now - channel.inactivity) is not None:
        return False
    set_consent(uow, entry.channel, entry.address, False, keyword_of(entry.text), now)
    return True
