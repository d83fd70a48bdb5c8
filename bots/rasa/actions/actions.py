"""Answer a recognised need with its digital self-service route, in the citizen's language."""

from __future__ import annotations

import logging
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .routes import DEFAULT_LANGUAGE, LANGUAGES, benefit_title, benefits_offered, reply_for

logger = logging.getLogger(__name__)

BENEFITS = {"pension", "unemployment", "child", "housing", "disability", "maternity", "sickness"}
# Needs whose route depends on the benefit named (see digital_routes.yml `benefits:`).
BENEFIT_NEEDS = {"apply_benefit", "payment_date", "missing_payment", "application_status"}


def _benefit(tracker: Tracker) -> str | None:
    """Return the benefit named in this very message, if any (an old slot value may be stale)."""
    for value in tracker.get_latest_entity_values("benefit"):
        if value in BENEFITS:
            return value
    return None


def language_of(tracker: Tracker) -> str:
    """Return the citizen's language: this message's metadata, else the conversation's slot."""
    metadata = tracker.latest_message.get("metadata") or {}
    for language in (metadata.get("language"), tracker.get_slot("language")):
        if isinstance(language, str) and language.lower()[:2] in LANGUAGES:
            return language.lower()[:2]
    return DEFAULT_LANGUAGE


class ActionDigitalRoute(Action):
    """Point the citizen to the digital route for the need they asked about."""

    def name(self) -> str:
        return "action_digital_route"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        need = (tracker.latest_message.get("intent") or {}).get("name") or ""
        benefit = _benefit(tracker) if need in BENEFIT_NEEDS else None
        language = language_of(tracker)
        try:
            text = reply_for(need, benefit, language)
            buttons = None
            if need == "apply_benefit" and benefit is None:
                buttons = [
                    {
                        "title": benefit_title(b, language),
                        "payload": f'/apply_benefit{{"benefit": "{b}"}}',
                    }
                    for b in benefits_offered()
                ]
        except (OSError, ValueError, AttributeError, TypeError, yaml.YAMLError) as exc:
            # A broken routes file must not look like an answer: send nothing, kanal escalates.
            logger.error("digital routes file unusable: %s", exc)
            return []
        if text is None:
            logger.warning("no digital route configured for need %r", need)
            return []
        dispatcher.utter_message(text=text, buttons=buttons)
        return [SlotSet("benefit", benefit)]
