"""SLA timers and a supervisor's moves as domain rules: each step once, only while waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from router.domain import events as ev
from router.domain import sla
from router.domain.model import IllegalTransition, QueueItem
from router.domain.routing import Queue, Routing

T0 = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def _item(priority: int = 0) -> QueueItem:
    return QueueItem(contact_id=1, skill="pension", priority=priority, enqueued_at=T0, id=7)


def _types(item: QueueItem) -> list[str]:
    return [e.type for e in item.collect_events()]


def test_the_stage_of_a_wait_against_its_target():
    assert sla.stage(T0, T0 + timedelta(seconds=79), 100) == sla.ON_TIME
    assert sla.stage(T0, T0 + timedelta(seconds=80), 100) == sla.WARNING
    assert sla.stage(T0, T0 + timedelta(seconds=100), 100) == sla.BREACHED


def test_a_queue_may_set_its_own_target_wait_else_the_agencys():
    routing = Routing(
        queues=(Queue("a", target_wait_seconds=30), Queue("b")), target_wait_seconds=90
    )
    assert (routing.target_wait("a"), routing.target_wait("b"), routing.target_wait(None)) == (
        30, 90, 90,
    )  # fmt: skip


def test_a_breach_raises_the_priority_once_and_ranks_the_item_earlier():
    item = _item()
    item.warn_sla(T0 + timedelta(seconds=80), 100)
    with pytest.raises(IllegalTransition):
        item.warn_sla(T0 + timedelta(seconds=90), 100)
    rank = item.rank_at
    item.breach_sla(T0 + timedelta(seconds=100), 100, aging_seconds=300)
    assert item.priority == 1 and item.rank_at == rank - timedelta(seconds=300)
    with pytest.raises(IllegalTransition):
        item.breach_sla(T0 + timedelta(seconds=200), 100, aging_seconds=300)
    item.callback_offered(T0 + timedelta(seconds=100), message_id=3)
    assert _types(item) == [ev.SLA_WARNED, ev.SLA_BREACHED, ev.SLA_CALLBACK_OFFERED]


def test_no_timer_or_move_touches_an_item_an_agent_has_taken():
    item = _item()
    with pytest.raises(IllegalTransition):
        item.callback_offered(T0, message_id=None)  # not past the target
    item.claim(agent_id=5, now=T0)
    for step in (
        lambda: item.warn_sla(T0, 100),
        lambda: item.breach_sla(T0, 100, 300),
        lambda: item.reprioritise(3, T0, 300, by=9),
        lambda: item.move_to("general", "general", T0, by=9),
    ):
        with pytest.raises(IllegalTransition):
            step()
    assert item.priority == 0 and item.queue == "pension"


def test_a_supervisor_moves_an_item_and_sets_its_priority_with_events():
    item = _item(priority=2)
    item.reprioritise(0, T0, aging_seconds=300, by=9)
    assert item.rank_at == T0
    with pytest.raises(IllegalTransition):
        item.reprioritise(0, T0, aging_seconds=300, by=9)
    item.move_to("general", "general", T0, by=9)
    with pytest.raises(IllegalTransition):
        item.move_to("general", "general", T0, by=9)
    events = item.collect_events()
    assert [e.type for e in events] == [ev.PRIORITY_CHANGED, ev.QUEUE_ITEM_MOVED]
    assert events[0].data["from"] == 2 and events[1].data["from_queue"] == "pension"
