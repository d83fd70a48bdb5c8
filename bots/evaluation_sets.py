"""The bot's evaluation sets and training data as examples: each file in Rasa's nlu.yml shape
read into `Example`s (intent, text without its annotations, the benefits it names).

Per language (en, da), in bots/rasa/tests/: the held-out sets (`heldout_<lang>.yml`, citizen
questions, and `out_of_scope_<lang>.yml`, everyday questions the bot must not answer as a
need), the development sets (tests/dev/) and the blind sets (tests/blind/).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from bots.train import PROJECT_DIR

LANGUAGES = ("en", "da")
TESTS_DIR = PROJECT_DIR / "tests"
DATA_DIR = PROJECT_DIR / "data"
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
