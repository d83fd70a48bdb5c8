"""An SMS turn: taken once, answered once, and consent honoured on every path."""

from datetime import timedelta

import pytest

from router.domain import events as ev
from router.domain.commands import ReceiveMessage
from router.domain.model import CLOSED_INACTIVE, ContactState, InboxEntry
from router.service import wording
from router.service.housekeeping import close_inactive, finish_left_turns, purge_inbox
from tests.fakes import SMS_HELP_TEXT, STATUS_CALLBACK, ScriptedBot, fake_kanal

pytestmark = pytest.mark.unit

NUMBER = "+4520000002"
_sids = iter(range(1, 10_000))


def sms(text, number=NUMBER, kind="message", sid=None):
    return ReceiveMessage("sms", number, text, provider_id=sid or f"SM{next(_sids)}", kind=kind)


def test_a_retried_webhook_is_acknowledged_and_taken_once():
    kanal = fake_kanal()
    entry_id = kanal.turns.accept(sms("When is my pension paid?", sid="SMretried"))
    assert kanal.turns.accept(sms("When is my pension paid?", sid="SMretried")) is None
    result = kanal.turns.take(entry_id)
    assert kanal.turns.accept(sms("When is my pension paid?", sid="SMretried")) is None
    assert len(kanal.bot.turns) == 1
    assert len(kanal.messages(result.contact_id, "in")) == 1
    assert len(kanal.sender.sent) == 1


def test_a_message_received_twice_is_answered_once():
    kanal = fake_kanal()
    first = kanal.turns.receive(sms("When is my pension paid?", sid="SMtwice"))
    assert kanal.turns.receive(sms("When is my pension paid?", sid="SMtwice")) is None
    assert len(kanal.bot.turns) == 1
    assert len(kanal.messages(first.contact_id, "in")) == 1
    assert len(kanal.sender.sent) == 1


def test_the_same_provider_id_on_another_channel_is_another_message():
    kanal = fake_kanal()
    assert kanal.turns.accept(sms("hello", sid="X1")) is not None
    assert kanal.turns.accept(ReceiveMessage("webchat", "s", "hello", provider_id="X1")) is not None


def test_an_sms_reply_leaves_through_the_channels_sender_exactly_once_and_ends_queued():
    kanal = fake_kanal()
    result = kanal.turns.receive(sms("When is my pension paid?"))
    [reply] = result.replies
    assert kanal.sender.sent == [
        (
            NUMBER,
            "[payment_date] See https://example.org/payment_date",
            f"{STATUS_CALLBACK}?m={reply.id}",
        )
    ]
    [stored] = kanal.messages(result.contact_id, "out")
    assert stored.delivery_status == "queued"
    assert stored.provider_id.startswith("SM")
    assert stored.attempts == 1
    assert kanal.delivery.dispatch_due() == 0  # nothing left to send
    assert len(kanal.sender.sent) == 1


def test_a_citizen_known_by_their_phone_number_is_identified():
    kanal = fake_kanal()
    citizen = kanal.add_citizen(NUMBER)
    result = kanal.turns.receive(sms("hello"))
    assert kanal.contact(result.contact_id).citizen_id == citizen.id
    assert {e.citizen for e in kanal.events(result.contact_id)} == {citizen.pseudonym}


def test_stop_records_the_opt_out_and_nothing_is_sent_afterwards():
    kanal = fake_kanal()
    kanal.turns.receive(sms("When is my pension paid?"))
    stop = kanal.turns.receive(sms("STOP", kind="opt_out"))
    assert stop.replies == ()
    assert kanal.consent("sms", NUMBER) is False
    after = kanal.turns.receive(sms("When is my payment?"))
    assert [m.delivery_status for m in after.replies] == ["blocked"]
    assert len(kanal.sender.sent) == 1  # only the answer from before STOP
    assert ev.SMS_OPT_OUT in kanal.event_types(stop.contact_id)
    assert len(kanal.bot.turns) == 2  # STOP itself never reached the bot


def test_start_after_stop_lets_messages_through_again():
    kanal = fake_kanal()
    kanal.turns.receive(sms("STOP", kind="opt_out"))
    start = kanal.turns.receive(sms("START", kind="opt_in"))
    assert kanal.consent("sms", NUMBER) is True
    assert kanal.sender.bodies(NUMBER) == [wording.OPTED_IN]
    assert ev.SMS_OPT_IN in kanal.event_types(start.contact_id)


def test_help_gets_the_help_text_and_never_reaches_the_bot():
    kanal = fake_kanal()
    result = kanal.turns.receive(sms("HELP", kind="help"))
    assert kanal.sender.bodies(NUMBER) == [SMS_HELP_TEXT]
    assert result.replies[0].kind == "notice"
    assert kanal.bot.turns == []


def test_an_over_long_message_is_cut_to_what_the_channel_takes_and_the_citizen_is_told():
    kanal = fake_kanal()
    result = kanal.turns.receive(sms("pension " + "x" * 3000))
    [received] = kanal.messages(result.contact_id, "in")
    assert len(received.text) == kanal.channels["sms"].max_text == 1600
    told, answer = kanal.sender.bodies(NUMBER)
    assert told == wording.too_long(kanal.channels["sms"])
    assert "1600 characters" in told
    assert answer.startswith("[payment_date]")
    assert kanal.bot.turns[0][1] == received.text


def test_a_turn_taken_twice_does_the_work_once():
    kanal = fake_kanal()
    entry_id = kanal.turns.accept(sms("When is my pension paid?"))
    assert kanal.turns.take(entry_id) is not None
    assert kanal.turns.take(entry_id) is None
    assert len(kanal.bot.turns) == 1
    assert len(kanal.sender.sent) == 1
    assert kanal.inbox.get(entry_id) is None  # taken: no longer waiting


class StopsOnce(ScriptedBot):
    """A bot call that dies once, as a worker stopped between the turn's two transactions."""

    def __init__(self):
        super().__init__()
        self.crashed = False

    def turn(self, conversation_id, text, *, language=None, wait=None):
        if not self.crashed:
            self.crashed = True
            raise KeyboardInterrupt("the worker stopped")
        return super().turn(conversation_id, text, language=language)


def test_resume_finishes_a_message_filed_but_not_finished():
    kanal = fake_kanal(bot=StopsOnce())
    entry_id = kanal.turns.accept(sms("When is my pension paid?"))
    with pytest.raises(KeyboardInterrupt):
        kanal.turns.take(entry_id)
    contact = kanal.contact_on("sms", NUMBER)
    [filed] = kanal.messages(contact.id, "in")
    assert filed.processed is False
    assert kanal.sender.sent == []
    result = kanal.turns.resume(filed.id)
    assert result.replies[0].text.startswith("[payment_date]")
    assert kanal.messages(contact.id, "in")[0].processed is True
    assert len(kanal.sender.sent) == 1
    assert kanal.turns.resume(filed.id) is None  # finished: nothing more to do


def test_the_sweep_takes_entries_and_finishes_turns_a_stopped_worker_left():
    kanal = fake_kanal(bot=StopsOnce())
    left_in_inbox = kanal.turns.accept(sms("hello", number="+4520000010"))
    crashed = kanal.turns.accept(sms("When is my pension paid?"))
    with pytest.raises(KeyboardInterrupt):
        kanal.turns.take(crashed)
    kanal.clock.advance(minutes=1)
    found = finish_left_turns(kanal.turns, kanal.uow, kanal.clock(), timedelta(seconds=30))
    assert found == 2
    assert kanal.inbox.get(left_in_inbox) is None
    assert sorted(to for to, _, _ in kanal.sender.sent) == sorted(["+4520000010", NUMBER])
    assert finish_left_turns(kanal.turns, kanal.uow, kanal.clock(), timedelta(seconds=30)) == 0


def test_an_sms_after_half_an_hour_of_silence_starts_a_new_conversation():
    kanal = fake_kanal()
    first = kanal.turns.receive(sms("hello"))
    kanal.clock.advance(minutes=31)
    second = kanal.turns.receive(sms("When is my pension paid?"))
    assert second.contact_id != first.contact_id
    old = kanal.contact(first.contact_id)
    assert old.state == ContactState.CLOSED
    closed = [e for e in kanal.events(old.id) if e.type == ev.CLOSED]
    assert closed[0].data == {"why": CLOSED_INACTIVE, "state_before": "bot"}


def test_an_sms_within_half_an_hour_continues_the_conversation():
    kanal = fake_kanal()
    first = kanal.turns.receive(sms("hello"))
    kanal.clock.advance(minutes=29)
    assert kanal.turns.receive(sms("When is my pension paid?")).contact_id == first.contact_id


def test_a_citizen_waiting_for_a_person_who_writes_again_stays_in_the_queue_without_the_bot():
    kanal = fake_kanal()
    queued = kanal.turns.receive(sms("I want a person"))
    kanal.clock.advance(hours=2)  # a queued contact is not closed for bot inactivity
    again = kanal.turns.receive(sms("Are you there?"))
    assert again.contact_id == queued.contact_id
    assert again.state == ContactState.QUEUED
    assert again.replies == ()
    assert kanal.bot.turns == []
    assert kanal.queue_item(queued.contact_id).state == "waiting"


def test_the_inactivity_sweep_closes_bot_conversations_the_citizen_left():
    kanal = fake_kanal()
    left = kanal.turns.receive(sms("hello"))
    queued = kanal.turns.receive(sms("a person please", number="+4520000011"))
    kanal.clock.advance(minutes=45)
    assert close_inactive(kanal.uow, kanal.channels, kanal.clock()) == 1
    assert kanal.contact(left.contact_id).state == ContactState.CLOSED
    assert kanal.contact(queued.contact_id).state == ContactState.QUEUED
    resolved = [e for e in kanal.events(left.contact_id) if e.type == ev.RESOLVED]
    assert resolved[0].data["by"] == "bot"


def test_taken_inbox_entries_are_forgotten_after_a_while_but_waiting_ones_are_kept():
    kanal = fake_kanal()
    kanal.turns.take(kanal.turns.accept(sms("hello")))
    waiting = kanal.turns.accept(sms("later"))
    kanal.clock.advance(hours=49)
    assert purge_inbox(kanal.inbox, kanal.clock(), timedelta(hours=48)) == 1
    assert [e.id for e in kanal.store.all(InboxEntry)] == [waiting]
