"""The bot's figures over one language's evaluation set (`Scores`), and the thresholds of
bots/rasa/tests/thresholds.toml they must reach."""

from __future__ import annotations

import statistics
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bots.evaluation_sets import LANGUAGES, TESTS_DIR, Example
from router.domain.needs import NOT_UNDERSTOOD, need_of

THRESHOLDS_FILE = TESTS_DIR / "thresholds.toml"


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
