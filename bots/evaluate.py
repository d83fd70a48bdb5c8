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
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from bots.train import PROJECT_DIR

# Intents the bot answers with "I did not understand": an honest miss, counted as a bot failure.
from router.config import from_env
from router.domain.needs import NOT_UNDERSTOOD, need_of

LANGUAGES = ("en", "da")
TESTS_DIR = PROJECT_DIR / "tests"
DATA_DIR = PROJECT_DIR / "data"
THRESHOLDS_FILE = TESTS_DIR / "thresholds.toml"
BENEFITS_FILE = DATA_DIR / "benefits.yml"

_INTENT = re.compile(r"^- intent:\s*(\S+)\s*$")
_OTHER_BLOCK = re.compile(r"^- \w+:")
_EXAMPLE = re.compile(r"^\s+- (.+?)\s*$")
# [shown text](entity), [shown text](entity:value) or [shown text]{"entity": ..., "value": ...}
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\(([^)]*)\)|(\{[^}]*\}))")


@dataclass(frozen=True)
class Example:
    """One example: its intent, its text (annotations removed) and the benefits it names."""

    intent: str
    text: str
    benefits: tuple[str, ...] = ()
    language: str = ""


def heldout_file(language: str) -> Path:
    """Return the held-out in-scope questions of a language."""
    return TESTS_DIR / f"heldout_{language}.yml"


def out_of_scope_file(language: str) -> Path:
    """Return the held-out out-of-scope questions of a language."""
    return TESTS_DIR / f"out_of_scope_{language}.yml"


# The evaluation sets, each a language's files (in-scope and out-of-scope examples together):
# held-out (the bot's figures and thresholds.toml's), development (to choose training data and
# settings on, tests/dev/README.md) and blind (final figures only, tests/blind/README.md).
SETS: dict[str, Callable[[str], list[Path]]] = {
    "heldout": lambda language: [heldout_file(language), out_of_scope_file(language)],
    "dev": lambda language: [TESTS_DIR / "dev" / f"dev_{language}.yml"],
    "blind": lambda language: sorted((TESTS_DIR / "blind").glob(f"*_{language}.yml")),
}


def training_files() -> list[Path]:
    """Return the training files that hold intent examples."""
    return sorted(DATA_DIR.glob("*.yml"))


def language_of(path: Path) -> str:
    """Return the language a data file is written in, from its name (nlu_da.yml: da)."""
    stem = path.stem.rsplit("_", 1)[-1]
    return stem if stem in LANGUAGES else ""


def benefit_names(path: Path = BENEFITS_FILE) -> dict[str, str]:
    """Return the benefit names (lowercase) of the lexicon and the canonical value of each."""
    names: dict[str, str] = {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    for block in (data or {}).get("nlu") or []:
        if "synonym" in block:
            value = str(block["synonym"])
            names[value] = value
            for line in str(block.get("examples") or "").splitlines():
                name = line.strip().removeprefix("- ").strip().lower()
                if name:
                    names[name] = value
    return names


def _benefit_of(shown: str, entity: str, value: str | None, names: dict[str, str]) -> str | None:
    """Return the canonical benefit an annotation means, or None if it is another entity."""
    if entity != "benefit":
        return None
    if value:
        return value
    return names.get(shown.lower(), shown.lower())


def _annotations(text: str, names: dict[str, str]) -> tuple[str, tuple[str, ...]]:
    """Return the text without annotations and the benefits annotated in it, in order."""
    benefits: list[str] = []
    for match in _ANNOTATION.finditer(text):
        shown, short, long = match.groups()
        if long:
            try:
                data = json.loads(long)
            except ValueError:
                data = {}
            entity, value = str(data.get("entity") or ""), data.get("value")
        else:
            entity, _, value = (short or "").partition(":")
        benefit = _benefit_of(shown, entity.strip(), value or None, names)
        if benefit:
            benefits.append(benefit)
    return _ANNOTATION.sub(r"\1", text), tuple(benefits)


def read_examples(path: Path, names: dict[str, str] | None = None) -> list[Example]:
    """Return the examples of a file in Rasa's nlu.yml shape, annotations read and removed."""
    names = benefit_names() if names is None else names
    language = language_of(path)
    examples: list[Example] = []
    intent: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := _INTENT.match(line):
            intent = match.group(1)
        elif _OTHER_BLOCK.match(line):
            intent = None  # synonyms, lookups and regexes are not intent examples
        elif intent and (match := _EXAMPLE.match(line)):
            raw = match.group(1)
            if len(raw) > 1 and raw[0] == raw[-1] and raw[0] in "\"'":
                raw = yaml.safe_load(raw)
            text, benefits = _annotations(raw, names)
            examples.append(Example(intent, text, benefits, language))
    return examples


@dataclass(frozen=True)
class Prediction:
    """What the bot made of one example."""

    example: Example
    intent: str
    benefits: tuple[str, ...] = ()
    seconds: float = 0.0
    reading: str = ""


def answered_as_need(intent: str) -> bool:
    """Return True when an intent is answered as a need (a digital route)."""
    return need_of(intent) is not None


@dataclass
class Scores:
    """The figures of one language over its held-out and out-of-scope examples."""

    language: str
    in_scope: list[Prediction] = field(default_factory=list)
    out_of_scope: list[Prediction] = field(default_factory=list)

    @property
    def intent_accuracy(self) -> float:
        right = sum(p.intent == p.example.intent for p in self.in_scope)
        return right / len(self.in_scope) if self.in_scope else 0.0

    def wrong_needs(self) -> list[Prediction]:
        """Return in-scope examples answered as something else than asked, not as a miss."""
        return [
            p
            for p in self.in_scope
            if p.intent != p.example.intent and p.intent not in NOT_UNDERSTOOD
        ]

    @property
    def wrong_need_rate(self) -> float:
        return len(self.wrong_needs()) / len(self.in_scope) if self.in_scope else 0.0

    def false_answers(self) -> list[Prediction]:
        """Return out-of-scope examples answered as if they were a need."""
        return [p for p in self.out_of_scope if answered_as_need(p.intent)]

    @property
    def out_of_scope_false_answer_rate(self) -> float:
        if not self.out_of_scope:
            return 0.0
        return len(self.false_answers()) / len(self.out_of_scope)

    def with_benefit(self) -> list[Prediction]:
        return [p for p in self.in_scope if p.example.benefits]

    def entity_errors(self) -> list[Prediction]:
        """Return examples naming a benefit whose first benefit found is not the one named."""
        return [p for p in self.with_benefit() if p.benefits[:1] != p.example.benefits[:1]]

    @property
    def entity_accuracy(self) -> float:
        named = self.with_benefit()
        return 1 - len(self.entity_errors()) / len(named) if named else 0.0

    @property
    def parse_p50_ms(self) -> float:
        seconds = [p.seconds for p in self.in_scope + self.out_of_scope if p.seconds]
        return statistics.median(seconds) * 1000 if seconds else 0.0

    @property
    def read_for_meaning(self) -> float:
        """Return the share of messages the classifier read for meaning, not by words alone."""
        every = self.in_scope + self.out_of_scope
        return sum(p.reading == "meaning" for p in every) / len(every) if every else 0.0

    def metrics(self) -> dict[str, float]:
        """Return the figures thresholds.toml names, by the same keys."""
        return {
            "intent_accuracy": self.intent_accuracy,
            "wrong_need_rate": self.wrong_need_rate,
            "out_of_scope_false_answer_rate": self.out_of_scope_false_answer_rate,
            "entity_accuracy": self.entity_accuracy,
            "parse_p50_ms": self.parse_p50_ms,
        }

    def per_intent(self) -> dict[str, tuple[int, int]]:
        """Return (right, total) per expected intent."""
        total = Counter(p.example.intent for p in self.in_scope)
        right = Counter(p.example.intent for p in self.in_scope if p.intent == p.example.intent)
        return {intent: (right[intent], total[intent]) for intent in sorted(total)}


# The figures where lower is better; the others must be at least their threshold.
AT_MOST = ("wrong_need_rate", "out_of_scope_false_answer_rate", "parse_p50_ms")


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, dict[str, float]]:
    """Return the committed thresholds per language (a `[<lang>]` table each)."""
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    return {lang: {k: float(v) for k, v in data.get(lang, {}).items()} for lang in LANGUAGES}


def shortfalls(scores: Scores, thresholds: dict[str, float]) -> list[str]:
    """Return, in words, every figure of a language that misses its threshold."""
    missed = []
    figures = scores.metrics()
    for name, limit in thresholds.items():
        value = figures.get(name)
        if value is None:
            missed.append(f"{scores.language}: unknown figure {name!r} in thresholds")
        elif (value > limit) if name in AT_MOST else (value < limit):
            relation = "above" if name in AT_MOST else "below"
            missed.append(f"{scores.language}: {name} {value:.3f} is {relation} {limit}")
    return missed


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
