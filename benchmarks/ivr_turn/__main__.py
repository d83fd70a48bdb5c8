"""IVR turn latency, with and without the bot, against baselines run in the same command.

    .venv/bin/python -m benchmarks.ivr_turn [--calls 200] [--quick] [--no-rasa]

Each measured request is one signed Twilio Voice webhook handled by the real app in-process
(Flask's test client, SQLite in WAL mode): the signature check, the call's state from the URL,
the turn (transactions 1 and 2, the policy twice) and the TwiML answer. The phone driver of
`kanal phone` (ivr/phone.py) plays Twilio's part, so the requests are exactly Twilio's.

    without the bot  a scripted in-process bot answers: kanal's own work only. Baseline: the
                     cheapest signed voice webhook (`/twilio/voice/connecting`: signature
                     check and TwiML, no storage), in the same process.
    with the bot     the real Rasa server and action server (the trained model, started here
                     on free ports). Baseline: the same text sent to Rasa's REST channel
                     directly, so the ratio is what kanal adds to Rasa.

Writes benchmarks/results/ivr_turn.json. The issue's target: every turn well under a second.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks import results as results_file

RESULTS = Path(__file__).resolve().parents[1] / "results" / "ivr_turn.json"
PUBLIC = "http://127.0.0.1:9"
TEXT = "when is my pension paid"


def _stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def _app(work: Path, bot):  # noqa: ANN001, ANN202
    from router import create_app
    from router.adapters.db import create_all
    from router.entrypoints.bootstrap import kanal_of
    from router.service.ports import SendResult

    class Accepting:
        def send(self, to, body, *, status_callback=None):  # noqa: ANN001, ANN201
            return SendResult("accepted", provider_id="SM" + uuid.uuid4().hex, segments=1)

    url = f"sqlite:///{work / 'kanal.db'}"
    from sqlalchemy import create_engine

    engine = create_engine(url)
    create_all(engine)
    engine.dispose()
    app = create_app(
        {
            "KANAL_DATABASE_URL": url,
            "KANAL_INSTANCE_PATH": str(work),
            "KANAL_PUBLIC_URL": PUBLIC,
            "KANAL_TWILIO_SANDBOX_URL": PUBLIC + "/sandbox/twilio",
            "KANAL_LOG_LEVEL": "WARNING",
            "KANAL_ALWAYS_OPEN": True,
            "KANAL_VOICE_LANGUAGES": ("en",),
        },
        bot=bot,
        senders={"sms": Accepting()},
    )
    return app, kanal_of(app)


def _phone(app, i: int):  # noqa: ANN001, ANN202
    from ivr.phone import Line, Phone
    from ivr.phone_transport import flask_send

    line = Line(public_url=PUBLIC, auth_token=app.config["TWILIO_AUTH_TOKEN"])
    return Phone(line, f"+4540{i:06d}", flask_send(app.test_client(), PUBLIC))


def measure_calls(app, calls: int, offset: int = 0, between=None, into=None) -> dict:  # noqa: ANN001
    """Time the greeting (incoming call) and the first spoken turn of `calls` new calls;
    `between()`, if given, runs after each call and its time goes `into` a list."""
    greeting, turn, baseline = [], [], []
    for i in range(calls + 10):
        phone = _phone(app, offset + i)
        started = time.perf_counter()
        phone.dial()
        dialled = time.perf_counter()
        phone.say(TEXT)
        said = time.perf_counter()
        phone.request("/twilio/voice/connecting?l=en")
        done = time.perf_counter()
        other = between() if between is not None else None
        if i >= 10:  # the first ten warm up caches and pools
            greeting.append(dialled - started)
            turn.append(said - dialled)
            baseline.append(done - said)
            if other is not None:
                into.append(other)
        assert phone.gather and phone.gather["action"].startswith(PUBLIC + "/twilio/voice/offer")
    return {"greeting": _stats(greeting), "turn": _stats(turn), "baseline": _stats(baseline)}


def without_bot(calls: int) -> dict:
    from benchmarks.sms_webhook.scripted import ScriptedBot

    work = Path(tempfile.mkdtemp(prefix="kanal-ivr-bench-"))
    app, kanal = _app(work, ScriptedBot())
    try:
        found = measure_calls(app, calls)
    finally:
        kanal.close()
    found["ratio_turn_to_baseline_p50"] = round(
        found["turn"]["p50_ms"] / found["baseline"]["p50_ms"], 1
    )
    return found


def with_rasa(calls: int) -> dict | str:
    venv = Path(os.environ.get("KANAL_RASA_VENV") or Path(__file__).parents[2] / ".venv-rasa")
    from bots.serve import MODEL_FILE

    if not (venv / "bin" / "rasa").exists() or not MODEL_FILE.exists():
        return f"skipped: no Rasa at {venv} or no model at {MODEL_FILE} (make install train)"
    import requests

    from benchmarks.sms_webhook import rasa_pair
    from bots.client import RasaBot

    work = Path(tempfile.mkdtemp(prefix="kanal-ivr-rasa-"))
    with rasa_pair.rasa(work, MODEL_FILE, venv) as rasa_url:
        session = requests.Session()

        def direct_turn() -> float:
            started = time.perf_counter()
            answer = session.post(
                rasa_url + "/webhooks/rest/webhook",
                json={"sender": uuid.uuid4().hex, "message": TEXT},
                timeout=30,
            )
            answer.raise_for_status()
            return time.perf_counter() - started

        app, kanal = _app(work, RasaBot(rasa_url, timeout=10))
        try:
            # One call through kanal, then the same text to Rasa directly, alternating, so
            # that the other tenants' load, moving from minute to minute, falls on both alike.
            direct: list[float] = []
            found = measure_calls(app, calls, offset=500_000, between=direct_turn, into=direct)
        finally:
            kanal.close()
    found["baseline"] = _stats(direct)
    found["baseline_is"] = "the same text to Rasa's REST channel directly"
    found["ratio_turn_to_rasa_direct_p50"] = round(
        found["turn"]["p50_ms"] / found["baseline"]["p50_ms"], 2
    )
    found["kanal_added_p50_ms"] = round(found["turn"]["p50_ms"] - found["baseline"]["p50_ms"], 2)
    # The target: kanal's added median at most half of Rasa direct's own.
    added = found["kanal_added_p50_ms"] / found["baseline"]["p50_ms"]
    found["added_p50_vs_rasa_p50"] = round(added, 3)
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-rasa", action="store_true")
    args = parser.parse_args(argv)
    calls = 40 if args.quick else args.calls
    results = {
        "about": {
            "database": "SQLite (WAL), in-process app through Flask's test client",
            "calls": calls,
            "measured": "one signed voice webhook each: greeting = incoming call; turn = "
            f"the first spoken input ({TEXT!r}) answered with the SMS offer",
            "target": "every turn well under a second",
        },
        "without_bot": without_bot(calls),
        "with_rasa": "skipped: --no-rasa" if args.no_rasa else with_rasa(calls),
    }
    written = results_file.write("ivr_turn", results, quick=args.quick)
    print(json.dumps(results, indent=2))
    print(f"written: {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
