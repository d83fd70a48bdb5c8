"""kanal's web app for the stream benchmark, with a bot that answers at once (no Rasa).

gunicorn 'benchmarks.streams.web:create_app()'
"""

from __future__ import annotations

from flask import Flask

from router.service.ports import BotTurn


class HandingBot:
    """Hands a citizen who asks for a person over; answers anything else at once."""

    def turn(
        self,
        conversation_id: str,
        text: str,
        *,
        language: str | None = None,
        wait: float | None = None,
    ) -> BotTurn:
        if "person" in text.lower():
            return BotTurn(True, ("Let me find a person for you.",), "request_person", 0.97, True)
        return BotTurn(True, ("See https://example.org/help",), "payment_date", 0.9)

    def status(self) -> dict[str, object]:
        return {"state": "up"}


def create_app() -> Flask:
    import router
    from router.config import from_env

    return router.create_app(from_env(), bot=HandingBot())
