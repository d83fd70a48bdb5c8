"""Answer a recognised need with its digital self-service route."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .routes import reply_for

logger = logging.getLogger(__name__)

BENEFITS = {"pension", "unemployment", "child", "housing", "disability", "maternity"}


def _benefit(tracker: Tracker) -> str | None:
    """Return the benefit named in this very message, if any (an old slot value may be stale)."""
    for value in tracker.get_latest_entity_values("benefit"):
        if value in BENEFITS:
            return value
    return None


class ActionDigitalRoute(Action):
    """Point the citizen to the digital route for the need they asked about."""

    def name(self) -> str:
        return "action_digital_route"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        need = (tracker.latest_message.get("intent") or {}).get("name") or ""
        benefit = _benefit(tracker) if need == "apply_benefit" else None
        try:
            text = reply_for(need, benefit)
        except (OSError, ValueError) as exc:
            # A broken routes file must not look like an answer: send nothing, kanal escalates.
            logger.error("digital routes file unusable: %s", exc)
            return []
        if text is None:
            logger.warning("no digital route configured for need %r", need)
            return []
        buttons = None
        if need == "apply_benefit" and benefit is None:
            buttons = [
                {"title": b.capitalize(), "payload": f'/apply_benefit{{"benefit": "{b}"}}'}
                for b in sorted(BENEFITS)
            ]
        dispatcher.utter_message(text=text, buttons=buttons)
        return [SlotSet("benefit", benefit)]
