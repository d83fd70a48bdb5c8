"""The real bot, measured on the held-out sets, must reach the committed thresholds.

`kanal bot evaluate` prints the same figures; bots/rasa/tests/thresholds.toml holds the
thresholds per language. A figure that falls below fails `make test`.
"""

from __future__ import annotations

import pytest

from bots.evaluate import evaluate, report
from bots.evaluation_scores import load_thresholds, shortfalls
from bots.evaluation_sets import LANGUAGES

pytestmark = pytest.mark.rasa


@pytest.fixture(scope="module")
def scores(rasa_url):
    return evaluate(rasa_url)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_bot_reaches_its_thresholds_on_the_held_out_sets(scores, language):
    thresholds = load_thresholds()[language]
    assert thresholds, f"no thresholds committed for {language}"

    missed = shortfalls(scores[language], thresholds)

    assert missed == [], report({language: scores[language]}, verbose=True)


def test_every_need_and_benefit_is_measured(scores):
    for language, s in scores.items():
        assert len(s.in_scope) >= 150 and len(s.out_of_scope) >= 250, language
        assert len(s.with_benefit()) >= 50, language
