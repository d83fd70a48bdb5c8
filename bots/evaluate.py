"""Measure the bot's intent accuracy on held-out examples it was not trained on."""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bots.train import PROJECT_DIR

# Intents the bot answers with "I did not understand": an honest miss, counted as a bot failure.
from router.config import from_env
from router.domain.needs import NOT_UNDERSTOOD

HELDOUT_FILE = PROJECT_DIR / "tests" / "heldout.yml"
TRAINING_FILE = PROJECT_DIR / "data" / "nlu.yml"

_INTENT = re.compile(r"^- intent:\s*(\S+)\s*$")
_OTHER_BLOCK = re.compile(r"^- \w+:")
_EXAMPLE = re.compile(r"^\s+- (.+?)\s*$")
# [shown text](entity) or [shown text]{"entity": ...}: keep the shown text.
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def read_examples(path: Path) -> list[tuple[str, str]]:
    """Return (intent, text) pairs from a file in Rasa's nlu.yml shape, annotations removed."""
    examples: list[tuple[str, str]] = []
    intent: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := _INTENT.match(line):
            intent = match.group(1)
        elif _OTHER_BLOCK.match(line):
            intent = None  # synonyms, lookups and regexes are not intent examples
        elif intent and (match := _EXAMPLE.match(line)):
            examples.append((intent, _ANNOTATION.sub(r"\1", match.group(1))))
    return examples


@dataclass
class Evaluation:
    """Predictions on the held-out set and what they add up to."""

    results: list[tuple[str, str, str]] = field(default_factory=list)  # (text, expected, got)
    seconds: list[float] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Return the share of examples whose predicted intent is the expected one."""
        right = sum(expected == got for _, expected, got in self.results)
        return right / len(self.results) if self.results else 0.0

    def per_intent(self) -> dict[str, tuple[int, int]]:
        """Return (right, total) per expected intent."""
        total = Counter(expected for _, expected, _ in self.results)
        right = Counter(expected for _, expected, got in self.results if expected == got)
        return {intent: (right[intent], total[intent]) for intent in sorted(total)}

    def errors(self) -> list[tuple[str, str, str]]:
        """Return the misclassified examples."""
        return [r for r in self.results if r[1] != r[2]]

    def misrouted(self) -> list[tuple[str, str, str]]:
        """Return the errors that answered another need (worse than admitting not understanding)."""
        return [r for r in self.errors() if r[2] not in NOT_UNDERSTOOD]


def evaluate(base_url: str, path: Path = HELDOUT_FILE, timeout: float = 5.0) -> Evaluation:
    """Parse every held-out example with the running server's /model/parse."""
    evaluation = Evaluation()
    with requests.Session() as session:
        for expected, text in read_examples(path):
            started = time.perf_counter()
            answer = session.post(f"{base_url}/model/parse", json={"text": text}, timeout=timeout)
            evaluation.seconds.append(time.perf_counter() - started)
            answer.raise_for_status()
            got = (answer.json().get("intent") or {}).get("name") or ""
            evaluation.results.append((text, expected, got))
    return evaluation


def report(evaluation: Evaluation) -> str:
    """Return a plain-text report: accuracy, per intent, errors, parse latency."""
    lines = [
        f"held-out intent accuracy: {evaluation.accuracy:.1%} ({len(evaluation.results)} examples)"
    ]
    misrouted = len(evaluation.misrouted())
    share = misrouted / len(evaluation.results) if evaluation.results else 0.0
    lines.append(f"  of the errors, answered as another need: {misrouted} ({share:.1%} of all)")
    for intent, (right, total) in evaluation.per_intent().items():
        lines.append(f"  {intent:<20} {right}/{total}")
    for text, expected, got in evaluation.errors():
        lines.append(f"  wrong: {text!r}: expected {expected}, got {got}")
    if evaluation.seconds:
        ordered = sorted(evaluation.seconds)
        lines.append(f"/model/parse median {ordered[len(ordered) // 2] * 1000:.1f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Evaluate against a running Rasa server, or start one with --start."""
    parser = argparse.ArgumentParser(prog="python -m bots.evaluate", description=__doc__)
    default_url = from_env()["KANAL_RASA_URL"]
    parser.add_argument("--url", default=default_url, help="running Rasa server (--enable-api)")
    parser.add_argument("--start", action="store_true", help="train if needed and start a bot")
    parser.add_argument("--file", type=Path, default=HELDOUT_FILE, help="held-out examples")
    args = parser.parse_args(argv)
    if not args.start:
        print(report(evaluate(args.url, args.file)))
        return 0
    from bots.serve import running_bot
    from bots.train import train_if_changed

    trained = train_if_changed(quiet=True)
    if trained.trained:
        print(f"trained in {trained.seconds:.1f} s")
    with tempfile.TemporaryDirectory() as logs, running_bot(Path(logs)) as bot:
        print(f"server ready in {bot.start_seconds:.1f} s")
        print(report(evaluate(bot.url, args.file)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
