"""The counters behind /metrics' `_total` series: by the labels they are declared with."""

import pytest

from router.service.counters import ProcessCounters

pytestmark = pytest.mark.unit


def test_counts_add_up_by_their_labels_and_a_missing_label_is_refused():
    counters = ProcessCounters()
    counters.add("bot_failures", "sms", "unavailable")
    counters.add("bot_failures", "sms", "unavailable", by=2)
    counters.add("bot_failures", "webchat", "not_understood")
    assert counters.read("bot_failures") == {
        ("sms", "unavailable"): 3,
        ("webchat", "not_understood"): 1,
    }
    assert counters.read("turns") == {}
    with pytest.raises(ValueError, match="channel, reason"):
        counters.add("bot_failures", "sms")
