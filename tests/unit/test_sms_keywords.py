"""Which texts are Twilio keywords: only a keyword on its own, never a sentence containing one."""

import pytest

from channels.sms import keyword_kind

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("STOP", "opt_out"),
        (" stop ", "opt_out"),
        ("Stop.", "opt_out"),
        ("unsubscribe", "opt_out"),
        ("STOPALL", "opt_out"),
        ("start", "opt_in"),
        ("UNSTOP", "opt_in"),
        ("yes", "opt_in"),
        ("help", "help"),
        ("INFO", "help"),
        ("please stop sending me letters", "message"),
        ("help me with my pension", "message"),
    ],
)
def test_only_keyword_only_messages_are_keywords(body, kind):
    assert keyword_kind(body) == kind
