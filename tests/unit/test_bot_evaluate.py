"""How the bot's evaluation reads held-out files and adds up its figures."""

from __future__ import annotations

from collections import Counter

import pytest

from bots.evaluation_scores import Prediction, Scores, shortfalls
from bots.evaluation_sets import LANGUAGES, SETS, Example, read_examples

NEEDS = (
    "payment_date", "missing_payment", "apply_benefit", "application_status", "change_address",
    "report_change", "login_help", "document_upload", "complaint", "request_person",
)  # fmt: skip

NAMES = {"old age pension": "pension", "boligstøtte": "housing"}


def test_annotations_are_read_as_canonical_benefits_and_removed_from_the_text(tmp_path):
    path = tmp_path / "heldout_da.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n- intent: apply_benefit\n  examples: |\n'
        "    - how do I get [old age pension](benefit)\n"
        '    - søg [boligstøtte]{"entity": "benefit", "value": "housing"} nu\n'
        "    - [dole](benefit:unemployment) please\n"
        "- synonym: pension\n  examples: |\n    - pensoin\n",
        encoding="utf-8",
    )

    examples = read_examples(path, NAMES)

    assert examples == [
        Example("apply_benefit", "how do I get old age pension", ("pension",), "da"),
        Example("apply_benefit", "søg boligstøtte nu", ("housing",), "da"),
        Example("apply_benefit", "dole please", ("unemployment",), "da"),
    ]


def predicted(intent: str, got: str, benefits=(), found=()) -> Prediction:
    return Prediction(Example(intent, "text", tuple(benefits), "en"), got, tuple(found))


def test_the_figures_count_misses_wrong_needs_and_false_answers_apart():
    scores = Scores(
        "en",
        in_scope=[
            predicted("payment_date", "payment_date", ["pension"], ["pension"]),
            predicted("payment_date", "nlu_fallback", ["child"], []),  # an honest miss
            predicted("complaint", "missing_payment"),  # a wrong need
            predicted("greet", "greet"),
        ],
        out_of_scope=[
            Prediction(Example("out_of_scope", "weather"), "out_of_scope"),
            Prediction(Example("out_of_scope", "credit card"), "payment_date"),
            Prediction(Example("out_of_scope", "hi"), "greet"),  # not a need
            Prediction(Example("out_of_scope", "x"), "nlu_fallback"),
        ],
    )

    assert scores.intent_accuracy == 0.5
    assert scores.wrong_need_rate == 0.25
    assert scores.out_of_scope_false_answer_rate == 0.25
    assert scores.entity_accuracy == 0.5


def test_a_figure_below_its_threshold_is_named():
    scores = Scores("da", in_scope=[predicted("greet", "greet")], out_of_scope=[])

    assert shortfalls(scores, {"intent_accuracy": 0.9, "wrong_need_rate": 0.02}) == []
    missed = shortfalls(scores, {"intent_accuracy": 1.1, "wrong_need_rate": -1})
    assert len(missed) == 2 and all(m.startswith("da: ") for m in missed)


@pytest.mark.parametrize("evaluation_set", sorted(SETS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_evaluation_set_has_needs_and_everyday_questions_in_each_language(
    evaluation_set, language
):
    examples = [e for path in SETS[evaluation_set](language) for e in read_examples(path)]
    intents = Counter(e.intent for e in examples)

    assert intents["out_of_scope"] >= 150
    assert {i for i in NEEDS if intents[i] < 10} == set()
