"""The core serves a channel it has never heard of from the channel's description alone.

tests/integration/test_add_a_channel.py registers the same throwaway channel in the real app.
"""

import pytest

from router.domain.commands import ReceiveMessage
from router.service import wording
from tests import throwaway_channel
from tests.fakes import RecordingSender, fake_kanal

pytestmark = pytest.mark.unit


def kanal_with_throwaway():
    sender = RecordingSender()
    kanal = fake_kanal(extra_channels=[throwaway_channel.channel({}, sender=sender)])
    return kanal, sender


def test_a_new_channels_replies_leave_through_its_own_sender():
    kanal, sender = kanal_with_throwaway()
    cmd = ReceiveMessage("throwaway", "pager-7", "When is my pension paid?", provider_id="t-1")
    result = kanal.turns.receive(cmd)
    assert sender.sent == [("pager-7", result.replies[0].text, None)]
    assert kanal.sender.sent == []  # not through SMS's
    assert kanal.messages(result.contact_id, "out")[0].delivery_status == "queued"


def test_a_new_channels_own_limits_apply():
    kanal, sender = kanal_with_throwaway()
    result = kanal.turns.receive(ReceiveMessage("throwaway", "pager-7", "pension " * 50))
    assert len(kanal.messages(result.contact_id, "in")[0].text) == 160
    assert sender.bodies()[0] == wording.too_long(throwaway_channel.channel({}))
