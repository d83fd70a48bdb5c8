"""The satisfaction survey: its transitions, who is asked, and the SMS digit-answer rule."""

from datetime import UTC, datetime, timedelta

import pytest

from router.domain import events as ev
from router.domain.commands import ReceiveMessage, StartChat
from router.domain.model import IllegalTransition
from router.domain.survey import Survey, SurveyState, sampled, score_of
from router.service.errors import Conflict
from router.service.survey import SMS_QUESTION, THANKS, SurveySettings
from router.service.translations import translator
from tests.fakes import fake_kanal

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
NUMBER = "+4520000077"
_sids = iter(range(1, 10_000))


def sms(text, number=NUMBER):
    return ReceiveMessage("sms", number, text, provider_id=f"SMsurvey{next(_sids)}")


# -- the domain ---------------------------------------------------------------------------


def asked() -> Survey:
    return Survey.ask(7, "sms", "da", NOW, need="payment_date")


def test_asking_records_the_question_with_channel_need_and_language():
    survey = asked()
    assert survey.state == SurveyState.ASKED
    [happened] = survey.collect_events()
    assert happened.type == ev.SURVEY_ASKED
    assert happened.data == {"channel": "sms", "need": "payment_date", "language": "da"}
    assert survey.collect_events() == [], "events are handed over once"


def test_an_answer_is_taken_once_and_recorded_with_its_score():
    survey = asked()
    survey.collect_events()
    survey.answer(4, NOW + timedelta(minutes=2))
    assert (survey.state, survey.score) == (SurveyState.ANSWERED, 4)
    [happened] = survey.collect_events()
    assert happened.type == ev.SATISFACTION == "satisfaction_answered"
    assert happened.data == {
        "score": 4, "channel": "sms", "need": "payment_date", "language": "da",
    }  # fmt: skip
    with pytest.raises(IllegalTransition):
        survey.answer(5, NOW)
    with pytest.raises(IllegalTransition):
        survey.decline(NOW)
    assert survey.score == 4 and survey.collect_events() == []


def test_a_declined_survey_takes_no_answer_after():
    survey = asked()
    survey.decline(NOW)
    assert [h.type for h in survey.collect_events()] == [ev.SURVEY_ASKED, ev.SURVEY_DECLINED]
    with pytest.raises(IllegalTransition):
        survey.answer(3, NOW)


def test_a_question_never_sent_cannot_be_answered():
    survey = Survey.ask(7, "sms", "en", NOW, sent=False)
    assert survey.state == SurveyState.NOT_SENT
    [happened] = survey.collect_events()
    assert (happened.type, happened.data["why"]) == (ev.SURVEY_NOT_SENT, "opted_out")
    with pytest.raises(IllegalTransition):
        survey.answer(5, NOW)
    with pytest.raises(IllegalTransition):
        Survey.not_sampled(8, "sms", "en", NOW).answer(5, NOW)


@pytest.mark.parametrize("score", [0, 6, -1, 4.5])
def test_a_score_off_the_scale_is_refused(score):
    with pytest.raises(ValueError):
        asked().answer(score, NOW)


def test_an_answer_is_taken_within_the_window_only():
    survey = asked()
    assert survey.open_at(NOW + timedelta(hours=23), timedelta(hours=24))
    assert not survey.open_at(NOW + timedelta(hours=25), timedelta(hours=24))


def test_the_share_asked_is_decided_by_the_contact_and_is_about_the_share():
    assert not any(sampled(i, 0) for i in range(1, 1000))
    assert all(sampled(i, 1) for i in range(1, 1000))
    chosen = [i for i in range(1, 10_001) if sampled(i, 0.3)]
    assert 2_800 < len(chosen) < 3_200
    assert chosen == [i for i in range(1, 10_001) if sampled(i, 0.3)], "the same every time"
    assert set(chosen) <= {i for i in range(1, 10_001) if sampled(i, 0.6)}


@pytest.mark.parametrize(("text", "score"), [("4", 4), (" 1 ", 1), ("5.", 5), ("3!", 3)])
def test_a_bare_digit_is_a_score(text, score):
    assert score_of(text) == score


@pytest.mark.parametrize("text", ["0", "6", "44", "4 stars", "four", "", "4/5", "STOP"])
def test_anything_else_is_not_a_score(text):
    assert score_of(text) is None


# -- SMS: the question after a contact closes, and the digit that answers it ----------------


def closed_sms_contact(kanal, number=NUMBER):
    """Ask a question by SMS, then say goodbye: the bot closes the contact."""
    kanal.turns.receive(sms("When is my pension paid?", number))
    result = kanal.turns.receive(sms("bye, thanks", number))
    assert result.state == "closed"
    return result.contact_id


def test_a_closed_sms_contact_is_asked_once_and_a_digit_answers_it():
    kanal = fake_kanal()
    contact_id = closed_sms_contact(kanal)
    sent_before = len(kanal.sender.sent)

    assert kanal.surveys.ask_closed() == 1
    assert kanal.surveys.ask_closed() == 0, "at most once per contact"
    [question] = kanal.sender.bodies(NUMBER)[sent_before:]
    assert question == SMS_QUESTION
    assert ev.SURVEY_ASKED in kanal.event_types(contact_id)

    bot_turns = len(kanal.bot.turns)
    result = kanal.turns.receive(sms("4"))
    assert result.contact_id == contact_id, "the answer files in the surveyed contact"
    assert len(kanal.bot.turns) == bot_turns, "a survey answer is never the bot's"
    assert kanal.contact_on("sms", NUMBER).id == contact_id, "no new contact"
    [answered] = [e for e in kanal.events(contact_id) if e.type == ev.SATISFACTION]
    assert answered.data == {
        "score": 4, "channel": "sms", "need": "payment_date", "language": "en",
    }  # fmt: skip
    assert kanal.sender.bodies(NUMBER)[-1] == THANKS

    # A second digit is no longer an answer: it is a message for the bot, in a new contact.
    again = kanal.turns.receive(sms("5"))
    assert again.contact_id != contact_id
    assert len(kanal.bot.turns) == bot_turns + 1
    assert kanal.event_types(contact_id).count(ev.SATISFACTION) == 1


def test_anything_but_a_digit_goes_on_as_a_new_contact():
    kanal = fake_kanal()
    contact_id = closed_sms_contact(kanal)
    kanal.surveys.ask_closed()
    result = kanal.turns.receive(sms("4 but my payment is late"))
    assert result.contact_id != contact_id
    assert kanal.bot.turns[-1][1] == "4 but my payment is late"
    # The citizen has started another conversation: a digit now belongs to it.
    later = kanal.turns.receive(sms("3"))
    assert later.contact_id == result.contact_id
    assert ev.SATISFACTION not in kanal.event_types(contact_id)


def test_a_digit_after_the_answer_window_is_a_new_message():
    kanal = fake_kanal(survey_settings=SurveySettings(answer_window=timedelta(hours=1)))
    contact_id = closed_sms_contact(kanal)
    kanal.surveys.ask_closed()
    kanal.clock.advance(hours=2)
    result = kanal.turns.receive(sms("4"))
    assert result.contact_id != contact_id
    assert ev.SATISFACTION not in kanal.event_types(contact_id)


def test_a_digit_without_a_question_is_a_message_for_the_bot():
    kanal = fake_kanal()
    result = kanal.turns.receive(sms("2"))
    assert kanal.bot.turns[-1][1] == "2"
    assert ev.SATISFACTION not in kanal.event_types(result.contact_id)


def test_an_opted_out_number_is_never_texted_the_question():
    kanal = fake_kanal()
    contact_id = closed_sms_contact(kanal)
    kanal.turns.receive(ReceiveMessage("sms", NUMBER, "STOP", provider_id="SMstop", kind="opt_out"))
    sent_before = len(kanal.sender.sent)
    assert kanal.surveys.ask_closed() == 1
    assert len(kanal.sender.sent) == sent_before
    assert ev.SURVEY_NOT_SENT in kanal.event_types(contact_id)
    assert all(m.text != SMS_QUESTION for m in kanal.messages(contact_id)), "not even blocked"
    kanal.turns.receive(sms("4"))
    assert ev.SATISFACTION not in kanal.event_types(contact_id)


def test_a_share_of_zero_asks_nobody():
    kanal = fake_kanal(survey_settings=SurveySettings(share=0))
    contact_id = closed_sms_contact(kanal)
    sent_before = len(kanal.sender.sent)
    assert kanal.surveys.ask_closed() == 0
    assert kanal.surveys.ask_closed() == 0
    assert len(kanal.sender.sent) == sent_before
    assert not {ev.SURVEY_ASKED, ev.SURVEY_NOT_SENT} & set(kanal.event_types(contact_id))


def test_a_danish_conversation_is_asked_in_danish():
    kanal = fake_kanal()
    citizen = kanal.add_citizen(NUMBER, language="da")
    closed_sms_contact(kanal)
    kanal.surveys.ask_closed()
    question = kanal.sender.bodies(NUMBER)[-1]
    assert question == translator("da")(SMS_QUESTION)
    assert question.startswith("Hvordan oplevede du")
    kanal.turns.receive(sms("5"))
    assert kanal.sender.bodies(NUMBER)[-1].startswith("Tak for dit svar")
    assert citizen.language == "da"


# -- web chat: asked when the widget looks, answered once ------------------------------------


def closed_chat(kanal):
    contact_id = kanal.turns.start_chat(StartChat(secret_hash="x"), address="s_survey")
    chat = ReceiveMessage("webchat", "s_survey", "bye", contact_id=contact_id)
    assert kanal.turns.receive(chat).state == "closed"
    return contact_id


def test_a_chat_is_asked_when_it_has_ended_and_a_second_click_does_not_count():
    kanal = fake_kanal()
    contact_id = closed_chat(kanal)
    view = kanal.surveys.for_chat(contact_id)
    assert view.state == "asked"
    assert [s for s, _ in view.options] == [5, 4, 3, 2, 1]
    assert kanal.surveys.for_chat(contact_id).state == "asked", "asked once, shown again"
    assert kanal.event_types(contact_id).count(ev.SURVEY_ASKED) == 1
    assert kanal.surveys.answer_chat(contact_id, 2).score == 2
    with pytest.raises(Conflict):
        kanal.surveys.answer_chat(contact_id, 5)
    assert kanal.event_types(contact_id).count(ev.SATISFACTION) == 1
    assert kanal.surveys.for_chat(contact_id).state == "answered"


def test_an_open_chat_is_not_asked():
    kanal = fake_kanal()
    contact_id = kanal.turns.start_chat(StartChat(secret_hash="x"), address="s_open")
    kanal.turns.receive(ReceiveMessage("webchat", "s_open", "hello", contact_id=contact_id))
    assert kanal.surveys.for_chat(contact_id).state == "none"
    with pytest.raises(Conflict):
        kanal.surveys.answer_chat(contact_id, 4)


# -- the phone: a keypad rating at the end of a call answered by self-service ----------------


def test_a_surveyed_call_is_asked_for_a_keypad_rating_instead_of_goodbye():
    from ivr import flow
    from ivr import prompts as p

    done: list = []

    def perform(task, call):
        done.append(task)
        return flow.Rated(True)

    call = flow.CallState(contact=12, lang="da")
    surveyed = flow.LineSettings(survey_share=1.0)
    asked = flow.respond("more", call, flow.Heard(), perform, surveyed)
    assert asked.say == (p.text("da", "rating"),)
    assert asked.say[0].startswith("Inden du går")
    assert (asked.gather.step, asked.gather.input, asked.gather.num_digits) == ("rating", "dtmf", 1)
    assert asked.next == ""

    rated = flow.respond("rating", asked.state, flow.Heard(digits="4"), perform, surveyed)
    assert done == [flow.Rate(4)]
    assert (rated.say, rated.next) == ((p.text("da", "rating_thanks"),), "hangup")

    for other in ("0", "7", "", "12"):
        bye = flow.respond("rating", asked.state, flow.Heard(digits=other), perform, surveyed)
        assert (bye.say, bye.next) == ((p.text("da", "goodbye"),), "hangup"), other
    assert done == [flow.Rate(4)], "only a digit 1-5 is a rating"

    not_surveyed = flow.respond("more", call, flow.Heard(), perform, flow.LineSettings())
    assert (not_surveyed.next, not_surveyed.end) == ("hangup", "self_service")


def test_a_call_is_rated_once_and_feeds_the_same_event():
    kanal = fake_kanal()
    contact_id = kanal.turns.start_chat(StartChat(secret_hash="x"), address="s_phone_like")
    assert kanal.surveys.rate_call(contact_id, 5) is True
    assert kanal.surveys.rate_call(contact_id, 1) is False
    [answered] = [e for e in kanal.events(contact_id) if e.type == ev.SATISFACTION]
    assert answered.data["score"] == 5
    assert kanal.event_types(contact_id).count(ev.SURVEY_ASKED) == 1


def test_the_share_and_the_channels_are_read_from_the_configuration():
    from router import config as cfg

    assert cfg.share("0.25") == 0.25 and cfg.share("25%") == 0.25 and cfg.share("1") == 1
    for bad in ("1.5", "-0.1", "half", "101%"):
        with pytest.raises(cfg.ConfigError):
            cfg.share(bad)
    assert cfg.names("webchat, sms,voice") == ("webchat", "sms", "voice")
    assert cfg.names(("webchat", "sms")) == ("webchat", "sms")
    env = cfg.from_env({"KANAL_SURVEY_SHARE": "10%", "KANAL_SURVEY_CHANNELS": "sms"})
    assert (env["KANAL_SURVEY_SHARE"], env["KANAL_SURVEY_CHANNELS"]) == (0.1, ("sms",))


@pytest.mark.parametrize("language", ["en", "da"])
def test_the_sms_question_and_thanks_stay_gsm7_in_two_segments_at_most(language):
    from router.domain.segments import count_segments

    _ = translator(language)
    question, thanks = count_segments(_(SMS_QUESTION)), count_segments(_(THANKS))
    assert (question.encoding, thanks.encoding) == ("GSM-7", "GSM-7")
    assert question.segments <= 2 and thanks.segments == 1
