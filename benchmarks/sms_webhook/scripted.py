"""kanal with a scripted, in-process bot: measures kanal's own work, never a bot's.

gunicorn 'benchmarks.sms_webhook.scripted:create_app()'
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from benchmarks.sms_webhook.factory import make_app
from router.service.ports import BotTurn

# The first keyword found in the text decides the intent (like tests/fakes.py, never imported).
SCRIPT = (
    ("pension", "payment_date"),
    ("payment", "payment_date"),
    ("address", "change_address"),
    ("hello", "greet"),
    ("bye", "goodbye"),
)


class ScriptedBot:
    """A bot port that answers at once from a keyword script, without HTTP."""

    def turn(
        self,
        conversation_id: str,
        text: str,
        *,
        language: str | None = None,
        wait: float | None = None,
    ) -> BotTurn:
        lowered = text.lower()
        for keyword, intent in SCRIPT:
            if keyword in lowered:
                return BotTurn(True, (f"[{intent}] See https://example.org/{intent}",), intent, 0.9)
        return BotTurn(True, ("Sorry, I did not understand.",), "nlu_fallback", 0.2)

    def status(self) -> dict[str, object]:
        return {"state": "up"}


def create_app() -> Flask:
    return make_app(ScriptedBot())


def run_worker() -> None:
    """`python -m benchmarks.sms_webhook.scripted`: the turn worker with the scripted bot."""
    from router.entrypoints.bootstrap import kanal_of
    from router.entrypoints.priority import give_way

    give_way()  # as `kanal worker`: acknowledgements first
    worker = kanal_of(create_app()).worker
    ready = os.environ.get("KANAL_BENCH_WORKER_READY")  # the harness waits for it (servers.py)
    if ready:
        Path(ready).touch()
    worker.run_forever()


if __name__ == "__main__":
    run_worker()
