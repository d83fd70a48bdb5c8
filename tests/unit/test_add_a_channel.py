"""The core serves a channel it has never heard of from the channel's module alone.

Registering the channel is one line (its module among the installed ones); a policy profile
may then name it in a rule. tests/integration/test_add_a_channel.py registers the same
throwaway channel in the real app.
"""

import pytest

import channels
from router.domain.commands import ReceiveMessage
from router.policy import ProfileError, load_profile
from router.service import wording
from tests import throwaway_channel
from tests.fakes import RecordingSender, fake_kanal

pytestmark = pytest.mark.unit

# A profile with a rule for the new channel: a pager's messages go to a person.
PAGER_PROFILE = """
name = "pagers"
description = "Messages from pagers go to a person; the assistant answers the rest."

[[rule]]
id = "pager-to-people"
when = { channel = "throwaway" }
action = "assisted"
reason = "Messages from a pager go to a person."

[[rule]]
id = "person-anywhere-else"
when = { asked_for_person = true }
action = "assisted"
reason = "You asked for a person."

[[rule]]
id = "exempt"
when = { exempt = true }
action = "assisted"
reason = "Registered exemption."

[[rule]]
id = "bot-failed"
when = { bot_failures = { at_least = 2 } }
action = "assisted"
reason = "The assistant could not help."

[default]
action = "self_service"
reason = "The assistant answers first."
"""


def kanal_with_throwaway(**kw):  # noqa: ANN003, ANN201
    sender = RecordingSender()
    kanal = fake_kanal(
        channels=(*channels.INSTALLED, throwaway_channel.__name__),  # the one line
        senders={throwaway_channel.NAME: sender},
        **kw,
    )
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


def test_a_profile_may_name_a_registered_channel_and_its_rule_decides(tmp_path):
    profile = tmp_path / "pagers.toml"
    profile.write_text(PAGER_PROFILE)
    kanal, _ = kanal_with_throwaway(profile=str(profile))
    paged = kanal.turns.receive(ReceiveMessage("throwaway", "pager-7", "When is my pension paid?"))
    chatted = kanal.turns.receive(ReceiveMessage("webchat", "s-1", "When is my pension paid?"))
    assert paged.state == "queued"
    assert kanal.decisions(paged.contact_id)[-1].rule_id == "pager-to-people"
    assert chatted.state == "bot"
    assert "throwaway" in kanal.profile.channels


def test_a_profile_naming_a_channel_that_is_not_installed_is_refused(tmp_path):
    profile = tmp_path / "pagers.toml"
    profile.write_text(PAGER_PROFILE)
    with pytest.raises(ProfileError, match="'channel' cannot be 'throwaway'"):
        load_profile(profile, channels=tuple(m.split(".")[-1] for m in channels.INSTALLED))
    with pytest.raises(ProfileError, match="throwaway"):
        fake_kanal(profile=str(profile))
