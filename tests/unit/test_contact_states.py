"""A contact's life: bot → queued → assigned → closed, and only the moves that make sense."""

from datetime import UTC, datetime, timedelta

import pytest

from router.domain import events as ev
from router.domain.model import (
    CLOSED_BY_BOT,
    CLOSED_INACTIVE,
    CLOSED_RESOLVED,
    Contact,
    ContactState,
    IllegalTransition,
    QueueItem,
    QueueState,
)

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


def contact(state=ContactState.BOT, **kw):
    return Contact(channel="sms", address="+4520000005", opened_at=NOW, state=state, id=7, **kw)


def waiting_item(minutes_ago=0):
    return QueueItem(
        contact_id=7,
        skill="general",
        priority=1,
        enqueued_at=NOW - timedelta(minutes=minutes_ago),
        id=3,
    )


def types(happened):
    return [h.type for h in happened]


def test_a_new_contact_is_with_the_bot():
    assert contact().state == ContactState.BOT
    assert contact().is_open


def test_a_bot_conversation_handed_off_waits_in_the_queue():
    c = contact()
    happened = c.enqueue(waiting_item())
    assert c.state == ContactState.QUEUED
    assert [(h.type, h.data) for h in happened] == [
        (ev.QUEUED, {"queue_item_id": 3, "skill": "general", "priority": 1, "queue": "general"})
    ]


def test_an_assigned_contact_handed_off_again_stays_with_its_agent():
    c = contact(ContactState.ASSIGNED, agent_id=5)
    item = waiting_item()
    item.state = QueueState.ASSIGNED
    c.enqueue(item)
    assert c.state == ContactState.ASSIGNED


def test_assigning_a_queued_contact_gives_it_to_the_agent_and_measures_the_wait():
    c = contact(ContactState.QUEUED)
    happened = c.assign(waiting_item(minutes_ago=4), agent_id=5, now=NOW)
    assert (c.state, c.agent_id, c.last_activity_at) == (ContactState.ASSIGNED, 5, NOW)
    assert [(h.type, h.data) for h in happened] == [
        (
            ev.AGENT_ASSIGNED,
            {"queue_item_id": 3, "agent_id": 5, "wait_seconds": 240, "wait_exact_seconds": 240.0},
        )
    ]


def test_the_wait_is_recorded_exactly_beside_its_whole_seconds():
    # The desk shows whole seconds (rounded down); the managers' figures need the exact wait.
    c = contact(ContactState.QUEUED)
    (happened,) = c.assign(
        waiting_item(minutes_ago=4), agent_id=5, now=NOW + timedelta(seconds=0.9)
    )
    assert (happened.data["wait_seconds"], happened.data["wait_exact_seconds"]) == (240, 240.9)


@pytest.mark.parametrize(
    ("state", "move"),
    [
        (ContactState.CLOSED, lambda c: c.enqueue(waiting_item())),
        (ContactState.CLOSED, lambda c: c.assign(waiting_item(), 5, NOW)),
        (ContactState.CLOSED, lambda c: c.close(NOW, CLOSED_RESOLVED)),
        (ContactState.ASSIGNED, lambda c: c.assign(waiting_item(), 6, NOW)),
    ],
    ids=["closed-enqueue", "closed-assign", "closed-close", "assigned-assign"],
)
def test_moves_a_contact_cannot_make_are_refused_and_change_nothing(state, move):
    c = contact(state, agent_id=5)
    with pytest.raises(IllegalTransition):
        move(c)
    assert (c.state, c.agent_id) == (state, 5)


def test_a_bot_conversation_that_ends_is_resolved_by_the_bot_then_closed():
    c = contact(need="payment_date")
    happened = c.close(NOW, CLOSED_BY_BOT, digital=True, rule_id="goodbye")
    assert c.state == ContactState.CLOSED
    assert c.closed_at == NOW
    assert not c.is_open
    assert [(h.type, h.data) for h in happened] == [
        (
            ev.RESOLVED,
            {"by": "bot", "wrap_up": "self_service", "completed": True, "digital": True},
        ),
        (ev.CLOSED, {"why": CLOSED_BY_BOT, "rule_id": "goodbye"}),
    ]


def test_a_bot_conversation_without_a_known_need_is_not_counted_as_completed():
    resolved = contact().close(NOW, CLOSED_INACTIVE)[0]
    assert resolved.type == ev.RESOLVED
    assert resolved.data["completed"] is False


def test_a_citizen_who_leaves_the_queue_abandons_their_place():
    c = contact(ContactState.QUEUED)
    item = waiting_item()
    happened = c.close(NOW, CLOSED_INACTIVE, item=item)
    assert item.state == QueueState.ABANDONED
    assert item.closed_at == NOW
    assert types(happened) == [ev.CLOSED]  # nobody resolved anything
    assert happened[0].data == {"why": CLOSED_INACTIVE, "state_before": "queued"}


def test_an_agent_resolving_a_contact_finishes_its_queue_item_with_the_wrap_up():
    c = contact(ContactState.ASSIGNED, agent_id=5)
    item = waiting_item()
    item.state = QueueState.ASSIGNED
    happened = c.close(
        NOW, CLOSED_RESOLVED, item=item, agent_id=5, wrap_up="answered", completed=True
    )
    assert item.state == QueueState.DONE
    assert c.wrap_up == "answered"
    assert types(happened) == [ev.RESOLVED, ev.CLOSED]
    assert happened[0].data["by"] == "agent"


def test_closing_a_waiting_contact_for_another_reason_finishes_its_item():
    c = contact(ContactState.QUEUED)
    item = waiting_item()
    c.close(NOW, CLOSED_BY_BOT, item=item)
    assert item.state == QueueState.DONE


def test_a_chat_left_in_the_queue_is_abandoned_and_comes_back_in_its_place():
    from router.domain.model import CLOSED_ABANDONED

    item = waiting_item(minutes_ago=4)
    c = contact(ContactState.QUEUED)
    happened = c.abandon(item, NOW)
    closed = happened[-1]
    assert closed.type == ev.CLOSED
    assert closed.data["why"] == CLOSED_ABANDONED and closed.data["state_before"] == "queued"
    assert c.state == ContactState.CLOSED and item.state == QueueState.ABANDONED

    later = NOW + timedelta(minutes=3)
    back = c.come_back(item, later)
    assert types(back) == [ev.RETURNED] and back[0].data == {"queue_item_id": 3}
    assert c.state == ContactState.QUEUED and c.closed_at is None
    assert item.state == QueueState.WAITING
    assert item.enqueued_at == NOW - timedelta(minutes=4)  # the place it had


def test_only_a_waiting_chat_can_be_abandoned_and_only_an_abandoned_one_comes_back():
    for state in (ContactState.BOT, ContactState.ASSIGNED, ContactState.CLOSED):
        with pytest.raises(IllegalTransition):
            contact(state).abandon(waiting_item(), NOW)
    resolved = contact(ContactState.QUEUED)
    item = waiting_item()
    resolved.close(NOW, CLOSED_RESOLVED, item=item, wrap_up="answered")
    with pytest.raises(IllegalTransition):
        resolved.come_back(item, NOW)
    with pytest.raises(IllegalTransition):
        contact(ContactState.QUEUED).come_back(waiting_item(), NOW)
