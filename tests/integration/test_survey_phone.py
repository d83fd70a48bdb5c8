"""The phone's keypad rating at the end of a call, end to end through the voice webhooks
(signed as Twilio signs them), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from ivr import prompts as p
from ivr.phone import Line, Phone, http_send
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
