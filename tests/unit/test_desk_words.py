"""The desk's words: needs, confidences, rules and times as an agent reads them; safe links."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from router.entrypoints.desk.links import link_parts
from router.entrypoints.desk.words import DeskWords
from router.service.translations import translator

pytestmark = pytest.mark.unit

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def words(language: str) -> DeskWords:
    return DeskWords(translator(language), COPENHAGEN)


def test_a_need_and_a_confidence_read_as_words_not_codes():
    assert words("en").need("payment_date:pension") == "Payment date — pension"
    assert words("da").need("payment_date:pension") == "Udbetalingsdato — pension"
    assert words("en").value("confidence", 0.9949762522053909) == "99%"
    assert words("da").value("confidence", 0.9949762522053909) == "99 %"
    assert words("da").value("asked_for_person", True) == "ja"
    assert words("en").need(None) == "not known yet"
    assert words("en").need("tax_card") == "Tax card"  # a need kanal has no words for yet


def test_a_rule_id_reads_as_words():
    assert words("en").rule("person-requested-out-of-hours") == "Person requested out of hours"


def test_times_are_in_the_agencys_zone_and_24_hour_in_every_language():
    at = datetime(2026, 12, 4, 13, 43, 12, tzinfo=UTC)  # 14:43 in Copenhagen (CET)
    assert words("da").clock(at) == "14:43"
    assert words("en").clock(at) == "14:43"
    assert words("da").when(at) == "4. dec. 2026 14:43"
    assert words("en").when(at) == "Dec 4, 2026 14:43"


def test_links_are_split_out_of_a_message_and_nothing_else_is():
    text = "See https://example.org/pay?x=1&y=2. Or <b>http://a.dk/(x)</b> javascript:alert(1)"
    parts = list(link_parts(text))
    assert [p for p, link in parts if link] == [
        "https://example.org/pay?x=1&y=2",
        "http://a.dk/(x)",
    ]
    assert "".join(p for p, _link in parts) == text  # nothing lost or added
    assert not any(link and not p.startswith("http") for p, link in parts)
