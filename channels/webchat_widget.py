"""The chat widget's side of web chat: its own words in the citizen's language (as pybabel
finds them in widget.js) and the demo page that embeds it; the languages the agency serves."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.messages.extract import extract
from flask import render_template, request

from channels.base import json_error
from router.service.services import ChannelServices
from router.service.translations import language_code, translator

WIDGET_JS = Path(__file__).parent / "static" / "widget.js"
# Each language's name in that language, for the widget's language switch.
LANGUAGE_NAMES = {"da": "Dansk", "en": "English", "sv": "Svenska", "de": "Deutsch",
                  "fr": "Français", "nb": "Norsk", "ar": "العربية"}  # fmt: skip


@lru_cache(maxsize=1)
def widget_messages() -> tuple[str, ...]:
    """Return the message ids of the widget's own words, as pybabel finds them in widget.js."""
    with WIDGET_JS.open("rb") as js:
        found = (m[1] for m in extract("javascript", js))
        return tuple(dict.fromkeys(m for m in found if isinstance(m, str)))


def served(services: ChannelServices) -> tuple[str, ...]:
    return tuple(services.config["KANAL_LANGUAGES"])


def page_language(services: ChannelServices) -> str:
    """The page's language: ?lang=, else the browser's Accept-Language, else the agency's first."""
    languages = served(services)
    asked = language_code(request.args.get("lang"))
    if asked in languages:
        return asked
    return request.accept_languages.best_match(languages) or languages[0]


def widget_texts(services: ChannelServices, language: str):
    """Answer the widget's own words in a language the agency serves."""
    if language_code(language) not in served(services):
        return json_error(404, f"This agency serves {', '.join(served(services))}.")
    _ = translator(language)
    response = {"language": _.language, "texts": _.all(widget_messages())}
    return response, 200, {"Cache-Control": "public, max-age=300"}


def demo_page(services: ChannelServices):
    """A demo page embedding the chat widget; in development it can sign in demo citizens."""
    demo = services.demo_identities() if services.demo_identities else []
    _ = translator(page_language(services))
    languages = [(code, LANGUAGE_NAMES.get(code, code)) for code in served(services)]
    return render_template(
        "chat.html",
        demo=demo,
        _=_,
        chosen=language_code(request.args.get("lang")) == _.language,
        lang=_.language,
        languages=languages,
        texts=_.all(widget_messages()),
        stream_url=services.config["KANAL_STREAM_URL"],
        timezone=services.config.get("KANAL_TIMEZONE", "Europe/Copenhagen"),
    )
