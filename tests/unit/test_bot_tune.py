"""The validation bots.tune chooses the bot's thresholds on: like real traffic, no twins."""

from __future__ import annotations

from collections import Counter

import yaml

from bots.evaluation_sets import Example
from bots.tune import folds, twins


def example(text: str, intent: str = "login_help", language: str = "en") -> Example:
    return Example(intent, text, (), language)


def test_near_copies_of_one_phrasing_are_one_cluster():
    group = [
        example("I forgot my password"),
        example("forgot my password!"),
        example("my MitID app will not open"),
    ]

    clusters = sorted(sorted(e.text for e in c) for c in twins(group))

    assert clusters == [["I forgot my password", "forgot my password!"],
                        ["my MitID app will not open"]]  # fmt: skip


def test_every_example_is_validated_once_and_never_beside_its_twin():
    words = [
        "apple",
        "bread",
        "cloud",
        "drum",
        "eagle",
        "fern",
        "grape",
        "harp",
        "iris",
        "jade",
        "kite",
        "lamp",
        "moon",
        "nest",
    ]
    examples = [example(f"{a} {b}") for a in words[:6] for b in words[6:11]]  # 30, all apart
    examples += [example("I forgot my password"), example("i forgot my password please")]
    examples += [example(f"{w} {w}", "payment_date", "da") for w in words[:10]]

    parts = folds(examples, 5, seed=1)

    assert sorted(e.text for p in parts for e in p) == sorted(e.text for e in examples)
    twin_folds = [i for i, p in enumerate(parts) for e in p if "forgot my password" in e.text]
    assert len(set(twin_folds)) == 1
    per_fold = [Counter(e.language for e in p) for p in parts]
    assert all(c["da"] == 2 for c in per_fold)


def test_the_validation_models_train_on_the_texts_as_written(tmp_path):
    # Rasa takes each "- " line of an examples block as it stands: quoting a text would make
    # the quotes part of what the fold's model learns (and what the encoder caches).
    from bots.tune import _write_nlu

    path = tmp_path / "train.yml"
    _write_nlu(path, [example('she said "hi" to me'), example("hvornår  kommer\tpengene")])

    block = yaml.safe_load(path.read_text())["nlu"][0]["examples"]
    assert block.splitlines() == ['- she said "hi" to me', "- hvornår kommer pengene"]
