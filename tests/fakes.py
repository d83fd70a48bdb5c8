"""Stand-ins for peers, used only in tests of the code around them.

A stand-in implements the same port as the real peer; the real Rasa server is tested in
tests/integration/test_bot_rasa.py and the journeys that use it.
"""

from __future__ import annotations

from router.service.ports import BotTurn

# (keyword, intent) pairs: the first keyword found in the text decides the intent.
SCRIPT = (
    ("person", "request_person"),
    ("human", "request_person"),
    ("pension", "payment_date"),
    ("payment", "payment_date"),
    ("address", "change_address"),
    ("hello", "greet"),
    ("bye", "goodbye"),
)


class ScriptedBot:
    """A bot port that answers from a keyword script and can be switched off."""

    def __init__(self) -> None:
        self.down = False
        self.turns: list[tuple[str, str]] = []

    def turn(self, conversation_id: str, text: str, *, language: str | None = None) -> BotTurn:
        self.turns.append((conversation_id, text))
        if self.down:
            return BotTurn(ok=False, error="connection refused")
        lowered = text.lower()
        for keyword, intent in SCRIPT:
            if keyword in lowered:
                if intent == "request_person":
                    return BotTurn(True, ("Let me find a person for you.",), intent, 0.97, True)
                return BotTurn(True, (f"[{intent}] See https://example.org/{intent}",), intent, 0.9)
        return BotTurn(True, ("Sorry, I did not understand.",), "nlu_fallback", 0.2)

    def status(self) -> dict[str, object]:
        return {"state": "down" if self.down else "up"}
