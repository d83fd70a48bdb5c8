"""Canned replies (per need, filled in, in the citizen's language) and internal notes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from router.adapters.replies_file import DEFAULT, load_replies
from router.domain.model import IllegalTransition
from router.domain.notes import NOTE_ADDED, InternalNote
from router.domain.replies import CannedReply, fill, next_payment_date, replies_for
from router.entrypoints.desk.canned import canned_replies

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_the_next_payment_is_the_last_weekday_of_the_month_still_to_come():
    assert next_payment_date(date(2026, 12, 4)) == date(2026, 12, 31)  # a Thursday
    assert next_payment_date(date(2026, 10, 30)) == date(2026, 10, 30)  # the day itself
    assert next_payment_date(date(2026, 10, 31)) == date(2026, 11, 30)  # Oct 31 is a Saturday
    assert next_payment_date(date(2027, 1, 30)) == date(2027, 2, 26)  # Jan 29 passed; a Friday


def test_a_placeholder_kanal_cannot_fill_stays_for_the_agent():
    assert fill("Hej {first_name}, den {next_payment_date}.", {"first_name": "Karen"}) == (
        "Hej Karen, den {next_payment_date}."
    )


def test_a_reply_naming_an_unknown_placeholder_is_refused_with_the_names_kanal_fills():
    with pytest.raises(ValueError, match="cpr_number"):
        CannedReply("payment_date", {"en": "x"}, {"en": "Your number {cpr_number}"})


def test_replies_for_a_need_come_most_specific_first_and_any_need_last():
    replies = (
        CannedReply("*", {"en": "any"}, {"en": "a"}),
        CannedReply("payment_date", {"en": "base"}, {"en": "b"}),
        CannedReply("payment_date:pension", {"en": "pension"}, {"en": "c"}),
        CannedReply("complaint", {"en": "other"}, {"en": "d"}),
    )
    found = replies_for(replies, "payment_date:pension")
    assert [r.titles["en"] for r in found] == ["pension", "base", "any"]
    assert [r.titles["en"] for r in replies_for(replies, None)] == ["any"]


def test_the_shipped_file_fills_in_the_citizens_name_and_payment_date_in_danish():
    replies = load_replies(DEFAULT)
    found = canned_replies(
        replies, "payment_date:pension", language="da", name="Karen Jensen",
        today=date(2026, 12, 4), agency="Udbetaling Danmark",
    )  # fmt: skip
    first = found[0]
    assert first.language == "da" and first.unfilled == ()
    assert first.text.startswith("Hej Karen, din næste udbetaling sker den 31. december 2026.")
    english = canned_replies(replies, "payment_date", language="en", name=None,
                             today=date(2026, 12, 4), agency="kanal")  # fmt: skip
    assert english[0].text.startswith(
        "Hello {first_name}, your next payment is made on December 31"
    )
    assert english[0].unfilled == ("first_name",)


def test_a_broken_replies_file_names_the_reply_and_the_problem(tmp_path):
    path = tmp_path / "replies.toml"
    path.write_text('[[reply]]\nneed = "x"\ntext = "not a table"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="reply 1"):
        load_replies(path)


def test_a_note_is_words_for_colleagues_and_its_event_carries_no_words():
    note = InternalNote(contact_id=7, agent_id=3, text="  Called her GP \x00 ", at=NOW)
    note.id = 11
    note.written()
    (event,) = note.collect_events()
    assert note.text == "Called her GP"
    assert (event.type, event.data) == (NOTE_ADDED, {"note_id": 11, "agent_id": 3})
    with pytest.raises(IllegalTransition):
        InternalNote(contact_id=7, agent_id=3, text="   ", at=NOW)
    with pytest.raises(IllegalTransition):
        InternalNote(contact_id=7, agent_id=3, text="x" * 2001, at=NOW)
