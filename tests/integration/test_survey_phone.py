"""The phone's keypad rating at the end of a call, end to end through the voice webhooks
(signed as Twilio signs them), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from ivr import prompts as p
from ivr.phone import Line, Phone
from ivr.phone_transport import http_send
from router.domain import events as ev
from router.domain.calls import Call
from tests.integration.sms_support import TOKEN, live, new_number  # noqa: F401

pytestmark = pytest.mark.integration


@pytest.fixture
def app_config(app_config):
    """The phone is one of the channels that ask, and every call is surveyed."""
    return {**app_config, "KANAL_SURVEY_CHANNELS": ("webchat", "sms", "voice")}


def phone(live, number: str) -> Phone:  # noqa: F811
    line = Line(public_url=live.base_url, auth_token=TOKEN, account_sid=live.phone.account_sid,
                agency_number=live.phone.agency_number)  # fmt: skip
    return Phone(line, number, http_send(live.base_url, live.base_url))


def test_a_caller_answered_by_self_service_rates_the_call_on_the_keypad(live, add_citizen):  # noqa: F811
    number = new_number()
    add_citizen(phone=number, language="en")
    call = phone(live, number).dial()
    call.say("hello")
    assert call.said[-1] == p.text("en", "anything_else")
    call.say("no")
    assert call.said[-1] == p.text("en", "rating")
    call.press("4")
    assert call.said[-1] == p.text("en", "rating_thanks") and call.ended
    with live.kanal.uow() as uow:
        [row] = uow.session.query(Call).all()
        answered = [e for e in uow.events.for_contact(row.contact_id) if e.type == ev.SATISFACTION]
    [event] = answered
    assert event.data["score"] == 4 and event.data["channel"] == "voice"
    assert event.data["language"] == "en"


def test_keypad_ratings_in_both_languages_feed_satisfaction_by_channel_need_and_group(
    live,  # noqa: F811
    add_citizen,
):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from analytics import metrics
    from analytics.reader import reader_engine
    from analytics.report import Query, channel_shift_report

    for language, words, key in (("da", ("hello", "nej"), "5"), ("en", ("hello", "no"), "2")):
        number = new_number()
        add_citizen(phone=number, language=language)
        call = phone(live, number).dial()
        for said in words:
            call.say(said)
        assert call.said[-1] == p.text(language, "rating"), call.said
        call.press(key)
        assert call.said[-1] == p.text(language, "rating_thanks") and call.ended

    zone = live.kanal.config["KANAL_TIMEZONE"]
    today = datetime.now(UTC).astimezone(ZoneInfo(zone)).date()
    engine = reader_engine(live.kanal.engine)

    def by(group_by: str) -> dict:
        query = Query(metrics.Window(today, today, zone), group_by)
        body = channel_shift_report(engine, query, rollup=False)
        return {r["group"]: r for r in body["rows"]}

    voice = by("channel")["voice"]
    assert voice["satisfaction_scores"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert (voice["satisfaction_answers"], voice["satisfied"], voice["user_satisfaction"]) == (
        2, 1, 0.5
    )  # fmt: skip
    languages = by("language")
    assert languages["da"]["satisfaction_scores"]["5"] == 1
    assert languages["en"]["satisfaction_scores"]["2"] == 1
    assert (
        languages["da"]["user_satisfaction"] == 1.0 and languages["en"]["user_satisfaction"] == 0.0
    )
    # Only calls answered by self-service are asked, and under the Danish profile a recognised
    # need is offered the digital route instead (not asked yet): the ratings' need is the
    # call's, here none recognised.
    need = by("need")
    rated = {g: r["satisfaction_answers"] for g, r in need.items() if r["satisfaction_answers"]}
    assert rated == {"unrecognised": 2}, need
    assert by("exempt")["not_exempt"]["satisfaction_answers"] == 2
