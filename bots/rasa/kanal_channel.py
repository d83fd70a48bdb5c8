"""Rasa input channel for kanal: one request answers with the bot's messages and its parse data.

Registered in credentials.yml as `kanal_channel.KanalInput`, served at
POST /webhooks/kanal/webhook with {"sender", "message", "metadata"?} and answering
{"messages": [{"text"?, "buttons"?, "custom"?, "image"?}], "intent": {"name", "confidence"},
"intent_ranking": [...], "entities": [...]}.

Rasa's REST channel does not say what the bot understood, and asking /model/parse as well
would run the NLU twice per turn; here the message is parsed once and that parse is handed to
the dialogue, so the intent kanal records is exactly the one the bot acted on.

The citizen's language (metadata {"language": "en"|"da"}, which kanal knows from the register
or the message) reaches the dialogue as entity `language`: it fills the slot `language` that
picks the reply's variation in domain.yml, and stays for the conversation. It is not part of
what the channel answers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa_patches import validate_action_results_once
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

validate_action_results_once()  # Rasa imports this module once, when the server starts

MESSAGE_KEYS = ("text", "buttons", "custom", "image", "attachment")
LANGUAGES = ("en", "da")
LANGUAGE_ENTITY = "language"
MAX_TEXT = 2000


def language_in(metadata: dict[str, Any] | None) -> str | None:
    """Return the language kanal passed ("en" or "da"), or None when none or another."""
    language = (metadata or {}).get("language")
    if isinstance(language, str) and language.strip().lower()[:2] in LANGUAGES:
        return language.strip().lower()[:2]
    return None


class KanalInput(InputChannel):
    """Answer one citizen message with the bot's messages, intent and confidence."""

    @classmethod
    def name(cls) -> str:
        return "kanal"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("kanal_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else {}
            sender, text = body.get("sender"), body.get("message")
            metadata: dict[str, Any] | None = body.get("metadata")
            if not isinstance(metadata, dict):
                metadata = None
            if not isinstance(sender, str) or not sender or not isinstance(text, str):
                return response.json(
                    {"error": "expected {'sender': str, 'message': str}"}, status=400
                )
            if len(text) > MAX_TEXT:
                return response.json({"error": "message too long"}, status=400)
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"error": "no model loaded"}, status=503)

            collector = CollectingOutputChannel()
            try:
                parse_data = await agent.processor.parse_message(
                    UserMessage(text, sender_id=sender, input_channel=self.name())
                )
                language = language_in(metadata)
                if language:
                    parse_data["entities"] = [
                        *(parse_data.get("entities") or []),
                        {"entity": LANGUAGE_ENTITY, "value": language, "extractor": "kanal"},
                    ]
                await on_new_message(
                    UserMessage(
                        text,
                        collector,
                        sender,
                        input_channel=self.name(),
                        metadata=metadata,
                        parse_data=parse_data,
                    )
                )
            except Exception as exc:  # noqa: BLE001 - unlike Rasa's REST channel, say it failed
                logger.exception("kanal channel: turn failed")
                return response.json({"error": type(exc).__name__}, status=500)

            return response.json(
                {
                    "messages": [
                        {k: m[k] for k in MESSAGE_KEYS if m.get(k) is not None}
                        for m in collector.messages
                    ],
                    "intent": parse_data.get("intent") or {},
                    "intent_ranking": parse_data.get("intent_ranking") or [],
                    "entities": [
                        {"entity": e.get("entity"), "value": e.get("value")}
                        for e in parse_data.get("entities") or []
                        if e.get("entity") != LANGUAGE_ENTITY
                    ],
                }
            )

        return hook
