"""kanal's own NLU components for Rasa 3.6 (named in config.yml, imported by Rasa).

- `FoldingTokenizer`: Rasa's whitespace tokenizer, with each token's lemma folded so Danish
  written with or without æ ø å ("hvornår", "hvornaar", "hvornar") gives the same features.
- `BenefitMatcher`: finds the benefit a citizen names, as entity `benefit` with its canonical
  value, from the synonyms in data/benefits.yml, also when misspelt by a letter or two.
- `TfidfIntentClassifier`: logistic regression over TF-IDF word and character n-grams of the
  folded text, with a second check against out-of-scope questions: a message more like an
  out-of-scope example than like any in-scope one is out of scope, however sure the
  regression is ("I forgot my Netflix password" is nearest to "I forgot my Facebook
  password", not to "I forgot my password"). When the words leave it unsure, it asks a
  second regression that also sees what the sentence means (sentence_encoder.py).
"""

from __future__ import annotations

import json
import pickle
import re
from functools import lru_cache
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_WORD = re.compile(r"\w+(?:-\w+)*")


def fold(text: str) -> str:
    """Return text lowercased with æ ø å and their ASCII spellings made one.

    "hjælp"/"hjaelp", "spørgsmål"/"spoergsmaal"/"sporgsmal" and "får"/"faar"/"far" fold alike.
    """
    text = text.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return text.replace("aa", "a").replace("oe", "o")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class FoldingTokenizer(WhitespaceTokenizer):
    """Whitespace tokens whose lemma (what the featurizers count) is folded, see `fold`."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = super().tokenize(message, attribute)
        if attribute == TEXT:
            for token in tokens:
                token.lemma = fold(token.text)
        return tokens


def _allowed_edits(length: int) -> int:
    """Return how many letters a word of this length may be off and still match."""
    if length <= 4:
        return 0
    return 1 if length <= 8 else 2


def _deletes(word: str, edits: int) -> set[str]:
    """Return the word and every string made by deleting up to `edits` letters from it."""
    found, frontier = {word}, {word}
    for _ in range(edits):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def _distance(a: str, b: str) -> int:
    """Return the Damerau-Levenshtein (optimal string alignment) distance of two words."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


class BenefitLexicon:
    """Benefit names (folded word tuples) to canonical values, with a misspelling index."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = dict(names)
        self.phrases: dict[tuple[str, ...], str] = {}
        for name, value in self.names.items():
            words = tuple(fold(w) for w in _WORD.findall(name))
            if words:
                self.phrases[words] = value
        self.longest = max((len(p) for p in self.phrases), default=0)
        self.words = {w for phrase in self.phrases for w in phrase}
        self._index: dict[str, set[str]] = {}
        for word in self.words:
            for variant in _deletes(word, _allowed_edits(len(word))):
                self._index.setdefault(variant, set()).add(word)
        self.correct = lru_cache(maxsize=20000)(self._correct)

    def _correct(self, word: str) -> tuple[str, int]:
        """Return the lexicon word this word is (exactly or misspelt), and the edits, or ('', 0)."""
        if word in self.words:
            return word, 0
        edits = _allowed_edits(len(word))
        if not edits:
            return "", 0
        best: tuple[int, str] | None = None
        for variant in _deletes(word, edits):
            for candidate in self._index.get(variant, ()):
                allowed = min(edits, _allowed_edits(len(candidate)))
                distance = _distance(word, candidate)
                if distance <= allowed and (best is None or (distance, candidate) < best):
                    best = (distance, candidate)
        return (best[1], best[0]) if best else ("", 0)

    def find(self, text: str) -> list[dict[str, Any]]:
        """Return the benefits named in the text, longest names first, as Rasa entities."""
        spans = [(m.start(), m.end(), fold(m.group())) for m in _WORD.finditer(text)]
        corrected = [self.correct(word) for _, _, word in spans]
        taken = [False] * len(spans)
        found: list[dict[str, Any]] = []
        for size in range(min(self.longest, len(spans)), 0, -1):
            for start in range(len(spans) - size + 1):
                window = range(start, start + size)
                if any(taken[i] for i in window):
                    continue
                words = tuple(corrected[i][0] for i in window)
                value = self.phrases.get(words) if all(words) else None
                if value is None:
                    continue
                edits = sum(corrected[i][1] for i in window)
                for i in window:
                    taken[i] = True
                begin, end = spans[start][0], spans[start + size - 1][1]
                found.append(
                    {
                        "entity": "benefit",
                        "value": value,
                        "start": begin,
                        "end": end,
                        "text": text[begin:end],
                        "confidence_entity": round(1.0 - 0.1 * edits, 2),
                        "extractor": "BenefitMatcher",
                    }
                )
        return sorted(found, key=lambda e: e["start"])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class BenefitMatcher(GraphComponent, EntityExtractorMixin):
    """Extract entity `benefit` (canonical value) from the synonyms of the training data."""

    FILE = "benefits.json"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"entity": "benefit"}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        names: dict[str, str] | None = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.lexicon = BenefitLexicon(names or {})

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> BenefitMatcher:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Learn the names: every synonym, and every canonical value itself."""
        names = {k.lower(): v for k, v in training_data.entity_synonyms.items()}
        names.update({v: v for v in set(names.values())})
        self.lexicon = BenefitLexicon(names)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / self.FILE).write_text(json.dumps(names, ensure_ascii=False))
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> BenefitMatcher:
        try:
            with model_storage.read_from(resource) as directory:
                names = json.loads((directory / cls.FILE).read_text())
        except (ValueError, OSError):
            names = {}
        return cls(config, model_storage, resource, names)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            found = [e for e in self.lexicon.find(text) if e["entity"] == self._config["entity"]]
            if found:
                message.set(ENTITIES, [*message.get(ENTITIES, []), *found], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


def _nearest(vectors: Any, examples: Any) -> list[float]:
    """Return each vector's highest cosine similarity to the examples (rows, L2-normalised)."""
    if examples.shape[0] == 0:
        return [0.0] * vectors.shape[0]
    # One message at a time against the stored rows, as a dense vector: 0.4 ms, where a
    # sparse-by-sparse product (which transposes the examples) takes 3-5 ms.
    return [float((examples @ vectors[i].toarray().ravel()).max()) for i in range(vectors.shape[0])]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TfidfIntentClassifier(GraphComponent, IntentClassifier):
    """Intent by logistic regression over TF-IDF word (1-2) and character (2-5) n-grams.

    With `sentence_encoder` on, a second regression (C = `meaning_C`) is trained over the
    examples' multilingual sentence vectors. A message is first read by its words alone; when
    that regression is at least `early_exit` sure and, for a need, the message is nearer an
    in-scope example than an out-of-scope one, that answer stands (most messages: the encoder
    costs about 15 ms). Otherwise the message is encoded too, and its intent probabilities are
    the two regressions' average, the meaning's weighted `meaning_weight`: the sentence vector
    knows paraphrases that share no words with the training data, in both languages. The
    parse output's `intent_reading` says which answered: "words" or "meaning".

    The nearest-example check: the cosine similarity of the message to its nearest
    out-of-scope training example and to its nearest in-scope one. When the first exceeds the
    second by more than `-scope_margin`, an intent that is a need becomes `out_of_scope`
    (ranking kept). Both similarities are in the parse output as `scope_similarity`.
    """

    FILE = "tfidf_intent.pkl"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "C": 10.0,
            "max_char_ngram": 5,
            "ranking_length": 10,
            "class_weight": None,
            "out_of_scope_intent": "out_of_scope",
            # None switches the nearest-example check off.
            "scope_margin": 0.05,
            # Conversation moves the nearest-example check leaves alone.
            "scope_exempt": ["greet", "thanks", "goodbye", "request_person"],
            # The second regression, over n-grams and the sentence vector (see above).
            "sentence_encoder": False,
            "meaning_C": 300.0,
            "meaning_weight": 0.5,
            "early_exit": 0.9,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Any = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TfidfIntentClassifier:
        return cls(config, model_storage, resource)

    def _pipeline(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline, make_union

        words = TfidfVectorizer(
            preprocessor=fold, token_pattern=r"(?u)\b\w+\b", ngram_range=(1, 2),
            sublinear_tf=True,
        )  # fmt: skip
        chars = TfidfVectorizer(
            preprocessor=fold, analyzer="char_wb",
            ngram_range=(2, self._config["max_char_ngram"]), sublinear_tf=True, min_df=2,
        )  # fmt: skip
        return make_pipeline(make_union(words, chars), self._classifier())

    def _classifier(self, c: float | None = None) -> Any:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(
            C=c or self._config["C"], class_weight=self._config["class_weight"], max_iter=5000,
        )  # fmt: skip

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.preprocessing import normalize

        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if examples:
            texts = [e.get(TEXT) for e in examples]
            labels = [e.get(INTENT) for e in examples]
            pipeline = self._pipeline()
            pipeline.fit(texts, labels)
            counts = pipeline.steps[0][1].transform(texts)
            matrix = normalize(counts).tocsr()
            outside = [label == self._config["out_of_scope_intent"] for label in labels]
            self.model = {
                "pipeline": pipeline,
                "inside": matrix[[i for i, o in enumerate(outside) if not o]],
                "outside": matrix[[i for i, o in enumerate(outside) if o]],
                "meaning": None,
            }
            if self._config["sentence_encoder"]:
                from sentence_encoder import encode_cached

                meaning = self._classifier(self._config["meaning_C"])
                meaning.fit(encode_cached(texts), labels)
                self.model["meaning"] = meaning
        with self._model_storage.write_to(self._resource) as directory:
            (directory / self.FILE).write_bytes(pickle.dumps(self.model))
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfidfIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                model = pickle.loads((directory / cls.FILE).read_bytes())  # noqa: S301 - our own
        except (ValueError, OSError):
            model = None
        return cls(config, model_storage, resource, model)

    def process(self, messages: list[Message]) -> list[Message]:
        if self.model is None:
            return messages
        from sklearn.preprocessing import normalize

        pipeline = self.model["pipeline"]
        texts = [m.get(TEXT) or "" for m in messages]
        counts = pipeline.steps[0][1].transform(texts)
        probabilities = pipeline.steps[1][1].predict_proba(counts)
        vectors = normalize(counts)
        inside = _nearest(vectors, self.model["inside"])
        outside = _nearest(vectors, self.model["outside"])
        labels = list(pipeline.classes_)
        readings = ["words"] * len(messages)
        meaning = self.model.get("meaning")
        # The words alone answer when sure, and, for a need, when the message is nearer an
        # in-scope example than an out-of-scope one; every other message is read for meaning.
        exempt = (*self._config["scope_exempt"], self._config["out_of_scope_intent"])
        unsure = [
            i
            for i, row in enumerate(probabilities)
            if meaning is not None
            and (
                row.max() < self._config["early_exit"]
                or (labels[int(row.argmax())] not in exempt and outside[i] > inside[i])
            )
        ]
        if unsure:
            from sentence_encoder import encode

            again = meaning.predict_proba(encode([texts[i] for i in unsure]))
            weight = self._config["meaning_weight"]
            for i, row in zip(unsure, again, strict=True):
                probabilities[i] = (1 - weight) * probabilities[i] + weight * row
                readings[i] = "meaning"
        oos = self._config["out_of_scope_intent"]
        for i, (message, row) in enumerate(zip(messages, probabilities, strict=True)):
            ranked = sorted(zip(labels, row, strict=True), key=lambda x: -x[1])
            ranking = [
                {"name": str(name), "confidence": float(p)}
                for name, p in ranked[: self._config["ranking_length"]]
            ]
            intent = ranking[0]
            if self._out_of_scope(intent["name"], inside[i], outside[i]):
                intent = {"name": oos, "confidence": intent["confidence"]}
                ranking = [intent, *[r for r in ranking if r["name"] != oos]]
            similarity = {"inside": round(inside[i], 4), "outside": round(outside[i], 4)}
            message.set("scope_similarity", similarity, add_to_output=True)
            message.set("intent_reading", readings[i], add_to_output=True)
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def _out_of_scope(self, intent: str, inside: float, outside: float) -> bool:
        """Return whether the nearest-example check turns this need into out of scope."""
        margin = self._config["scope_margin"]
        oos = self._config["out_of_scope_intent"]
        return (
            margin is not None
            and intent not in (*self._config["scope_exempt"], oos)
            and outside > inside - margin
        )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
