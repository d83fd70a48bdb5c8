"""kanal's own words in every language it ships: complete, consistent, up to date."""

from __future__ import annotations

import io
from functools import cache
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
