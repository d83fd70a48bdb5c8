"""kanal's own words in every language it ships: complete, consistent, up to date."""

from __future__ import annotations

import io
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from router.service import wording
from router.service.channels import Channel
from router.service.translations import CATALOGUES, available, placeholders, translator

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("da", "en")


def catalogue(language: str):
    with (CATALOGUES / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


def template():
    with (CATALOGUES / "messages.pot").open("rb") as pot:
        return read_po(pot)


def ids(messages) -> set:
    return {m.id for m in messages if m.id}


@cache
def extracted() -> frozenset:
    """Return the message ids `pybabel extract -F babel.cfg .` finds in the code today.

    Extraction walks the whole tree; it is pure, so one test session does it once.
    """
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = extract_from_dir(str(ROOT), method_map, options_map)
    return frozenset(message for _file, _line, message, _comments, _context in found)


def test_kanal_ships_english_and_danish():
    assert set(SHIPPED) <= set(available())


@pytest.mark.parametrize("language", SHIPPED)
def test_every_message_has_a_translation_with_the_same_placeholders(language):
    expected = ids(template())
    po = catalogue(language)
    assert ids(po) == expected, "run `make translations` and translate what is new"
    for message in po:
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strings), f"{language}: no translation of {sources[0]!r}"
        assert not message.fuzzy, f"{language}: {sources[0]!r} is marked fuzzy"
        for text in strings:
            assert placeholders(text) == placeholders(sources[-1]), (
                f"{language}: {text!r} fills in other names than {sources[-1]!r}"
            )


def test_the_catalogues_know_every_text_the_code_marks():
    new = extracted() - ids(template())
    gone = ids(template()) - extracted()
    assert not new, f"untranslated message ids (run `make translations`): {sorted(new)}"
    assert not gone, f"message ids no longer used (run `make translations`): {sorted(gone)}"


def test_a_catalogue_read_at_run_time_translates_and_fills_in():
    _ = translator("da")
    sms = Channel("sms")
    assert _.language == "da"
    assert wording.too_long(sms, _).startswith("Din besked var længere")
    assert "(2000 tegn)" in wording.too_long(sms, _)
    assert wording.wait_phrase(300, _) == "Den forventede ventetid er cirka 5 minutter."
    assert wording.wait_phrase(90, _) == "Den forventede ventetid er cirka 2 minutter."
    assert "skrevet" in wording.handoff(sms, 30, _)


def test_an_unknown_language_or_a_regional_tag_falls_back_sensibly():
    assert translator("da-DK").language == "da"
    assert translator("DA").language == "da"
    assert translator("xx").language == "en"
    assert translator(None).language == "en"
    assert translator("xx")(wording.CLOSE) == "Thank you for contacting us. Goodbye."


def test_the_extractor_finds_each_profile_reason_once_with_its_rule():
    from router.policy.catalogue import extract_reasons

    profile = (ROOT / "router/policy/profiles/denmark.toml").read_bytes()
    found = list(extract_reasons(io.BytesIO(profile), None, None, None))
    reasons = [message for _line, _f, message, _c in found]
    assert "You asked for a person: a person will take over." in reasons
    assert len(reasons) == len(set(reasons))
    assert all(line > 0 for line, *_ in found)


JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
WORDS = re.compile(r"[A-Za-zÆØÅæøå]{2,}")
NOT_WORDS = {"kanal"}  # the product's name, the same in every language


class _ShownText(HTMLParser):
    """A template's literal text a reader sees or hears: text outside scripts and styles, the
    attributes a screen reader says, the words on input buttons."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):  # noqa: ANN001, ANN201
        self._hidden += tag in ("script", "style")
        shown = ("aria-label", "title", "placeholder", "alt")
        button = tag == "input" and dict(attrs).get("type") in ("submit", "button")
        self.found += [v for k, v in attrs if v and (k in shown or (button and k == "value"))]

    def handle_endtag(self, tag):  # noqa: ANN001, ANN201
        self._hidden -= tag in ("script", "style")

    def handle_data(self, data):  # noqa: ANN001, ANN201
        if not self._hidden:
            self.found.append(data)


def _templates() -> list[Path]:
    """The page templates `babel.cfg` has extracted (its jinja2 sections)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, _options = parse_mapping_cfg(cfg)
    globs = [pattern for pattern, method in method_map if method.startswith("jinja2")]
    # babel's `dir/**.html` is any .html under dir, pathlib's `dir/**/*.html`
    globs = [pattern.replace("**.", "**/*.") for pattern in globs]
    return sorted({path for pattern in globs for path in ROOT.glob(pattern)})


def test_the_pages_templates_mark_every_text_they_show():
    """Literal words in a template are shown in English whatever the page's language: every
    text must go through `_()` (the expressions and tags are left out before reading)."""
    templates = _templates()
    assert len(templates) > 10
    unmarked = {}
    for path in templates:
        reader = _ShownText()
        reader.feed(JINJA.sub("", path.read_text(encoding="utf-8")))
        words = [t.strip() for t in reader.found if set(WORDS.findall(t)) - NOT_WORDS]
        if words:
            unmarked[path.relative_to(ROOT).as_posix()] = words
    assert unmarked == {}, "mark these texts with _() and run `make translations`"


# Words Danish shares with English, so their Danish "translation" is the same text.
SAME_IN_DANISH = {
    "15-64", "65-79", "Chat", "JSON (API)", "Link", "Pseudonym", "SMS", "Send", "Service",
    "Status", "System", "Under {profile}", "offline", "pension", "under 15", "{minutes} min",
    "{seconds} s",
}  # fmt: skip


def test_no_danish_translation_is_the_english_copied():
    """A message "translated" by copying its English (to quiet the test above) still shows
    English on Danish pages; only words both languages share may be the same."""
    copied = {
        m.id for m in catalogue("da") if m.id and not isinstance(m.id, tuple) and m.string == m.id
    }
    assert copied - SAME_IN_DANISH == set(), "translate these into Danish"
