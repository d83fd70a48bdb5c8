"""Language identification of short citizen messages: accuracy and time per message.

    python -m benchmarks.language_id

Lingua (`router/adapters/language.py`) among Danish and English only, on the messages in
`messages.py`, at several confidence thresholds: how many messages it names correctly, names
wrongly, or leaves unsure (kanal then keeps the conversation's language, else the default).
Time per message is measured after the models are loaded; the load is reported apart.
Results: benchmarks/results/language_id.json.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

from benchmarks import results
from benchmarks.language_id.messages import DANISH, ENGLISH
from router.adapters.language import MIN_CONFIDENCE, LinguaIdentifier
from router.domain.needs import asks_for_person

RESULTS = Path(__file__).resolve().parents[1] / "results" / "language_id.json"
THRESHOLDS = (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)


def score(threshold: float) -> dict[str, object]:
    identifier = LinguaIdentifier(("da", "en"), min_confidence=threshold)
    counts = {"right": 0, "wrong": 0, "unsure": 0}
    wrong: list[str] = []
    for expected, messages in (("da", DANISH), ("en", ENGLISH)):
        for text in messages:
            found = identifier.identify(text)
            if found is None:
                counts["unsure"] += 1
            elif found == expected:
                counts["right"] += 1
            else:
                counts["wrong"] += 1
                wrong.append(f"{text} -> {found}")
    total = len(DANISH) + len(ENGLISH)
    return {
        "threshold": threshold,
        **counts,
        "accuracy_when_sure": round(counts["right"] / max(1, counts["right"] + counts["wrong"]), 3),
        "unsure_rate": round(counts["unsure"] / total, 3),
        "mistaken": wrong,
    }


def _per_message(check, repeats: int) -> float:
    texts = DANISH + ENGLISH
    started = time.perf_counter()
    for _ in range(repeats):
        for text in texts:
            check(text)
    return (time.perf_counter() - started) / (repeats * len(texts))


def timing(repeats: int) -> dict[str, float]:
    """Time Lingua against a baseline run alongside: the person-request check every turn
    already makes on the same text (router.domain.needs.asks_for_person)."""
    identifier = LinguaIdentifier(("da", "en"))
    started = time.perf_counter()
    identifier.identify("hej")
    load = time.perf_counter() - started
    baseline = _per_message(asks_for_person, repeats)
    lingua = _per_message(identifier.identify, repeats)
    return {
        "model_load_ms": round(load * 1000, 1),
        "per_message_us": round(lingua * 1e6, 1),
        "baseline_per_message_us": round(baseline * 1e6, 1),
        "ratio_to_baseline": round(lingua / baseline, 1),
    }


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    result = {
        "benchmark": "language_id",
        "machine": platform.machine(),
        "python": platform.python_version(),
        "messages": {"da": len(DANISH), "en": len(ENGLISH)},
        "chosen_threshold": MIN_CONFIDENCE,
        "timing": timing(5 if quick else 50),  # first: the models load on the first message
    }
    result["thresholds"] = [score(t) for t in THRESHOLDS]
    for row in result["thresholds"]:
        print(
            f"threshold {row['threshold']:.2f}: right {row['right']:3} wrong {row['wrong']:2} "
            f"unsure {row['unsure']:2}  accuracy when sure {row['accuracy_when_sure']:.1%}"
        )
    print(f"timing: {result['timing']}")
    print(f"written: {results.write('language_id', result, quick=quick)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
