"""A citizen's message, routed: the bot answers first, a person when the policy says so.

The turn pipeline runs on fakes (tests/fakes.py): no Flask, no database.
"""

import pytest

from router.domain import events as ev
from router.domain.commands import ReceiveMessage, StartChat
from router.domain.model import ContactState
from router.service.channels import Channel
from router.service.errors import Conflict, NotFound
from tests.fakes import ScriptedBot, fake_kanal

pytestmark = pytest.mark.unit

NUMBER = "+4520000001"


def chat(kanal, session="session-1"):
    """Open a web chat and return a function that sends the citizen's next message."""
    contact_id = kanal.turns.start_chat(StartChat(secret_hash="h"), session)

    def write(text):
        return kanal.turns.receive(ReceiveMessage("webchat", session, text, contact_id=contact_id))

    return contact_id, write


def texts(result):
    return [m.text for m in result.replies]


def test_a_chat_message_the_bot_understands_gets_the_bots_answer_and_stays_with_the_bot():
    kanal = fake_kanal()
    contact_id, write = chat(kanal)
    result = write("When is my pension paid?")
    assert texts(result) == ["[payment_date] See https://example.org/payment_date"]
    assert [m.author for m in result.replies] == ["bot"]
    assert kanal.contact(contact_id).state == ContactState.BOT
    assert kanal.contact(contact_id).need == "payment_date"
    assert kanal.queue_item(contact_id) is None


def test_asking_for_a_person_queues_the_contact_and_says_so_in_written_words():
    kanal = fake_kanal()
    contact_id, write = chat(kanal)
    result = write("I want to talk to a person")
    assert result.state == ContactState.QUEUED
    [reply] = result.replies
    assert reply.author == "system"
    assert "everything you have written here" in reply.text
    assert kanal.bot.turns == []  # the words alone ask for a person: the bot is not asked
    assert kanal.queue_item(contact_id).state == "waiting"


def test_the_handoff_on_a_spoken_channel_says_said_not_written():
    kanal = fake_kanal()  # the phone is installed: "say", not digital
    result = kanal.turns.receive(ReceiveMessage("voice", "call-1", "a person please"))
    assert result.state == ContactState.QUEUED
    assert "everything you have said here" in result.replies[0].text


def test_a_request_for_a_person_only_the_bot_recognised_still_reaches_a_person():
    bot = ScriptedBot()
    kanal = fake_kanal(bot=bot)
    _, write = chat(kanal)
    result = write("Can I speak to one of your humans?")  # not in the router's own word list
    assert len(bot.turns) == 1
    assert result.state == ContactState.QUEUED
    assert result.decision.rule_id == "person-requested"


def test_an_exempt_citizen_goes_to_a_person_with_priority_without_the_bot_being_asked():
    kanal = fake_kanal()
    kanal.add_citizen(NUMBER, exempt_ground="no_computer")
    result = kanal.turns.receive(
        ReceiveMessage("sms", NUMBER, "When is my pension paid?", provider_id="SM1")
    )
    assert result.state == ContactState.QUEUED
    assert kanal.bot.turns == []
    item = kanal.queue_item(result.contact_id)
    assert item.priority == 2
    assert result.decision.rule_id == "exempt-to-person"
    assert "written" in kanal.sender.bodies(NUMBER)[0]


def test_an_exempt_citizen_out_of_hours_is_promised_a_call_back():
    kanal = fake_kanal()
    kanal.clock.advance(hours=12)  # 23:00 in Copenhagen
    kanal.add_citizen(NUMBER, exempt_ground="impairment")
    result = kanal.turns.receive(ReceiveMessage("sms", NUMBER, "Hello", provider_id="SM1"))
    assert result.decision.rule_id == "exempt-out-of-hours"
    told = result.replies[0].text
    # The citizen is told why (the policy's reason), then when they will be called: at the
    # next opening (23:00 on a Tuesday in Copenhagen: Wednesday from 08:00).
    assert told.startswith("Registered exemption from digital self-service (impairment)")
    assert told.endswith(
        "A person will call you on the phone number we have registered for you on Wednesday "
        "from 08:00. You won't need to repeat anything."
    )
    assert ev.CALLBACK_BOOKED in kanal.event_types(result.contact_id)


def test_when_the_bot_is_down_the_citizen_goes_to_a_person():
    kanal = fake_kanal()
    kanal.bot.down = True
    contact_id, write = chat(kanal)
    result = write("When is my pension paid?")
    assert result.state == ContactState.QUEUED
    assert result.decision.rule_id == "bot-down"
    assert len(kanal.bot.turns) == 1
    assert ev.BOT_FAILED in kanal.event_types(contact_id)


def test_two_answers_the_bot_did_not_understand_bring_a_person_in_denmark():
    kanal = fake_kanal(profile="denmark")
    contact_id, write = chat(kanal)
    first = write("blah blah")
    assert first.state == ContactState.BOT
    assert texts(first) == ["Sorry, I did not understand."]
    second = write("more blah")
    assert second.state == ContactState.QUEUED
    assert second.decision.rule_id == "bot-failed-twice"
    assert kanal.contact(contact_id).bot_failures == 2


def test_an_understood_answer_between_two_failures_starts_the_count_again():
    kanal = fake_kanal()
    contact_id, write = chat(kanal)
    write("blah")
    write("hello")
    result = write("blah again")
    assert result.state == ContactState.BOT
    assert kanal.contact(contact_id).bot_failures == 1


def test_saying_goodbye_closes_the_conversation_as_resolved_by_the_bot():
    kanal = fake_kanal()
    contact_id, write = chat(kanal)
    result = write("bye")
    assert result.state == ContactState.CLOSED
    resolved = [e for e in kanal.events(contact_id) if e.type == ev.RESOLVED]
    assert resolved[0].data["by"] == "bot"


def test_a_message_to_a_closed_chat_is_refused_and_never_taken_again():
    kanal = fake_kanal()
    contact_id, write = chat(kanal)
    write("bye")
    entry_id = kanal.turns.accept(
        ReceiveMessage("webchat", "session-1", "hello?", contact_id=contact_id)
    )
    with pytest.raises(Conflict):
        kanal.turns.take(entry_id)
    assert kanal.turns.take(entry_id) is None
    assert kanal.bot.turns == [(kanal.contact(contact_id).bot_sender, "bye")]


def test_both_decisions_of_a_turn_are_kept_with_what_they_saw():
    kanal = fake_kanal()
    contact_id, write = chat(kanal)
    write("When is my pension paid?")
    before, after = kanal.decisions(contact_id)
    assert before.rule_id == after.rule_id == "default"
    assert before.inputs["need"] is None
    assert after.inputs["need"] == "payment_date"
    assert after.inputs["confidence"] == 0.9
    assert before.profile == "denmark"
    stages = [e.data["stage"] for e in kanal.events(contact_id) if e.type == ev.DECISION_MADE]
    assert stages == ["before_bot", "after_bot"]


def test_a_turn_leaves_its_story_in_the_event_log():
    kanal = fake_kanal()
    contact_id, write = chat(kanal)
    write("When is my pension paid?")
    write("I want a person")
    assert kanal.event_types(contact_id) == [
        ev.CONTACT_OPENED,
        ev.MESSAGE_RECEIVED,
        ev.BOT_ANSWERED,
        ev.DECISION_MADE,
        ev.DECISION_MADE,
        ev.MESSAGE_RECEIVED,
        ev.DECISION_MADE,
        ev.HANDED_OFF,
        ev.QUEUED,
    ]
    assert {e.need for e in kanal.events(contact_id)[-3:]} == {"payment_date"}


def test_a_signed_in_citizen_is_identified_once_when_the_chat_opens():
    kanal = fake_kanal()
    citizen = kanal.add_citizen(exempt_ground="language")
    contact_id = kanal.turns.start_chat(
        StartChat(secret_hash="h", citizen_pseudonym=citizen.pseudonym), "s-2"
    )
    identified = [e for e in kanal.events(contact_id) if e.type == ev.CITIZEN_IDENTIFIED]
    assert identified[0].data["exempt"] is True
    assert identified[0].citizen == citizen.pseudonym


def test_an_unknown_citizen_cannot_open_a_chat_in_their_name():
    kanal = fake_kanal()
    with pytest.raises(NotFound):
        kanal.turns.start_chat(StartChat(secret_hash="h", citizen_pseudonym="c_nobody"), "s-3")
    assert kanal.contact_on("webchat", "s-3") is None


def test_a_channel_that_cannot_carry_links_names_the_website_instead():
    from router.service.wording import for_channel

    phone = Channel("voice", verb="say", sends_links=False)
    text = "See https://selvbetjening.example.gov/payments/dates (log in first)."
    assert for_channel(phone, text) == "See the agency's website (log in first)."
    assert for_channel(Channel("sms"), text) == text


def test_written_turns_wait_longer_for_a_busy_bot_than_a_caller_on_the_line():
    bot = ScriptedBot()
    kanal = fake_kanal(bot=bot)
    _, write = chat(kanal)
    write("When is my pension paid?")
    kanal.turns.receive(ReceiveMessage("sms", NUMBER, "When is my pension paid?", provider_id="S"))
    kanal.turns.receive(ReceiveMessage("voice", "call-1", "when is my pension paid"))
    written = kanal.turns.settings.bot_wait_seconds
    assert written >= 5 and bot.waits == [written, written, None]
