"""The callback's TwiML, parsed: who calls, in the citizen's language, then the agent."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ivr.legs import SPOKEN, callback_twiml

pytestmark = pytest.mark.unit

# Twilio `language` and Amazon Polly voice pairs that work together (docs/domain.md §5.7).
VALID_PAIRS = {("en-GB", "Polly.Amy"), ("da-DK", "Polly.Naja")}


def parsed(language, endpoint):
    return ET.fromstring(str(callback_twiml(language, endpoint)))


def test_every_spoken_language_uses_a_valid_voice_pair():
    assert {(lang, voice) for lang, voice, _c, _s in SPOKEN.values()} <= VALID_PAIRS


@pytest.mark.parametrize(
    ("endpoint", "path", "text"),
    [
        ("client:agent-7", "Dial/Client", "agent-7"),
        ("+4570000001", "Dial/Number", "+4570000001"),
        ("sip:agent7@pbx.example.org", "Dial/Sip", "sip:agent7@pbx.example.org"),
    ],
)
def test_an_answered_callback_says_who_calls_then_dials_the_agent(endpoint, path, text):
    root = parsed("da", endpoint)
    assert [child.tag for child in root] == ["Say", "Dial"]
    say = root.find("Say")
    assert (say.get("language"), say.get("voice")) == ("da-DK", "Polly.Naja")
    assert say.text == SPOKEN["da"][2]
    assert root.find(path).text == text


def test_an_unknown_language_is_spoken_in_english():
    say = parsed("fr", "client:agent-1").find("Say")
    assert (say.get("language"), say.text) == ("en-GB", SPOKEN["en"][2])


def test_a_callback_no_longer_waiting_apologises_and_hangs_up():
    root = parsed("en", None)
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert root.find("Say").text == SPOKEN["en"][3]
