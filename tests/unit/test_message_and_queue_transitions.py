"""A message's delivery and a queue item move only through their methods: each legal move
is made and recorded, each illegal one refused with IllegalTransition."""

from datetime import UTC, datetime, timedelta

import pytest

from router.domain import events as ev
from router.domain.model import (
    Contact,
    ContactState,
    DeliveryState,
    IllegalTransition,
    Message,
    QueueItem,
    QueueState,
)
from tests.fakes import FakeStore, FakeUnitOfWork

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def outbound(state: DeliveryState | None = DeliveryState.PENDING, **kw) -> Message:
    return Message(
        channel="sms", direction="out", author="bot", text="Hello", created_at=NOW,
        contact_id=7, address="+4520000001", delivery_status=state, id=3, **kw,
    )  # fmt: skip


def delivery_events(message: Message) -> list[tuple[str, dict]]:
    return [(e.type, e.data) for e in message.collect_events() if isinstance(e, ev.Happened)]


# -- delivery: legal moves ------------------------------------------------------------------


def test_a_pending_message_is_claimed_for_one_lease_and_counts_the_attempt():
    m = outbound()
    m.claim(NOW, LEASE)
    assert m.delivery_status == DeliveryState.SENDING_LOCAL
    assert (m.attempts, m.next_attempt_at) == (1, NOW + LEASE)
    assert delivery_events(m) == []  # a claim is kept on the message only


def test_a_message_the_provider_took_is_queued_and_the_log_hears_of_it():
    m = outbound()
    m.claim(NOW, LEASE)
    m.handed_over(NOW, "SM1", segments=2)
    assert (m.delivery_status, m.provider_id, m.segments) == ("queued", "SM1", 2)
    assert m.next_attempt_at is None
    assert delivery_events(m) == [(ev.DELIVERY_UPDATED, {"message_id": 3, "status": "queued"})]


def test_a_refusal_safe_to_repeat_waits_for_a_retry_and_then_gives_up():
    m = outbound()
    m.claim(NOW, LEASE)
    m.not_taken(NOW, "429", retry_at=NOW + timedelta(seconds=30))
    assert (m.delivery_status, m.next_attempt_at) == ("retry", NOW + timedelta(seconds=30))
    assert m.is_claimable and not m.is_due(NOW) and m.is_due(NOW + timedelta(seconds=30))
    m.claim(NOW, LEASE)
    m.not_taken(NOW, "429", retry_at=None)
    assert m.delivery_status == DeliveryState.FAILED
    assert m.last_error == "gave up after 2 attempts: 429"
    statuses = [data["status"] for _, data in delivery_events(m)]
    assert statuses == ["retry", "failed"]


def test_an_answer_that_leaves_it_unknown_goes_to_review_and_never_back_to_pending():
    m = outbound()
    m.claim(NOW, LEASE)
    m.maybe_sent(NOW, "timeout")
    assert m.delivery_status == DeliveryState.REVIEW and not m.is_claimable
    with pytest.raises(IllegalTransition):
        m.claim(NOW, LEASE)


def test_a_person_settles_a_review_either_way():
    resent, arrived = outbound(DeliveryState.REVIEW), outbound(DeliveryState.REVIEW)
    resent.settle(NOW, resend=True, by=9)
    arrived.settle(NOW, resend=False, by=9)
    assert resent.delivery_status == DeliveryState.PENDING and resent.is_due(NOW)
    assert arrived.delivery_status == DeliveryState.SENT
    assert delivery_events(arrived) == [(ev.DELIVERY_UPDATED, {"message_id": 3, "status": "sent"})]


def test_a_stale_claim_goes_to_review_with_the_reason():
    m = outbound(DeliveryState.SENDING_LOCAL)
    m.claim_went_stale(NOW)
    assert m.delivery_status == DeliveryState.REVIEW
    assert "dispatcher stopped" in m.last_error


def test_a_lapsed_claim_is_claimable_again_without_counting_the_attempt_that_never_left():
    m = outbound()
    m.claim(NOW, LEASE)
    m.claim_lapsed(NOW + LEASE)
    assert (m.delivery_status, m.attempts) == (DeliveryState.PENDING, 0)
    assert m.is_due(NOW + LEASE)


def test_an_opted_out_address_blocks_the_message_for_good():
    m = outbound()
    m.block(NOW)
    assert m.delivery_status == DeliveryState.BLOCKED
    assert delivery_events(m) == [(ev.MESSAGE_BLOCKED, {"message_id": 3, "why": "opted_out"})]
    m.reported(NOW, "delivered")  # nothing moves a blocked message
    assert m.delivery_status == DeliveryState.BLOCKED


def test_reports_move_forward_only_and_a_late_failure_after_a_report_keeps_what_went():
    m = outbound(DeliveryState.SENDING_LOCAL)
    m.reported(NOW, "delivered")
    m.reported(NOW, "sent")
    assert m.delivery_status == DeliveryState.DELIVERED
    m.overtaken("timeout")
    assert m.delivery_status == DeliveryState.DELIVERED
    assert m.last_error.startswith("sent, though")


def test_an_undelivered_report_keeps_the_providers_error_code():
    m = outbound(DeliveryState.QUEUED)
    m.reported(NOW, "undelivered", "30003")
    assert (m.delivery_status, m.last_error) == ("undelivered", "Twilio error 30003")


# -- delivery: illegal moves ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "move"),
    [
        (DeliveryState.SENDING_LOCAL, lambda m: m.claim(NOW, LEASE)),
        (DeliveryState.QUEUED, lambda m: m.claim(NOW, LEASE)),
        (DeliveryState.BLOCKED, lambda m: m.claim(NOW, LEASE)),
        (DeliveryState.PENDING, lambda m: m.not_taken(NOW, "429", None)),
        (DeliveryState.DELIVERED, lambda m: m.maybe_sent(NOW, "timeout")),
        (DeliveryState.PENDING, lambda m: m.refused(NOW, "invalid number")),
        (DeliveryState.PENDING, lambda m: m.settle(NOW, resend=True, by=1)),
        (DeliveryState.SENT, lambda m: m.settle(NOW, resend=False, by=1)),
        (DeliveryState.QUEUED, lambda m: m.block(NOW)),
        (DeliveryState.PENDING, lambda m: m.claim_went_stale(NOW)),
        (DeliveryState.SENDING_LOCAL, lambda m: m.overtaken("timeout")),
        (DeliveryState.BLOCKED, lambda m: m.handed_over(NOW, "SM1", 1)),
        (DeliveryState.PENDING, lambda m: m.claim_lapsed(NOW)),
        (DeliveryState.QUEUED, lambda m: m.claim_lapsed(NOW)),
    ],
)
def test_a_delivery_move_from_the_wrong_state_is_refused(state, move):
    m = outbound(state)
    with pytest.raises(IllegalTransition):
        move(m)
    assert m.delivery_status == state
    assert m.collect_events() == []


def test_an_inbound_message_has_no_delivery():
    m = outbound(None)
    m.direction = "in"
    with pytest.raises(IllegalTransition):
        m.reported(NOW, "delivered")
    with pytest.raises(IllegalTransition):
        m.claim(NOW, LEASE)


# -- the queue item -------------------------------------------------------------------------


def item(state: QueueState = QueueState.WAITING) -> QueueItem:
    return QueueItem(contact_id=7, skill="general", priority=0, enqueued_at=NOW, state=state)


def test_a_waiting_item_is_claimed_by_one_agent():
    i = item()
    i.claim(5, NOW)
    assert (i.state, i.agent_id, i.claimed_at) == (QueueState.ASSIGNED, 5, NOW)
    with pytest.raises(IllegalTransition):
        i.claim(6, NOW)
    assert i.agent_id == 5


@pytest.mark.parametrize("state", [QueueState.ASSIGNED, QueueState.DONE, QueueState.ABANDONED])
def test_only_a_waiting_item_can_be_claimed(state):
    with pytest.raises(IllegalTransition):
        item(state).claim(5, NOW)


def test_the_first_answer_is_noted_once():
    i = item(QueueState.ASSIGNED)
    assert i.answer(NOW) is True
    assert i.answer(NOW + timedelta(minutes=1)) is False
    assert i.answered_at == NOW


def test_an_item_ends_done_or_abandoned_once():
    left, handled = item(), item(QueueState.ASSIGNED)
    left.end(NOW, left=True)
    handled.end(NOW, left=True)  # a citizen with a person does not abandon the queue
    assert (left.state, handled.state) == (QueueState.ABANDONED, QueueState.DONE)
    with pytest.raises(IllegalTransition):
        left.end(NOW)


# -- the unit of work collects, the journal writes ------------------------------------------


def test_what_aggregates_record_reaches_the_log_at_commit_in_order():
    store = FakeStore()
    with FakeUnitOfWork(store) as uow:
        contact = uow.contacts.add(Contact(channel="sms", address="+4520000001", opened_at=NOW))
        queued = uow.queue.add(item())
        queued.contact_id = contact.id
        contact.enqueue(queued)
        queued.claim(5, NOW)
        contact.assign(queued, 5, NOW + timedelta(seconds=40))
        uow.commit()
    with FakeUnitOfWork(store) as uow:
        logged = uow.events.for_contact(contact.id)
    assert [e.type for e in logged] == [ev.QUEUED, ev.AGENT_ASSIGNED]
    assert logged[1].data["wait_seconds"] == 40
    assert logged[1].at == NOW + timedelta(seconds=40)
    assert store.all(Contact)[0].state == ContactState.ASSIGNED


def test_events_of_a_transaction_rolled_back_never_reach_the_log():
    store = FakeStore()
    with FakeUnitOfWork(store) as uow:
        contact = uow.contacts.add(Contact(channel="sms", address="+4520000001", opened_at=NOW))
        uow.commit()
    with FakeUnitOfWork(store) as uow:
        uow.contacts.get(contact.id).close(NOW, "resolved", wrap_up="answered")
    with FakeUnitOfWork(store) as uow:
        assert uow.events.for_contact(contact.id) == []
        assert uow.contacts.get(contact.id).state == ContactState.BOT
