"""How SMS bodies are counted in segments and split, as Twilio bills and accepts them."""

import pytest

from router.domain.segments import (
    MAX_BODY,
    body_length,
    count_segments,
    is_gsm7,
    split_body,
)

pytestmark = pytest.mark.unit


def test_plain_danish_text_is_gsm7():
    assert is_gsm7("Hej Søren, din ansøgning er modtaget. Å ja!")


@pytest.mark.parametrize("letter", list("æøåÆØÅé"))
def test_each_danish_letter_is_one_septet_of_the_basic_set(letter):
    count = count_segments(letter * 160)
    assert (count.encoding, count.units, count.segments) == ("GSM-7", 160, 1)
    assert count_segments(letter * 161).segments == 2


def test_danish_typography_outside_gsm7_makes_a_message_ucs2():
    # Danish quotes and the en dash are not GSM-7: kanal's own texts avoid them.
    for text in ("„person“", "08:00–16:00"):
        assert count_segments(text).encoding == "UCS-2"


def test_a_single_emoji_makes_the_whole_message_ucs2():
    count = count_segments("a" * 60 + " 🙂")
    assert count.encoding == "UCS-2"
    assert count.units == 63  # the emoji is a surrogate pair: two code units


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 1530, 10),
    ],
)
def test_gsm7_counts_160_alone_and_153_per_part(text, segments):
    assert count_segments(text).segments == segments


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("ж" * 70, 1),
        ("ж" * 71, 2),
        ("ж" * 134, 2),
        ("ж" * 135, 3),
    ],
)
def test_ucs2_counts_70_alone_and_67_per_part(text, segments):
    count = count_segments(text)
    assert count.encoding == "UCS-2"
    assert count.segments == segments


def test_curly_quotes_are_not_gsm7_but_straight_ones_are():
    assert count_segments("It’s paid").encoding == "UCS-2"
    assert count_segments("It's paid").encoding == "GSM-7"


def test_extension_characters_cost_two_septets():
    # 80 euro signs are 160 septets: still one SMS; one more character makes two.
    assert count_segments("€" * 80) == count_segments("€" * 80)
    assert count_segments("€" * 80).segments == 1
    assert count_segments("€" * 80 + "a").segments == 2
    assert count_segments("[]{}^~|\\").units == 16


def test_an_escape_pair_is_never_split_across_parts():
    # 152 plain septets then a euro sign: it cannot use the last septet of part one.
    text = "a" * 152 + "€" + "a" * 152
    assert count_segments(text).units == 306
    assert count_segments(text).segments == 3


def test_a_surrogate_pair_is_never_split_across_parts():
    text = "ж" * 66 + "🙂" + "ж" * 66
    assert count_segments(text).units == 134
    assert count_segments(text).segments == 3


def test_short_reply_is_one_part():
    assert split_body("  Your payment is on the 1st.  ") == ["Your payment is on the 1st."]


def test_empty_reply_has_no_parts():
    assert split_body("   ") == []


def test_long_reply_splits_at_word_boundaries_within_the_limit():
    words = [f"word{i}" for i in range(600)]
    text = " ".join(words)
    parts = split_body(text)
    assert len(parts) > 1
    assert all(body_length(p) <= MAX_BODY for p in parts)
    assert " ".join(parts).split() == words  # nothing lost, no word cut in two


def test_split_prefers_paragraph_breaks():
    first = "First paragraph " + "x" * 900
    second = "Second paragraph " + "y" * 900
    assert split_body(first + "\n\n" + second) == [first, second]


def test_a_word_longer_than_the_limit_is_cut():
    assert split_body("a" * 25, limit=10) == ["a" * 10, "a" * 10, "a" * 5]


def test_limit_counts_emoji_as_two_characters():
    parts = split_body("🙂" * 10, limit=5)
    assert parts == ["🙂🙂", "🙂🙂", "🙂🙂", "🙂🙂", "🙂🙂"]


def test_limit_falling_on_a_space_keeps_whole_words():
    assert split_body("aa bb cc", limit=5) == ["aa bb", "cc"]
