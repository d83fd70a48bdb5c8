"""Measure the bot on held-out examples it was not trained on, per language.

For each language (en, da) two files in bots/rasa/tests/: `heldout_<lang>.yml` (citizen
questions, with the benefit they name annotated) and `out_of_scope_<lang>.yml` (everyday
questions the bot must not answer as a need). The figures:

- intent accuracy: held-out questions given their intent;
- wrong-need rate: held-out questions answered as another need (worse than "not understood");
- out-of-scope false answers: out-of-scope questions answered as a need;
- benefit entity accuracy: held-out questions naming a benefit whose first benefit found is it;
- parse p50: the median time of one /model/parse call;
- read for meaning: the share of messages the words alone left unsure, which the sentence
  encoder read too (bots/rasa/sentence_encoder.py; the slower path, about 15 ms more).

`python -m bots.evaluate [--start]` (or `kanal bot evaluate`) prints them and the thresholds
of bots/rasa/tests/thresholds.toml they must reach; the exit status is 1 when one is missed.
`--set dev` scores the development sets (tests/dev/, the ones to choose training data on) and
`--set blind` the blind sets (tests/blind/, final figures only), without thresholds.

The examples are read by bots/evaluation_sets.py and scored by bots/evaluation_scores.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import requests

from bots.evaluation_scores import AT_MOST, Prediction, Scores, load_thresholds, shortfalls
from bots.evaluation_sets import LANGUAGES, SETS, Example, benefit_names, read_examples
from router.config import from_env

Parser = Callable[[str], dict[str, Any]]


def http_parser(base_url: str, timeout: float = 30.0) -> Parser:
    """Return a function asking a running Rasa server's /model/parse about a text.

    The timeout is generous: on a loaded machine the first parses of a fresh server are slow,
    and a slow answer is not a wrong one (the thresholds judge answers, not their speed).
    """
    session = requests.Session()

    def parse(text: str) -> dict[str, Any]:
        answer = session.post(f"{base_url}/model/parse", json={"text": text}, timeout=timeout)
        answer.raise_for_status()
        return answer.json()

    return parse


def predict(parse: Parser, examples: Iterable[Example]) -> list[Prediction]:
    """Parse every example; keep the intent, the benefits found and the time it took."""
    predictions = []
    for example in examples:
        started = time.perf_counter()
        data = parse(example.text)
        seconds = time.perf_counter() - started
        predictions.append(prediction_of(example, data, seconds))
    return predictions


def prediction_of(example: Example, data: dict[str, Any], seconds: float = 0.0) -> Prediction:
    """Return the prediction a parse result (Rasa's shape) makes for an example."""
    intent = (data.get("intent") or {}).get("name") or ""
    found = sorted(
        (e for e in data.get("entities") or [] if e.get("entity") == "benefit"),
        key=lambda e: e.get("start") or 0,
    )
    benefits = tuple(str(e.get("value")) for e in found)
    return Prediction(example, intent, benefits, seconds, str(data.get("intent_reading") or ""))


def evaluate(
    base_url: str, languages: Iterable[str] = LANGUAGES, evaluation_set: str = "heldout"
) -> dict[str, Scores]:
    """Score a running Rasa server on one evaluation set (`SETS`) of each language."""
    parse = http_parser(base_url)
    names = benefit_names()
    scores = {}
    for language in languages:
        files = SETS[evaluation_set](language)
        examples = [e for path in files for e in read_examples(path, names)]
        predictions = predict(parse, examples)
        scores[language] = Scores(
            language,
            [p for p in predictions if p.example.intent != "out_of_scope"],
            [p for p in predictions if p.example.intent == "out_of_scope"],
        )
    return scores


def report(scores: dict[str, Scores], thresholds: dict[str, dict[str, float]] | None = None,
           verbose: bool = False, title: str = "held-out") -> str:  # fmt: skip
    """Return a plain-text report: the figures per language against their thresholds."""
    lines = []
    for language, s in scores.items():
        limits = (thresholds or {}).get(language, {})

        def limit(name: str, limits: dict[str, float] = limits) -> str:
            if name not in limits:
                return ""
            return f"  ({'max' if name in AT_MOST else 'min'} {limits[name]:g})"

        named = len(s.with_benefit())
        lines += [
            f"[{language}] {len(s.in_scope)} {title} questions, {len(s.out_of_scope)} out of scope",
            f"  intent accuracy              {s.intent_accuracy:7.1%}{limit('intent_accuracy')}",
            f"  wrong need                   {s.wrong_need_rate:7.1%}"
            f" ({len(s.wrong_needs())}){limit('wrong_need_rate')}",
            f"  out-of-scope false answers   {s.out_of_scope_false_answer_rate:7.1%}"
            f" ({len(s.false_answers())}){limit('out_of_scope_false_answer_rate')}",
            f"  benefit entity accuracy      {s.entity_accuracy:7.1%}"
            f" (of {named}){limit('entity_accuracy')}"
            if named
            else "  benefit entity accuracy          -  (no benefits annotated)",
            f"  parse p50                    {s.parse_p50_ms:6.1f} ms{limit('parse_p50_ms')}",
            f"  read for meaning             {s.read_for_meaning:7.1%}",
        ]
        if verbose:
            for intent, (right, total) in s.per_intent().items():
                lines.append(f"    {intent:<20} {right}/{total}")
            for p in [x for x in s.in_scope if x.intent != x.example.intent]:
                lines.append(f"    wrong: {p.example.text!r}: {p.example.intent} -> {p.intent}")
            for p in s.false_answers():
                lines.append(f"    answered: {p.example.text!r} -> {p.intent}")
            for p in s.entity_errors():
                lines.append(
                    f"    benefit: {p.example.text!r}: {p.example.benefits} -> {p.benefits}"
                )
        if thresholds:
            lines += [f"  MISSED {m}" for m in shortfalls(s, limits)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Evaluate against a running Rasa server, or start one with --start."""
    parser = argparse.ArgumentParser(
        prog="python -m bots.evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    default_url = from_env()["KANAL_RASA_URL"]
    parser.add_argument("--url", default=default_url, help="running Rasa server (--enable-api)")
    parser.add_argument("--start", action="store_true", help="train if needed and start a bot")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every error")
    parser.add_argument("--language", choices=LANGUAGES, action="append", help="only these")
    parser.add_argument(
        "--set", dest="evaluation_set", choices=SETS, default="heldout",
        help="the set to score: heldout (the default, held to thresholds.toml), dev or blind",
    )  # fmt: skip
    args = parser.parse_args(argv)
    languages = args.language or LANGUAGES
    # Only the held-out figures are held to thresholds; the other sets' are printed.
    thresholds = load_thresholds() if args.evaluation_set == "heldout" else {}
    if args.start:
        from bots.serve import running_bot
        from bots.train import train_if_changed

        trained = train_if_changed(quiet=True)
        if trained.trained:
            print(f"trained in {trained.seconds:.1f} s")
        with tempfile.TemporaryDirectory() as logs, running_bot(Path(logs)) as bot:
            print(f"server ready in {bot.start_seconds:.1f} s")
            scores = evaluate(bot.url, languages, args.evaluation_set)
    else:
        scores = evaluate(args.url, languages, args.evaluation_set)
    title = {"heldout": "held-out", "dev": "development", "blind": "blind"}[args.evaluation_set]
    print(report(scores, thresholds, verbose=args.verbose, title=title))
    missed = [m for lang, s in scores.items() for m in shortfalls(s, thresholds.get(lang, {}))]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
