"""The message bus: a command goes to its handler; what it raised goes to the event handlers
after the commit, never before and never for work rolled back; a reply the handler could not
send stays pending and the next dispatcher sends it once."""

from dataclasses import dataclass

import pytest

from router.domain.commands import ReceiveMessage
from router.domain.events import ReplyWaiting
from router.domain.model import Contact, DeliveryState, Message
from router.service.messagebus import MessageBus
from tests.fakes import OPEN_HOURS, FakeStore, FakeUnitOfWork, fake_kanal

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class Say:
    text: str
    commit: bool = True


def bus_on(store: FakeStore):
    bus = MessageBus(lambda: FakeUnitOfWork(store))
    seen: list[tuple[list[int], int]] = []

    def say(cmd: Say) -> int:
        with bus.uow() as uow:
            contact = uow.contacts.add(Contact(channel="sms", address="+45", opened_at=OPEN_HOURS))
            message = uow.messages.add(
                Message(channel="sms", direction="out", author="bot", text=cmd.text,
                        created_at=OPEN_HOURS, contact_id=contact.id, address="+45",
                        delivery_status=DeliveryState.PENDING)
            )  # fmt: skip
            message.wait_for_delivery()
            if cmd.commit:
                uow.commit()
            return message.id

    def stored(waiting: list[ReplyWaiting]) -> None:
        # What the handler sees is committed: another unit of work reads it.
        seen.append(([e.message_id for e in waiting], len(store.all(Message))))

    bus.on_command(Say, say)
    bus.on_event(ReplyWaiting, stored)
    return bus, seen


def test_a_command_goes_to_its_one_handler_and_answers_with_what_it_returned():
    bus, _ = bus_on(FakeStore())
    assert bus.handle(Say("hello")) == 1
    with pytest.raises(ValueError, match="has a handler already"):
        bus.on_command(Say, lambda cmd: None)


def test_events_are_handled_after_the_commit_with_the_work_already_stored():
    bus, seen = bus_on(FakeStore())
    message_id = bus.handle(Say("hello"))
    assert seen == [([message_id], 1)]


def test_events_of_work_rolled_back_are_never_handled():
    store = FakeStore()
    bus, seen = bus_on(store)
    bus.handle(Say("never", commit=False))
    assert seen == []
    assert store.all(Message) == []


def test_a_failing_event_handler_does_not_fail_the_command():
    bus, seen = bus_on(FakeStore())

    def broken(waiting):
        raise RuntimeError("the sender's adapter is broken")

    bus.on_event(ReplyWaiting, broken)
    assert bus.handle(Say("hello")) == 1
    assert len(seen) == 1  # the other handler still ran


def test_a_reply_left_pending_by_a_failed_dispatch_is_sent_once_by_the_next_dispatcher():
    kanal = fake_kanal()

    def stopped(message_ids):  # the process dies between the commit and the send
        raise SystemExit(1)

    real = kanal.delivery.deliver_now
    kanal.delivery.deliver_now = stopped
    with pytest.raises(SystemExit):
        kanal.turns.receive(ReceiveMessage("sms", "+4520000777", "When is my pension paid?"))
    contact = kanal.contact_on("sms", "+4520000777")
    [reply] = kanal.messages(contact.id, "out")
    assert reply.delivery_status == DeliveryState.PENDING
    assert kanal.sender.sent == []

    kanal.delivery.deliver_now = real
    assert kanal.delivery.dispatch_due() == 1
    assert kanal.delivery.dispatch_due() == 0
    assert kanal.sender.bodies() == [reply.text]


def test_a_turns_replies_leave_in_the_order_the_turn_gave_them():
    kanal = fake_kanal()
    result = kanal.turns.receive(
        ReceiveMessage("sms", "+4520000778", "When is my pension paid? " + "x" * 1600)
    )
    assert len(result.replies) == 2  # "your message was cut", then the bot's answer
    assert kanal.sender.bodies() == [r.text for r in result.replies]
