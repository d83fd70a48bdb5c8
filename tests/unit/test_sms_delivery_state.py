"""An SMS's delivery state only moves forward, whatever order Twilio's callbacks arrive in."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.domain.model import DELIVERY_RANK as RANK
from router.domain.model import advance
from router.service.delivery import Backoff

pytestmark = pytest.mark.unit

PROVIDER_STATES = ["queued", "sending", "sent", "delivered", "undelivered", "failed", "read"]


@given(st.lists(st.sampled_from(PROVIDER_STATES), min_size=1, max_size=12))
def test_any_order_of_callbacks_ends_at_the_furthest_state_reported(reports):
    state = "sending_local"
    seen = []
    for reported in reports:
        before = state
        state = advance(state, reported)
        seen.append(reported)
        assert RANK[state] >= RANK[before]
    assert RANK[state] == max(RANK[r] for r in seen)


def test_a_late_sent_does_not_undo_delivered():
    assert advance("delivered", "sent") == "delivered"


def test_a_final_state_is_not_replaced_by_another_final_state():
    assert advance("delivered", "undelivered") == "delivered"
    assert advance("failed", "delivered") == "failed"


def test_read_follows_delivered():
    assert advance("delivered", "read") == "read"


def test_a_blocked_message_stays_blocked():
    assert advance("blocked", "delivered") == "blocked"


def test_an_unknown_status_changes_nothing():
    assert advance("sent", "teleported") == "sent"


def test_a_callback_settles_a_message_under_review():
    # After a timeout we did not know whether it went; Twilio's callback tells us.
    assert advance("review", "sent") == "sent"


def test_backoff_doubles_from_30_seconds_up_to_an_hour():
    backoff = Backoff()
    assert [backoff.delay(n).total_seconds() for n in range(1, 5)] == [30, 60, 120, 240]
    assert backoff.delay(20) == timedelta(hours=1)
