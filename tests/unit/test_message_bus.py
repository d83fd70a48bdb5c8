"""The message bus: a command goes to its handler; what it raised goes to the event handlers
after the commit, never before and never for work rolled back; a reply whose process stopped
before sending is sent once by the next dispatcher after the claim's lease, and one the
provider took before the process stopped is recorded, not sent again."""

from dataclasses import dataclass

import pytest

from router.domain.commands import ReceiveMessage
from router.domain.model import Contact, DeliveryState, Message
from router.service.delivery import Delivery
from router.service.messagebus import MessageBus
from router.service.ports import SendResult
from tests.fakes import OPEN_HOURS, FakeStore, FakeUnitOfWork, fake_kanal

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class Say:
    text: str
    commit: bool = True


@dataclass(frozen=True)
class Stored:
    message_id: int


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
            uow.after_commit.append(Stored(message.id))
            if cmd.commit:
                uow.commit()
            return message.id

    def stored(waiting: list[Stored]) -> None:
        # What the handler sees is committed: another unit of work reads it.
        seen.append(([e.message_id for e in waiting], len(store.all(Message))))

    bus.on_command(Say, say)
    bus.on_event(Stored, stored)
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

    bus.on_event(Stored, broken)
    assert bus.handle(Say("hello")) == 1
    assert len(seen) == 1  # the other handler still ran


def _stopped(*args, **kwargs):  # the process dies after the commit
    raise SystemExit(1)


def test_a_reply_whose_process_stopped_before_sending_is_sent_once_after_its_lease(monkeypatch):
    kanal = fake_kanal()
    with monkeypatch.context() as stopping:
        stopping.setattr(Delivery, "send", _stopped)
        with pytest.raises(SystemExit):
            kanal.turns.receive(ReceiveMessage("sms", "+4520000777", "When is my pension paid?"))
    contact = kanal.contact_on("sms", "+4520000777")
    [reply] = kanal.messages(contact.id, "out")
    assert reply.delivery_status == DeliveryState.SENDING_LOCAL  # claimed by the dead process
    assert kanal.sender.sent == []

    assert kanal.delivery.dispatch_due() == 0, "another process' claim is left alone"
    kanal.clock.advance(minutes=3)  # the claim's lease has run out
    assert kanal.delivery.dispatch_due() == 1
    assert kanal.delivery.dispatch_due() == 0
    assert kanal.sender.bodies() == [reply.text]
    [sent] = kanal.messages(contact.id, "out")
    assert (sent.delivery_status, sent.attempts) == (DeliveryState.QUEUED, 1)


def test_a_reply_the_provider_took_before_its_process_stopped_is_not_sent_again(monkeypatch):
    kanal = fake_kanal()
    with monkeypatch.context() as stopping:
        stopping.setattr(Delivery, "_record", _stopped)
        with pytest.raises(SystemExit):
            kanal.turns.receive(ReceiveMessage("sms", "+4520000778", "When is my pension paid?"))
    contact = kanal.contact_on("sms", "+4520000778")
    [reply] = kanal.messages(contact.id, "out")
    assert reply.delivery_status == DeliveryState.SENDING_LOCAL  # sent, never recorded
    assert kanal.sender.bodies() == [reply.text]

    kanal.clock.advance(minutes=3)
    assert kanal.delivery.dispatch_due() == 0
    assert kanal.sender.bodies() == [reply.text], "sent once"
    [recorded] = kanal.messages(contact.id, "out")
    assert recorded.delivery_status == DeliveryState.QUEUED
    assert recorded.provider_id == kanal.sender.taken[0][2].provider_id


def test_a_stale_claim_the_provider_cannot_answer_for_waits_for_a_person(monkeypatch):
    kanal = fake_kanal()
    with monkeypatch.context() as stopping:
        stopping.setattr(Delivery, "send", _stopped)
        with pytest.raises(SystemExit):
            kanal.turns.receive(ReceiveMessage("sms", "+4520000779", "When is my pension paid?"))
    kanal.sender.find_sent = lambda to, body, since: SendResult("uncertain", error="no answer")
    kanal.clock.advance(minutes=3)
    assert kanal.delivery.dispatch_due() == 0
    contact = kanal.contact_on("sms", "+4520000779")
    [reply] = kanal.messages(contact.id, "out")
    assert reply.delivery_status == DeliveryState.REVIEW
    assert kanal.sender.sent == []
