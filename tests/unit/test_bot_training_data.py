"""The bot's training data never holds a message it is evaluated on.

A training example that repeats a held-out, blind or development message would be scored
against itself, and the figures the project reports would be better than what citizens get.
One- and two-word messages ("hej", "thank you", "new address") are left out of the check:
different writers meet on them by nature, and the bot must know them.
"""

from __future__ import annotations

import re

from bots.evaluate import DATA_DIR, TESTS_DIR, read_examples, training_files

SHORT = 2  # words


def normalised(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def test_no_training_example_repeats_an_evaluation_message():
    evaluated = {
        normalised(example.text): path.relative_to(TESTS_DIR)
        for path in sorted(TESTS_DIR.rglob("*.yml"))
        for example in read_examples(path)
    }
    trained = [(path, example) for path in training_files() for example in read_examples(path)]
    repeated = [
        f"{path.name}: {example.text!r} is in {evaluated[normalised(example.text)]}"
        for path, example in trained
        if len(normalised(example.text).split()) > SHORT and normalised(example.text) in evaluated
    ]

    assert len(evaluated) > 3000, f"the evaluation sets were not found in {TESTS_DIR}"
    assert len(trained) > 5000, f"the training data was not found in {DATA_DIR}"
    assert repeated == []
