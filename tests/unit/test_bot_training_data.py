"""The bot's training data never holds a message it is evaluated on.

A training example that repeats an evaluation message would be scored against itself, and the
figures the project reports would be better than what citizens get. Messages are compared as
the classifier sees them: lowercase, æ ø å folded, words only.
"""

from __future__ import annotations

import re
from functools import cache

import pytest

from bots.evaluation_sets import (
    LANGUAGES,
    TESTS_DIR,
    heldout_file,
    out_of_scope_file,
    read_examples,
    training_files,
)

# One- and two-word messages ("hej", "thank you", "new address") are where independent writers
# meet by nature, and the bot must know them: the blind and development sets may share them.
SHORT = 2


def normalised(text: str) -> str:
    """Return text lowercase, æ ø å folded and words only (kanal_nlu.fold's folding, which needs
    Rasa's environment to import)."""
    text = text.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return " ".join(re.findall(r"\w+", text.replace("aa", "a").replace("oe", "o")))


@cache
def trained() -> frozenset[str]:
    """Every training message, normalised (read once per test session: the files do not change)."""
    texts = frozenset(normalised(e.text) for path in training_files() for e in read_examples(path))
    assert len(texts) > 5000, "the training data was not found"
    return texts


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_held_out_message_is_trained_on(language):
    heldout = read_examples(heldout_file(language)) + read_examples(out_of_scope_file(language))
    training = trained()

    assert len(heldout) > 900
    assert [e.text for e in heldout if normalised(e.text) in training] == []


@pytest.mark.parametrize("kind", ["blind", "dev"])
def test_no_blind_or_development_message_longer_than_two_words_is_trained_on(kind):
    examples = [e for path in sorted((TESTS_DIR / kind).glob("*.yml")) for e in read_examples(path)]
    training = trained()

    assert len(examples) > 1000
    assert [
        e.text
        for e in examples
        if len(normalised(e.text).split()) > SHORT and normalised(e.text) in training
    ] == []
