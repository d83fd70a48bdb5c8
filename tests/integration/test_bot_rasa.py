"""The real Rasa bot: what a citizen gets back, through kanal's channel and client."""

from __future__ import annotations

import re
import shutil
import statistics
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests

from bots.client import WEBHOOK_PATH, RasaBot
from bots.evaluation_sets import (
    LANGUAGES,
    heldout_file,
    read_examples,
    training_files,
)
from bots.train import PROJECT_DIR, train_if_changed, training_digest
from router.domain.needs import NOT_UNDERSTOOD

pytestmark = pytest.mark.integration
rasa = pytest.mark.rasa


@pytest.fixture
def bot(rasa_url: str) -> RasaBot:
    return RasaBot(rasa_url, timeout=5.0)


@pytest.fixture
def editable_routes(rasa_bot, digital_routes_file: Path):
    """Yield the routes file the running action server reads; restore it afterwards."""
    if not rasa_bot.actions_url:
        pytest.skip("the bot under test was started elsewhere (KANAL_TEST_RASA_URL)")
    original = digital_routes_file.read_text()
    yield digital_routes_file
    digital_routes_file.write_text(original)


def new_conversation() -> str:
    return f"test-{uuid.uuid4().hex}"


def route_url(routes_text: str, need: str) -> str:
    match = re.search(rf"^  {need}:\n    url: (\S+)$", routes_text, re.MULTILINE)
    assert match, f"no url for {need}"
    return match.group(1)


@rasa
def test_a_pension_payment_question_gets_the_payment_dates_route(bot, digital_routes_file):
    turn = bot.turn(new_conversation(), "when will my pension be paid")

    assert turn.ok and turn.intent == "payment_date" and turn.confidence > 0.5
    assert route_url(digital_routes_file.read_text(), "payment_date") in " ".join(turn.messages)
    assert not turn.handoff


@rasa
def test_asking_for_a_person_hands_off(bot):
    turn = bot.turn(new_conversation(), "I want to talk to a person")

    assert turn.ok and turn.handoff and turn.intent == "request_person"
    assert "person" in " ".join(turn.messages)


@rasa
def test_gibberish_gets_an_honest_not_understood(bot):
    turn = bot.turn(new_conversation(), "blorp fnarg xqzt")

    assert turn.ok and turn.intent in NOT_UNDERSTOOD
    assert "Sorry" in " ".join(turn.messages) and "http" not in " ".join(turn.messages)
    assert not turn.handoff


@rasa
@pytest.mark.parametrize(
    "text",
    [
        "what's the weather going to be like this weekend",
        "what is the payment date of my credit card",
        "how do I apply for a passport",
        "I can't log in to Netflix",
    ],
)
def test_an_off_topic_question_says_what_the_bot_can_do_and_offers_a_person(bot, text):
    turn = bot.turn(new_conversation(), text)

    assert turn.intent in NOT_UNDERSTOOD
    said = " ".join(turn.messages)
    assert "http" not in said, "no digital route for a question the bot does not cover"
    assert "person" in said


@rasa
def test_a_danish_citizen_gets_a_danish_answer_with_the_danish_route(bot, digital_routes_file):
    turn = bot.turn(new_conversation(), "hvornår bliver min pension udbetalt", language="da")

    said = " ".join(turn.messages)
    assert turn.ok and turn.intent == "payment_date" and ("benefit", "pension") in turn.entities
    assert "udbetales" in said and "/payments/dates/pension" in said


@rasa
def test_an_english_writer_still_gets_english(bot):
    turn = bot.turn(new_conversation(), "when will my pension be paid", language="en")

    said = " ".join(turn.messages)
    assert "paid on the last working day" in said and "udbetales" not in said


@rasa
def test_the_language_stays_for_the_conversation(bot):
    conversation = new_conversation()
    bot.turn(conversation, "hej", language="da")

    thanks = bot.turn(conversation, "tak")  # no language passed with this message
    person = bot.turn(conversation, "jeg vil tale med et menneske")

    assert thanks.messages == ("Selv tak. Er der andet, jeg kan hjælpe med?",)
    assert person.handoff and "medarbejder" in " ".join(person.messages)


@rasa
def test_not_understood_is_answered_in_danish_too(bot):
    turn = bot.turn(new_conversation(), "hvordan bager jeg rugbrød", language="da")

    assert turn.intent in NOT_UNDERSTOOD
    assert "Undskyld" in " ".join(turn.messages)


@rasa
def test_applying_for_a_named_benefit_points_to_that_application(bot):
    housing = bot.turn(new_conversation(), "how do I apply for housing benefit")
    unnamed = bot.turn(new_conversation(), "I want to apply for a benefit")

    assert housing.intent == unnamed.intent == "apply_benefit"
    assert "/apply/housing" in " ".join(housing.messages)
    assert "/apply " in " ".join(unnamed.messages) or "/apply." in " ".join(unnamed.messages)


@rasa
@pytest.mark.parametrize(
    ("text", "benefit"),
    [
        ("how do i apply for a pensoin", "pension"),
        ("I want to claim jobseekers allowence", "unemployment"),
        ("when is the chlid benefit paid", "child"),
        ("can I get housing benifit", "housing"),
        ("I want to apply for disabilty benefit", "disability"),
        ("how to apply for maternaty pay", "maternity"),
        ("I need sick pay, I have a long term illness", "sickness"),
        ("hvordan søger jeg boligstoette", "housing"),
        ("hvornår kommer boernepengene", "child"),
        ("kan jeg få sygedagpenge", "sickness"),
        ("jeg vil søge foertidspension", "disability"),
        ("hvornår får jeg min folkepensjon", "pension"),
    ],
)
def test_a_named_benefit_is_found_even_misspelt(rasa_url, text, benefit):
    parse = requests.post(rasa_url + "/model/parse", json={"text": text}, timeout=5).json()

    found = [e["value"] for e in parse["entities"] if e["entity"] == "benefit"]
    assert found[:1] == [benefit]


@rasa
@pytest.mark.parametrize(
    ("text", "intent", "route"),
    [
        ("hvornår havner ydelsen på min konto", "payment_date", "/payments/dates"),
        ("my request from march, has anyone looked at it yet", "application_status", "/my-cases"),
        ("har nogen taget stilling til det jeg indsendte", "application_status", "/my-cases"),
    ],
)
def test_a_need_said_in_other_words_is_understood_by_its_meaning(rasa_url, text, intent, route):
    """Words the training data never pairs with the need: the sentence encoder reads them."""
    parse = requests.post(rasa_url + "/model/parse", json={"text": text}, timeout=5).json()
    turn = RasaBot(rasa_url, timeout=5.0).turn(new_conversation(), text)

    assert parse["intent_reading"] == "meaning"
    assert turn.intent == intent and route in " ".join(turn.messages)


@rasa
def test_a_plain_question_is_answered_by_its_words_alone(rasa_url):
    parse = requests.post(
        rasa_url + "/model/parse", json={"text": "when will my pension be paid"}, timeout=5
    ).json()

    assert parse["intent"]["name"] == "payment_date" and parse["intent_reading"] == "words"


@rasa
def test_applying_for_sickness_benefit_points_to_its_own_application(bot):
    turn = bot.turn(new_conversation(), "how do I apply for sickness benefit")

    assert turn.intent == "apply_benefit" and "/apply/sickness" in " ".join(turn.messages)


@rasa
def test_one_channel_request_returns_the_messages_and_the_parse(rasa_url):
    answer = requests.post(
        rasa_url + WEBHOOK_PATH,
        json={"sender": new_conversation(), "message": "I forgot my password"},
        timeout=5,
    )

    body = answer.json()
    assert answer.status_code == 200
    assert body["intent"]["name"] == "login_help" and 0 < body["intent"]["confidence"] <= 1
    assert body["intent_ranking"][0]["name"] == "login_help"
    assert [set(m) for m in body["messages"]] == [{"text"}]


@rasa
def test_the_channel_refuses_a_message_without_a_sender(rasa_url):
    answer = requests.post(rasa_url + WEBHOOK_PATH, json={"message": "hi"}, timeout=5)

    assert answer.status_code == 400


@rasa
def test_an_agency_changes_a_route_url_without_retraining_or_restarting(bot, editable_routes):
    old = route_url(editable_routes.read_text(), "payment_date")
    new = "https://pension.agency.example/when-do-we-pay"
    editable_routes.write_text(editable_routes.read_text().replace(old, new))

    turn = bot.turn(new_conversation(), "when will my pension be paid")

    assert new in " ".join(turn.messages) and old not in " ".join(turn.messages)


@rasa
def test_a_bot_that_cannot_answer_the_need_is_a_failed_turn(bot, editable_routes):
    editable_routes.write_text("routes: [this is not a mapping\n")

    turn = bot.turn(new_conversation(), "when will my pension be paid")

    assert not turn.ok and turn.error == "no answer"
    assert turn.intent == "payment_date"


@rasa
def test_the_running_bot_reports_up_with_its_model(bot):
    assert bot.status() == {"state": "up", "model": "kanal.tar.gz", "circuit": "closed"}


@rasa
def test_a_turn_answers_well_within_the_client_timeout(bot):
    conversation = new_conversation()
    seconds = []
    for _ in range(10):
        started = time.perf_counter()
        assert bot.turn(conversation, "when will my pension be paid").ok
        seconds.append(time.perf_counter() - started)

    assert statistics.median(seconds) < 0.5


@rasa
def test_an_unchanged_bot_is_not_trained_again(rasa_bot):
    started = time.monotonic()
    result = train_if_changed()

    assert result.trained is False
    assert time.monotonic() - started < 5


def domain_intents() -> set[str]:
    text = (PROJECT_DIR / "domain.yml").read_text()
    block = text.split("\nintents:\n", 1)[1].split("\n\n", 1)[0]
    return {line.strip().removeprefix("- ") for line in block.splitlines()}


def training_examples():
    return [e for path in training_files() for e in read_examples(path)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_held_out_set_covers_every_intent(language):
    # That none of it is trained on: tests/unit/test_bot_training_data.py.
    per_intent = Counter(e.intent for e in read_examples(heldout_file(language)))

    assert {i for i in domain_intents() if per_intent[i] < 4} <= {"nlu_fallback", "out_of_scope"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_intent_has_at_least_fifteen_training_examples_in_each_language(language):
    per_intent = Counter(e.intent for e in training_examples() if e.language == language)

    assert {i for i in domain_intents() - {"nlu_fallback"} if per_intent[i] < 15} == set()


def test_only_what_shapes_the_model_triggers_a_retraining(tmp_path):
    project = tmp_path / "rasa"
    shutil.copytree(
        PROJECT_DIR, project, ignore=shutil.ignore_patterns("models", ".rasa", ".cache")
    )
    before = training_digest(project)

    (project / "digital_routes.yml").write_text("routes: {}\n")
    (project / "actions" / "routes.py").write_text("# changed\n")
    assert training_digest(project) == before

    nlu = project / "data" / "nlu_en.yml"
    nlu.write_text(nlu.read_text().replace("- hiya\n", "- hiya there\n"))
    assert training_digest(project) != before
