"""STOP, START and HELP: consent is recorded, honoured on every path, and never reaches the bot."""

import time

from router.domain.commands import AgentReply, ClaimNext, ReceiveMessage
from router.service import wording
from router.service.translations import translator
from tests.integration import sms_support
from tests.integration.sms_support import new_number, wait_for

live = sms_support.live  # the running kanal these tests text


def consent(live, number):
    with live.kanal.uow() as uow:
        found = uow.consents.get("sms", number)
        return None if found is None else found.opted_in


def test_stop_records_the_opt_out_and_sends_nothing_more(live, bot):
    number = new_number()
    live.text(number, "When is my payment?")
    wait_for(lambda: live.outbox(number), what="the first reply")
    live.text(number, "STOP")
    assert consent(live, number) is False  # in force before Twilio got its answer
    live.text(number, "When is my payment?")
    live.settle()
    assert [text for _, text in bot.turns] == ["When is my payment?", "When is my payment?"]
    assert len(live.outbox(number)) == 1  # only the reply from before STOP
    blocked = [m for m in live.messages(number, "out") if m.delivery_status == "blocked"]
    assert len(blocked) == 1


def test_an_agent_cannot_reach_an_opted_out_number(live, staff):
    number = new_number()
    live.text(number, "I want a person")
    live.settle()
    agent = staff("agent-sms")
    with live.kanal.uow() as uow:
        agent_id = uow.users.by_username(agent).id
    claimed = live.kanal.desk.claim_next(ClaimNext(agent_id=agent_id))
    live.text(number, "STOP")
    replied = live.kanal.desk.reply(
        AgentReply(agent_id=agent_id, contact_id=claimed.contact_id, text="Hello, I can help.")
    )
    assert replied.blocked
    live.settle()
    time.sleep(0.3)
    assert all("I can help" not in row["body"] for row in live.outbox(number))


def test_a_message_queued_before_stop_is_not_sent_after_it(live):
    number = new_number()
    live.text(number, "hello")
    live.settle()
    contact = live.kanal.views.contact_on("sms", number)
    # An outbound message waiting for a retry when the citizen opts out.
    with live.kanal.uow() as uow:
        from router.service.outbox import say

        sms = live.kanal.channels["sms"]
        pending = say(
            uow, uow.contacts.get(contact.id), sms, "system", "A reminder.", contact.opened_at
        )
        uow.commit()
    live.text(number, "STOP")
    live.delivery.dispatch_due()
    assert live.message(pending.id).delivery_status == "blocked"
    assert all(row["body"] != "A reminder." for row in live.outbox(number))


def test_start_resumes_messages(live, bot):
    number = new_number()
    live.text(number, "STOP")
    live.text(number, "START")
    assert consent(live, number) is True
    replies = wait_for(lambda: live.outbox(number), what="the START confirmation")
    assert replies[0]["body"] == wording.opted_in()  # the agency's first language: en in tests
    live.text(number, "When is my payment?")
    wait_for(lambda: len(live.outbox(number)) == 2, what="the bot's reply after START")
    assert bot.turns == [(bot.turns[0][0], "When is my payment?")]


def test_help_gets_the_help_text_without_the_bot(live, bot):
    number = new_number()
    live.text(number, "HELP")
    replies = wait_for(lambda: live.outbox(number), what="the help text")
    assert replies[0]["body"] == wording.sms_help(live.kanal.channels["sms"])
    assert "Reply STOP to stop messages" in replies[0]["body"]
    assert bot.turns == []


def test_an_opted_out_citizen_still_gets_the_help_text_and_nothing_else(live, bot):
    number = new_number()
    live.text(number, "STOP")
    live.text(number, "When is my payment?")
    live.text(number, "HELP")
    replies = wait_for(lambda: live.outbox(number), what="the help text after STOP")
    live.settle()
    time.sleep(0.3)
    assert [r["body"] for r in live.outbox(number)] == [replies[0]["body"]]
    assert "START" in replies[0]["body"]
    assert consent(live, number) is False  # HELP does not opt the number back in


def test_a_danish_conversation_gets_its_keyword_answers_in_danish(live, bot):
    number = new_number()
    live.text(number, "hvornår bliver min pension udbetalt")
    wait_for(lambda: live.outbox(number), what="the bot's reply")
    assert bot.languages[-1] == "da"
    live.text(number, "HELP")
    replies = wait_for(lambda: len(live.outbox(number)) == 2 and live.outbox(number), what="HELP")
    assert replies[1]["body"] == translator("da")(wording.SMS_HELP)
    live.text(number, "STOP")
    live.text(number, "START")
    replies = wait_for(lambda: len(live.outbox(number)) == 3 and live.outbox(number), what="START")
    assert replies[2]["body"] == "Du modtager beskeder fra os igen."
    assert [m.segments for m in live.messages(number, "out")] == [1, 1, 1]


def test_a_keyword_takes_its_turn_after_the_citizens_earlier_messages(live, bot):
    # A message acknowledged but not yet taken (its turn still to come) when STOP arrives:
    # the citizen sent it first, so it is answered first, and STOP then holds.
    number = new_number()
    earlier = live.kanal.turns.accept(
        ReceiveMessage(channel="sms", address=number, text="When is my payment?",
                       provider_id="SM" + "e" * 32)
    )  # fmt: skip
    assert earlier is not None
    live.text(number, "STOP")
    assert consent(live, number) is False  # in force before Twilio got its answer
    live.kanal.worker.notify(earlier, f"sms:{number}")  # as the sweep would, if still waiting
    live.settle()
    inbound = live.messages(number, "in")
    assert [m.text for m in inbound] == ["When is my payment?", "STOP"]
    assert [text for _, text in bot.turns] == ["When is my payment?"]
    answer = [m for m in live.messages(number, "out")]
    assert answer and all(m.delivery_status != "blocked" for m in answer)
    wait_for(lambda: live.outbox(number), what="the answer to the message sent before STOP")


def test_stop_from_a_number_never_seen_opens_no_contact_and_still_holds(live, bot):
    number = new_number()
    live.text(number, "STOP")
    assert consent(live, number) is False
    live.settle()  # the inbox entry is taken, not left waiting for the sweep
    with live.kanal.uow() as uow:
        assert uow.contacts.latest_on("sms", number) is None  # nothing in queues or figures
    live.text(number, "When is my payment?")
    live.settle()
    time.sleep(0.3)
    assert live.outbox(number) == []  # the opt-out still holds
    assert [text for _, text in bot.turns] == ["When is my payment?"]
