"""The callback's TwiML, parsed: who calls, in the citizen's language, then the agent."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ivr import prompts as p
from ivr.legs import callback_twiml

pytestmark = pytest.mark.unit


def parsed(language, endpoint):
    return ET.fromstring(str(callback_twiml(language, endpoint, "Udbetaling Danmark")))


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
    assert say.text == p.text("da", "calling_back", agency="Udbetaling Danmark")
    assert "Udbetaling Danmark" in say.text
    assert root.find(path).text == text


def test_an_unknown_language_is_spoken_in_english():
    say = parsed("fr", "client:agent-1").find("Say")
    assert (say.get("language"), say.get("voice")) == ("en-GB", "Polly.Amy")
    assert say.text == p.text("en", "calling_back", agency="Udbetaling Danmark")


def test_a_callback_no_longer_waiting_apologises_and_hangs_up():
    root = parsed("en", None)
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert root.find("Say").text == p.text("en", "calling_back_gone", agency="Udbetaling Danmark")
