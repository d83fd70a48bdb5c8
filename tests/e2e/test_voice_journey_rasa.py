"""The phone with the real Rasa server: a spoken question, the link by SMS, a person on 0."""

import pytest

from ivr import prompts as p
from ivr.phone import Line, Phone
from ivr.phone_transport import http_send
from tests.integration import sms_support
from tests.integration.sms_support import TOKEN, new_number, wait_for

pytestmark = pytest.mark.rasa

live = sms_support.live  # the running kanal these tests call


@pytest.fixture
def bot():
    """No stand-in: create_app builds the real Rasa client from KANAL_RASA_URL."""
    return None


@pytest.fixture
def app_config(app_config, rasa_url):
    """Use the session's real Rasa server instead of the scripted bot."""
    return {**app_config, "KANAL_RASA_URL": rasa_url, "KANAL_BOT_TIMEOUT": 10.0}


def call(live, number: str) -> Phone:
    line = Line(public_url=live.base_url, auth_token=TOKEN, account_sid=live.phone.account_sid,
                agency_number=live.phone.agency_number)  # fmt: skip
    return Phone(line, number, http_send(live.base_url, live.base_url))


def test_a_spoken_payment_question_gets_the_digital_route_by_sms(live, add_citizen):
    number = new_number()
    add_citizen(phone=number, language="en")
    phone = call(live, number).dial()
    phone.say("when is my pension paid")
    assert phone.said[-1] == p.text("en", "offer"), phone.said
    assert "the agency's website" in phone.said[-2], "the answer names the site, no URL read out"
    phone.press("1")
    assert phone.said[-1] == p.text("en", "link_sent") and phone.ended
    sms = wait_for(lambda: live.outbox(number), timeout=20, what="the link in the outbox")
    assert "https://selvbetjening.example.gov/payments/dates" in sms[0]["body"]


def test_pressing_0_at_the_first_prompt_reaches_the_agent_queue(live):
    phone = call(live, new_number()).dial()
    phone.press("2")  # English
    phone.press("0")
    assert phone.queue is not None and phone.said[-1] == p.text("en", "queue_next")


@pytest.mark.parametrize("digit", ["1", "2", "3", "4"])
@pytest.mark.parametrize(("choice", "lang"), [("2", "en"), ("1", "da")])
def test_every_keypad_choice_is_understood_by_the_real_bot(live, digit, choice, lang):
    phone = call(live, new_number()).dial()
    phone.press(choice)  # English or dansk
    phone.press(digit)
    assert phone.said[-1] == p.text(lang, "offer"), phone.said[-3:]


def test_a_danish_caller_hears_danish_and_gets_the_danish_link_by_sms(live, add_citizen):
    number = new_number()
    add_citizen(phone=number, language="da")
    phone = call(live, number).dial()
    assert phone.voices[0] == ("da-DK", "Polly.Naja"), "a Danish citizen is greeted in Danish"
    phone.say("hvornår bliver min pension udbetalt")
    assert phone.said[-1] == p.text("da", "offer"), phone.said
    answer = phone.said[-2]
    assert answer.startswith("Din pension udbetales"), answer
    assert "myndighedens hjemmeside" in answer, "the Danish answer names the site, no URL"
    assert set(phone.voices) == {("da-DK", "Polly.Naja")}, "every <Say> is spoken in Danish"
    phone.say("ja")
    assert phone.said[-1] == "Jeg har sendt dig en sms med linket. Tak for opkaldet. Farvel."
    assert phone.ended
    sms = wait_for(lambda: live.outbox(number), timeout=20, what="the link in the outbox")
    assert sms[0]["body"] == (
        "Her er linket, du bad om i telefonen: "
        "https://selvbetjening.example.gov/payments/dates/pension"
    )


def test_a_danish_caller_who_asks_for_a_person_reaches_the_queue(live):
    phone = call(live, new_number()).dial()
    phone.press("1")  # dansk
    phone.say("jeg vil gerne tale med en medarbejder")
    assert phone.queue is not None, phone.said
    assert phone.said[-2:] == ["Jeg stiller dig videre til en medarbejder.",
                               "Du er den næste i køen."]  # fmt: skip
    assert phone.voices[-1] == ("da-DK", "Polly.Naja")
    phone.hang_up()
