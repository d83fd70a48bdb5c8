"""A turn a dead process left halfway is finished before the citizen's next message is taken."""

import contextlib

from router.domain.commands import ReceiveMessage
from router.service.lanes import take_in_order


def sms(number: str, text: str, sid: str) -> ReceiveMessage:
    return ReceiveMessage(channel="sms", address=number, text=text, provider_id=sid)


def test_the_next_message_waits_for_the_turn_a_dead_process_left_at_the_bot(
    kanal, bot, monkeypatch
):
    number = "+4520777001"
    first = kanal.turns.accept(sms(number, "When is my payment?", "SM" + "1" * 32))

    def process_dies(*args, **kwargs):  # the web process is killed while Rasa answers
        raise SystemExit("killed")

    monkeypatch.setattr(bot, "turn", process_dies)
    with contextlib.suppress(SystemExit):
        take_in_order(kanal.turns, first, f"sms:{number}")
    monkeypatch.undo()
    # Filed and taken from the inbox, its turn unfinished: the sweep would find it in 15-25 s.
    contact = kanal.views.contact_on("sms", number)
    with kanal.uow() as uow:
        assert [m.processed for m in uow.messages.for_contact(contact.id)] == [False]

    later = kanal.turns.accept(sms(number, "hello", "SM" + "2" * 32))
    take_in_order(kanal.turns, later, f"sms:{number}")

    with kanal.uow() as uow:
        messages = uow.messages.for_contact(contact.id)
    inbound = [(m.text, m.processed) for m in messages if m.direction == "in"]
    assert inbound == [("When is my payment?", True), ("hello", True)]
    assert [text for _, text in bot.turns] == ["When is my payment?", "hello"]
    answers = [m.text for m in messages if m.direction == "out"]
    assert "payment_date" in answers[0] and "greet" in answers[-1], answers
