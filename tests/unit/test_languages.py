"""The conversation's language: register, then the conversation, then the citizen's words,
then the agency's default; and kanal's own texts and the bot follow it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from router.domain.commands import ReceiveMessage
from router.domain.model import Citizen, Contact
from router.domain.segments import count_segments
from router.service import languages, wording
from router.service.translations import translator
from tests.fakes import ScriptedLanguages, fake_kanal

pytestmark = pytest.mark.unit

NUMBER = "+4520000077"
SERVED = ("da", "en")
NOW = datetime(2026, 11, 30, 10, tzinfo=UTC)
DANISH = "hvornår bliver min pension udbetalt"
ENGLISH = "when will my pension be paid"
WORDS = ScriptedLanguages({DANISH: "da", ENGLISH: "en", "jeg vil tale med en person": "da"})
_sids = iter(range(1, 10_000))


def sms(text, kind="message", number=NUMBER):
    return ReceiveMessage("sms", number, text, provider_id=f"SM{next(_sids)}", kind=kind)


def chat(contact_id, text):
    return ReceiveMessage("webchat", "s_x", text, provider_id=f"c{next(_sids)}",
                          contact_id=contact_id)  # fmt: skip


def citizen(language):
    return Citizen(pseudonym="c_1", phone=NUMBER, language=language, created_at=NOW)


def contact(language=None):
    return Contact(channel="sms", address=NUMBER, opened_at=NOW, language=language)


# -- the order of the sources -------------------------------------------------------------


def test_the_register_comes_first_even_when_the_citizen_writes_another_language():
    found = languages.resolve(SERVED, citizen("en"), contact("da"), DANISH, WORDS)
    assert (found.language, found.sure, found.source) == ("en", True, "register")


def test_a_registered_language_the_agency_does_not_serve_is_passed_over():
    found = languages.resolve(SERVED, citizen("ar"), contact(), DANISH, WORDS)
    assert (found.language, found.source) == ("da", "identified")


def test_the_conversations_language_comes_before_the_message():
    found = languages.resolve(SERVED, None, contact("en"), DANISH, WORDS)
    assert (found.language, found.source) == ("en", "conversation")


def test_an_unsure_message_gets_the_agencys_first_language_and_decides_nothing():
    c = contact()
    assert languages.settle(SERVED, None, c, "ok", WORDS) == "da"
    assert c.language is None
    assert languages.settle(("en", "da"), None, c, "ok", WORDS) == "en"
    assert languages.settle(SERVED, None, c, ENGLISH, WORDS) == "en"
    assert c.language == "en"  # sure: it sticks


def test_without_an_identifier_the_default_is_used():
    assert languages.resolve(SERVED, None, contact(), ENGLISH, None).language == "da"


# -- through the turn ---------------------------------------------------------------------


def test_a_danish_message_gets_danish_kanal_texts_and_the_bot_hears_danish():
    kanal = fake_kanal(languages=SERVED, identify=WORDS)
    first = kanal.turns.receive(sms(DANISH))
    assert kanal.bot.languages == ["da"]
    assert kanal.contact(first.contact_id).language == "da"
    handed = kanal.turns.receive(sms("jeg vil tale med en person"))
    _ = translator("da")
    assert handed.replies[-1].text.endswith(wording.handoff(kanal.channels["sms"], 0, _))
    assert handed.replies[-1].text.startswith("Du bad om en medarbejder")  # the reason, in Danish


def test_the_language_sticks_for_the_conversation():
    kanal = fake_kanal(languages=("en", "da"), identify=WORDS)
    kanal.turns.receive(sms(DANISH))
    later = kanal.turns.receive(sms("pension ok"))  # unsure: the conversation's language holds
    assert kanal.bot.languages == ["da", "da"]
    assert later.language == "da"


def test_an_english_writer_still_gets_english_in_a_danish_agency():
    kanal = fake_kanal(languages=SERVED, identify=WORDS)
    kanal.turns.receive(sms(ENGLISH))
    handed = kanal.turns.receive(sms("person please"))  # a person: the bot is not asked
    assert kanal.bot.languages == ["en"]
    assert "passing you to a person" in handed.replies[-1].text


def test_a_registered_citizens_language_is_used_from_the_first_word():
    kanal = fake_kanal(languages=SERVED, identify=WORDS)
    kanal.add_citizen(NUMBER, language="en")
    kanal.turns.receive(sms(DANISH))
    assert kanal.bot.languages == ["en"]


def test_a_signed_in_chat_citizen_has_their_language_before_writing():
    kanal = fake_kanal(languages=("en", "da"), identify=WORDS)
    known = kanal.add_citizen(language="da")
    from router.domain.commands import StartChat

    contact_id = kanal.turns.start_chat(StartChat("hash", known.pseudonym), "s_x")
    assert kanal.contact(contact_id).language == "da"
    kanal.turns.receive(chat(contact_id, "ok"))
    assert kanal.bot.languages == ["da"]


# -- SMS keywords -------------------------------------------------------------------------


def test_keywords_are_answered_in_the_conversations_language():
    kanal = fake_kanal(languages=("en", "da"), identify=WORDS, sms_help_text="")
    kanal.turns.receive(sms(DANISH))
    help_ = kanal.turns.receive(sms("HELP", kind="help"))
    assert help_.replies[0].text == translator("da")(wording.SMS_HELP)
    assert help_.replies[0].text.startswith("kanal: skriv dit spørgsmål")
    kanal.turns.receive(sms("STOP", kind="opt_out"))
    start = kanal.turns.receive(sms("START", kind="opt_in"))
    assert start.replies[0].text == "Du modtager beskeder fra os igen."


def test_a_keyword_from_a_new_number_is_answered_in_the_agencys_first_language():
    kanal = fake_kanal(languages=SERVED, identify=WORDS, sms_help_text="")
    result = kanal.turns.receive(sms("HELP", kind="help"))
    assert result.language is None  # a Twilio keyword says nothing of the citizen's language
    assert kanal.sender.bodies(NUMBER) == [translator("da")(wording.SMS_HELP)]


def test_the_agencys_own_help_text_wins_over_kanals():
    kanal = fake_kanal(languages=SERVED, identify=WORDS, sms_help_text="Ring 70 12 80 81.")
    kanal.turns.receive(sms("HELP", kind="help"))
    assert kanal.sender.bodies(NUMBER) == ["Ring 70 12 80 81."]


def test_help_is_answered_even_after_stop_and_nothing_else_is():
    kanal = fake_kanal()
    kanal.turns.receive(sms("STOP", kind="opt_out"))
    kanal.turns.receive(sms("When is my pension paid?"))
    help_ = kanal.turns.receive(sms("HELP", kind="help"))
    assert kanal.consent("sms", NUMBER) is False
    assert help_.replies[0].delivery_status != "blocked"
    assert kanal.sender.bodies(NUMBER) == [kanal.channels["sms"].help_text]


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_help_answer_is_gsm7_in_one_or_two_segments(language):
    text = wording.sms_help(fake_kanal(sms_help_text="").channels["sms"], translator(language))
    counted = count_segments(text)
    assert counted.encoding == "GSM-7"
    assert counted.segments <= 2


@pytest.mark.parametrize(
    "text",
    [
        wording.OPTED_IN,
        wording.SMS_HELP,
        wording.HANDOFF,
        wording.RETRY,
        wording.OFFER_DIGITAL,
        wording.CALLBACK,
        wording.BUSY_CALLBACK,
        wording.CLOSE,
        wording.TOO_LONG,
        "You asked for a person: a person will take over.",
    ],
)
def test_kanals_danish_sms_texts_stay_in_gsm7(text):
    assert count_segments(translator("da")(text)).encoding == "GSM-7"
