"""Choose the bot's not-understood thresholds on a validation split of its own training data.

`python -m bots.tune [--folds 5] [--seed N]` validates like real traffic, which never repeats
a training phrasing: every training example is validated once, by a model trained on the other
folds (cross-validation, per language and intent), and near-copies of one phrasing ("I forgot my
password" / "forgot my password!") stay in the same fold, so a message is never scored against
its own twin. Each fold's model is trained with the fallback and the scope check switched off;
then every combination of FallbackClassifier `threshold`/`ambiguity_threshold` and
TfidfIntentClassifier `scope_margin` (the nearest-example check) is scored as bots.evaluate
does. `--folds 1 --share 0.2` is the old single random split. The held-out files in
bots/rasa/tests/ are never read here.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from itertools import product
from pathlib import Path
from typing import Any

import yaml

from bots.evaluation_scores import Prediction, Scores
from bots.evaluation_sets import (
    DATA_DIR,
    LANGUAGES,
    Example,
    benefit_names,
    read_examples,
    training_files,
)
from bots.train import PROJECT_DIR, rasa_env, rasa_executable, rasa_venv

SCOPE_EXEMPT = {"greet", "thanks", "goodbye", "request_person", "out_of_scope"}
MARGINS = (None, 0.2, 0.15, 0.1, 0.05, 0.0, -0.05, -0.1)

# Run in the Rasa environment: parse every text with the trained model, in process.
_PARSE = """
import asyncio, json, sys, time
from rasa.core.agent import Agent
agent = Agent.load(sys.argv[1])
texts = json.load(open(sys.argv[2]))
async def run():
    out = []
    for text in texts:
        started = time.perf_counter()
        data = await agent.parse_message(text)
        data["seconds"] = time.perf_counter() - started
        out.append(data)
    return out
json.dump(asyncio.run(run()), open(sys.argv[3], "w"))
"""


def split(examples: list[Example], share: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Return (train, validation): `share` of each language's intent's examples set aside."""
    groups: dict[tuple[str, str], list[Example]] = defaultdict(list)
    for example in examples:
        groups[(example.language, example.intent)].append(example)
    rng = random.Random(seed)
    train, validation = [], []
    for key in sorted(groups):
        group = groups[key][:]
        rng.shuffle(group)
        cut = max(1, round(len(group) * share))
        validation += group[:cut]
        train += group[cut:]
    return train, validation


_TOKEN = re.compile(r"\w+")


def _words(text: str) -> frozenset[str]:
    return frozenset(_TOKEN.findall(text.lower()))


def twins(group: list[Example], similar: float = 0.6) -> list[list[Example]]:
    """Return the examples of one language's intent in clusters of near-copies.

    Two examples are near-copies when their word sets overlap by at least `similar`
    (Jaccard); clusters are the connected groups of near-copies.
    """
    words = [_words(e.text) for e in group]
    parent = list(range(len(group)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(group)):
        for j in range(i):
            union = len(words[i] | words[j])
            if union and len(words[i] & words[j]) / union >= similar:
                parent[root(i)] = root(j)
    clusters: dict[int, list[Example]] = defaultdict(list)
    for i, example in enumerate(group):
        clusters[root(i)].append(example)
    return list(clusters.values())


def folds(examples: list[Example], count: int, seed: int) -> list[list[Example]]:
    """Return `count` folds, each with about 1/count of every language's intent's examples.

    Near-copies (see `twins`) go to the same fold, so validation never sees its own twin.
    """
    groups: dict[tuple[str, str], list[Example]] = defaultdict(list)
    for example in examples:
        groups[(example.language, example.intent)].append(example)
    rng = random.Random(seed)
    result: list[list[Example]] = [[] for _ in range(count)]
    for key in sorted(groups):
        clusters = twins(groups[key])
        rng.shuffle(clusters)
        clusters.sort(key=len, reverse=True)  # big clusters first, then fill the smallest fold
        sizes = [0] * count
        for cluster in clusters:
            smallest = min(range(count), key=lambda f: (sizes[f], rng.random()))
            result[smallest] += cluster
            sizes[smallest] += len(cluster)
    return result


def _write_nlu(path: Path, examples: list[Example]) -> None:
    by_intent: dict[str, list[str]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example.text)
    nlu = [
        # Rasa reads each "- " line as it stands (quotes would become part of the text).
        {"intent": intent, "examples": "".join(f"- {' '.join(t.split())}\n" for t in texts)}
        for intent, texts in by_intent.items()
    ]  # fmt: skip
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True))


def _tuning_config(project: Path, overrides: dict[str, dict[str, Any]]) -> None:
    """Switch the fallback and the scope check off: their thresholds are chosen afterwards."""
    config = yaml.safe_load((PROJECT_DIR / "config.yml").read_text())
    for component in config["pipeline"]:
        component.update(overrides.get(component["name"].rsplit(".", 1)[-1], {}))
        if component["name"] == "FallbackClassifier":
            component.update(threshold=0.0, ambiguity_threshold=0.0)
        if component["name"].endswith("TfidfIntentClassifier"):
            component["scope_margin"] = None
    (project / "config.yml").write_text(yaml.safe_dump(config))


def train_and_parse(
    train: list[Example], texts: list[str], overrides: dict[str, dict[str, Any]]
) -> tuple[float, list[dict[str, Any]]]:
    """Train an NLU model on `train` and parse `texts` with it; return (train seconds, parses)."""
    with tempfile.TemporaryDirectory(prefix="kanal-tune-") as tmp:
        project = Path(tmp)
        (project / "data").mkdir()
        for module in ("kanal_nlu.py", "sentence_encoder.py"):
            shutil.copy(PROJECT_DIR / module, project)
        shutil.copy(DATA_DIR / "benefits.yml", project / "data")
        _write_nlu(project / "data" / "train.yml", train)
        _tuning_config(project, overrides)
        env = rasa_env(PYTHONPATH=str(project), LOG_LEVEL="WARNING")
        started = time.monotonic()
        subprocess.run(
            [str(rasa_executable()), "train", "nlu", "--config", "config.yml", "--nlu", "data",
             "--out", "models", "--fixed-model-name", "tune"],
            cwd=project, env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        seconds = time.monotonic() - started
        (project / "texts.json").write_text(json.dumps(texts))
        subprocess.run(
            [str(rasa_venv() / "bin" / "python"), "-c", _PARSE, "models/tune.tar.gz",
             "texts.json", "parses.json"],
            cwd=project, env=env, check=True,
        )  # fmt: skip
        return seconds, json.loads((project / "parses.json").read_text())


def decide(data: dict[str, Any], threshold: float, ambiguity: float, margin: float | None) -> str:
    """Return the intent the pipeline would give with these thresholds."""
    ranking = [r for r in data.get("intent_ranking") or [] if r["name"] != "nlu_fallback"]
    if not ranking:
        return "nlu_fallback"
    top = ranking[0]
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    if top["confidence"] < threshold or top["confidence"] - second < ambiguity:
        return "nlu_fallback"
    similarity = data.get("scope_similarity") or {}
    if (
        margin is not None
        and top["name"] not in SCOPE_EXEMPT
        and similarity.get("outside", 0.0) > similarity.get("inside", 0.0) - margin
    ):
        return "out_of_scope"
    return top["name"]


def score(validation: list[Example], parses: list[dict[str, Any]], setting: tuple[float, ...]
          ) -> dict[str, Scores]:  # fmt: skip
    """Return the scores per language of the validation split under one setting."""
    scores = {lang: Scores(lang) for lang in LANGUAGES}
    for example, data in zip(validation, parses, strict=True):
        intent = decide(data, *setting)
        found = sorted((e for e in data.get("entities") or [] if e["entity"] == "benefit"),
                       key=lambda e: e["start"])  # fmt: skip
        benefits = tuple(e["value"] for e in found)
        reading = data.get("intent_reading") or ""
        prediction = Prediction(example, intent, benefits, data.get("seconds", 0.0), reading)
        target = scores[example.language]
        (target.out_of_scope if example.intent == "out_of_scope" else target.in_scope).append(
            prediction
        )
    return scores


def committed_setting() -> tuple[float, float, float | None]:
    """Return (threshold, ambiguity, scope_margin) as config.yml commits them."""
    config = yaml.safe_load((PROJECT_DIR / "config.yml").read_text())
    options = {c["name"].rsplit(".", 1)[-1]: c for c in config["pipeline"]}
    fallback = options.get("FallbackClassifier", {})
    margin = options.get("TfidfIntentClassifier", {}).get("scope_margin")
    return (float(fallback.get("threshold", 0.3)), float(fallback.get("ambiguity_threshold", 0.1)),
            None if margin is None else float(margin))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bots.tune", description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    parser.add_argument("--share", type=float, default=0.2, help="with --folds 1")
    parser.add_argument("--show", action="store_true", help="list the errors of the best")
    parser.add_argument("--grid", action="store_true", help="print every setting's scores")
    parser.add_argument(
        "--at",
        metavar="THRESHOLD,AMBIGUITY,MARGIN",
        help="show this setting instead of the best, e.g. 0.45,0.1,0.0",
    )
    parser.add_argument(
        "--max-wrong-need", type=float, help="limit on the validation (default: the committed's)"
    )
    parser.add_argument(
        "--max-out-of-scope", type=float, help="limit on the validation (default: the committed's)"
    )
    parser.add_argument(
        "--parses",
        type=Path,
        metavar="FILE",
        help="keep the validation parses in FILE and, when it exists, score those again",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="COMPONENT.OPTION=VALUE",
        help="override a pipeline option, e.g. TfidfIntentClassifier.C=30",
    )
    args = parser.parse_args(argv)
    names = benefit_names()
    examples = [e for path in training_files() for e in read_examples(path, names) if e.language]
    overrides: dict[str, dict[str, Any]] = defaultdict(dict)
    for item in args.set:
        key, _, value = item.partition("=")
        component, _, option = key.partition(".")
        overrides[component][option] = yaml.safe_load(value)
    if args.folds > 1:
        parts = folds(examples, args.folds, args.seed)
        rounds = [([e for j, p in enumerate(parts) if j != i for e in p], part)
                  for i, part in enumerate(parts)]  # fmt: skip
    else:
        rounds = [split(examples, args.share, args.seed)]
    validation: list[Example] = []
    parses: list[dict[str, Any]] = []
    if args.parses and args.parses.exists():
        rounds = []
        kept = json.loads(args.parses.read_text())
        validation = [Example(**e | {"benefits": tuple(e["benefits"])}) for e in kept["validation"]]
        parses = kept["parses"]
    for number, (train, part) in enumerate(rounds, 1):
        seconds, parsed = train_and_parse(train, [e.text for e in part], overrides)
        validation += part
        parses += parsed
        print(f"fold {number}/{len(rounds)}: {len(train)} training, {len(part)} validation"
              f" examples, trained (NLU only) in {seconds:.1f} s")  # fmt: skip
    if args.parses and rounds:
        kept = {"validation": [vars(e) | {"benefits": list(e.benefits)} for e in validation],
                "parses": parses}  # fmt: skip
        args.parses.write_text(json.dumps(kept, ensure_ascii=False))
    rows = []
    thresholds = (0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)
    grid = list(product(thresholds, (0.0, 0.05, 0.1), MARGINS))
    grid += [committed_setting()] if committed_setting() not in grid else []
    for setting in grid:
        scores = score(validation, parses, setting)
        worst = {
            "acc": min(s.intent_accuracy for s in scores.values()),
            "wrong": max(s.wrong_need_rate for s in scores.values()),
            "oos": max(s.out_of_scope_false_answer_rate for s in scores.values()),
        }
        rows.append((setting, worst, scores))
    if args.grid:
        print("threshold ambiguity margin | worst: accuracy wrong-need oos-false")
    for setting, worst, _ in rows if args.grid else []:
        print(f"  {setting[0]:.2f} {setting[1]:.2f} {setting[2]} | "
              f"{worst['acc']:.3f} {worst['wrong']:.3f} {worst['oos']:.3f}")  # fmt: skip
    # New phrasings are harder than the held-out sets' (their out-of-scope questions are
    # further from the needs than the near-misses trained on), so the targets are not
    # absolute here: a setting must answer no more out-of-scope questions as a need and no
    # more needs wrongly than the limits (by default what the committed setting does on this
    # same validation; --max-wrong-need and --max-out-of-scope set them); of those, the one
    # that understands most wins.
    reference = next(r for r in rows if r[0] == committed_setting())
    (threshold, ambiguity, margin), worst = reference[0], reference[1]
    print(f"committed: threshold {threshold}, ambiguity {ambiguity}, scope_margin {margin}"
          f" | worst: accuracy {worst['acc']:.3f} wrong-need {worst['wrong']:.3f}"
          f" oos-false {worst['oos']:.3f}")  # fmt: skip
    most_wrong = worst["wrong"] if args.max_wrong_need is None else args.max_wrong_need
    most_oos = worst["oos"] if args.max_out_of_scope is None else args.max_out_of_scope
    fine = [r for r in rows if r[1]["oos"] <= most_oos + 1e-9
            and r[1]["wrong"] <= most_wrong + 1e-9]  # fmt: skip
    best = max(fine, key=lambda r: (r[1]["acc"], -r[1]["oos"], -r[0][0]))
    if args.at:
        wanted = tuple(None if v == "None" else float(v) for v in args.at.split(","))
        best = next(r for r in rows if r[0] == wanted)
    print(
        f"{'chosen' if args.at else 'best'}: threshold {best[0][0]},"
        f" ambiguity {best[0][1]}, scope_margin {best[0][2]}"
    )
    for lang, s in best[2].items():
        # The training data names benefits through the lexicon, not annotations: no entity figure.
        m = {k: v for k, v in s.metrics().items() if k != "entity_accuracy"}
        m["read_for_meaning"] = s.read_for_meaning
        print(f"  [{lang}] " + ", ".join(f"{k} {v:.3f}" for k, v in m.items()))
        if args.show:
            for p in s.in_scope:
                if p.intent != p.example.intent:
                    print(f"    wrong: {p.example.text!r}: {p.example.intent} -> {p.intent}")
            for p in s.false_answers():
                print(f"    answered: {p.example.text!r} -> {p.intent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
