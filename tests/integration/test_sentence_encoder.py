"""The bot's sentence encoder (bots/rasa/sentence_encoder.py), run in Rasa's environment.

The encoder is what lets the bot understand a citizen who uses none of the training data's
words; these tests check it on its own: paraphrases land near each other across English and
Danish, unrelated questions do not, and the training cache returns exactly what a fresh
encoding does without encoding twice.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from bots.train import PROJECT_DIR, rasa_env, rasa_venv

_SCRIPT = r"""
import json, sys
import numpy as np
import sentence_encoder as se

pairs = json.loads(sys.argv[1])
texts = [t for pair in pairs for t in pair]
vectors = se.encode(texts)
norms = np.linalg.norm(vectors, axis=1)
similarity = (vectors @ vectors.T).round(4).tolist()

encoded = []
real = se.encode
se.encode = lambda batch: encoded.append(len(batch)) or real(batch)
cache = se.Path(sys.argv[2])
first = se.encode_cached(texts, cache)
second = se.encode_cached(texts[::-1], cache)
print(json.dumps({
    "norms": norms.round(3).tolist(),
    "similarity": similarity,
    "encoded": encoded,
    "cached_equals_fresh": bool(np.array_equal(first, vectors)),
    "second_equals_first": bool(np.array_equal(second[::-1], first)),
    "dimensions": int(vectors.shape[1]),
    "long_is_its_beginning": bool(np.array_equal(
        real([texts[0] + " and more" * 1000]), real([se.clip(texts[0] + " and more" * 1000)])
    )),
    "clipped_length": len(se.clip(texts[0] + " and more" * 1000)),
}))
"""

# (a, b): b says what a says in other words; the pairs are about different things.
PARAPHRASES = [
    ("when will my pension be paid", "hvilken dag kommer min folkepension ind på kontoen"),
    ("jeg har ikke fået mine penge", "my money has not come this month"),
    ("I have moved to a new flat", "vi er flyttet og har fået ny adresse"),
    ("what is the weather tomorrow", "vil det regne i morgen"),
    ("I forgot my password and cannot sign in", "jeg kan ikke logge ind, har glemt koden"),
]


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    python = rasa_venv() / "bin" / "python"
    if not python.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must test the real encoder: no Rasa environment at {python}")
        pytest.skip(f"no Rasa environment at {python} (run `make install`)")
    cache = tmp_path_factory.mktemp("encoder") / "sentences.sqlite3"
    done = subprocess.run(
        [str(python), "-c", _SCRIPT, json.dumps(PARAPHRASES), str(cache)],
        cwd=PROJECT_DIR, env=rasa_env(), capture_output=True, text=True, timeout=300,
        check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_vectors_are_unit_length_and_of_the_models_size(encoded):
    assert encoded["dimensions"] == 384
    assert all(abs(n - 1.0) < 0.01 for n in encoded["norms"])


def test_a_paraphrase_is_nearer_than_any_other_question_in_either_language(encoded):
    similarity = encoded["similarity"]
    for i in range(len(PARAPHRASES)):
        a, b = 2 * i, 2 * i + 1
        others = [similarity[a][j] for j in range(len(similarity)) if j not in (a, b)]
        assert similarity[a][b] > max(others), PARAPHRASES[i]


def test_the_cache_gives_the_fresh_vectors_and_encodes_each_text_once(encoded):
    assert encoded["cached_equals_fresh"]
    assert encoded["second_equals_first"]
    assert encoded["encoded"] == [len(PARAPHRASES) * 2]


def test_a_very_long_message_is_read_for_meaning_from_its_beginning(encoded):
    # Encoding time grows with length (0.9 s for 2,000 characters): only the start is encoded.
    assert encoded["long_is_its_beginning"]
    assert 250 <= encoded["clipped_length"] <= 300
