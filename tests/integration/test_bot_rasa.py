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
from bots.evaluate import HELDOUT_FILE, TRAINING_FILE, evaluate, read_examples
from bots.train import PROJECT_DIR, train_if_changed, training_digest

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

    assert turn.ok and turn.intent == "nlu_fallback"
    assert "did not understand" in " ".join(turn.messages)
    assert not turn.handoff


@rasa
def test_an_off_topic_question_is_not_answered_as_if_understood(bot):
    turn = bot.turn(new_conversation(), "what's the weather going to be like this weekend")

    assert turn.intent in ("out_of_scope", "nlu_fallback")
    assert "did not understand" in " ".join(turn.messages)


@rasa
def test_applying_for_a_named_benefit_points_to_that_application(bot):
    housing = bot.turn(new_conversation(), "how do I apply for housing benefit")
    unnamed = bot.turn(new_conversation(), "I want to apply for a benefit")

    assert housing.intent == unnamed.intent == "apply_benefit"
    assert "/apply/housing" in " ".join(housing.messages)
    assert "/apply " in " ".join(unnamed.messages) or "/apply." in " ".join(unnamed.messages)


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
def test_the_bot_recognises_most_held_out_phrasings(rasa_url):
    result = evaluate(rasa_url)

    assert result.accuracy >= 0.85, result.errors()
    assert len(result.misrouted()) <= 0.06 * len(result.results), result.misrouted()


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


def test_the_held_out_set_covers_every_intent_with_phrasings_not_trained_on():
    training = {text.lower() for _, text in read_examples(TRAINING_FILE)}
    heldout = read_examples(HELDOUT_FILE)
    per_intent = Counter(intent for intent, _ in heldout)

    assert [text for _, text in heldout if text.lower() in training] == []
    assert {i for i in domain_intents() if per_intent[i] < 4} <= {"nlu_fallback"}


def test_every_intent_has_at_least_fifteen_training_examples():
    per_intent = Counter(intent for intent, _ in read_examples(TRAINING_FILE))

    assert {i for i in domain_intents() - {"nlu_fallback"} if per_intent[i] < 15} == set()


def test_only_what_shapes_the_model_triggers_a_retraining(tmp_path):
    project = tmp_path / "rasa"
    shutil.copytree(PROJECT_DIR, project, ignore=shutil.ignore_patterns("models", ".rasa"))
    before = training_digest(project)

    (project / "digital_routes.yml").write_text("routes: {}\n")
    (project / "actions" / "routes.py").write_text("# changed\n")
    assert training_digest(project) == before

    nlu = project / "data" / "nlu.yml"
    nlu.write_text(nlu.read_text().replace("- hiya\n", "- hiya there\n"))
    assert training_digest(project) != before
