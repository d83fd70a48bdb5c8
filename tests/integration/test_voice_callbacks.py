"""The phone and the callbacks together, through the sandbox: a caller who waited too long
books a callback with keypad 1, the callback is placed when an agent is free, answered and
put through to that agent; a caller who took the digital route is followed up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from ivr import prompts as p
from tests.integration.sms_support import live, new_number, wait_for  # noqa: F401
from tests.integration.test_callbacks import agent_taking_calls
from tests.integration.test_voice import calls, phone

pytestmark = pytest.mark.integration


def finished_calls(live, number: str) -> list[dict]:  # noqa: F811
    """Wait until the sandbox shows a finished call to the number; return the finished ones."""
    return wait_for(
        lambda: [
            c
            for c in requests.get(
                live.base_url + "/sandbox/outbox.json", params={"kind": "calls", "to": number},
                timeout=5,
            ).json()
            if c["status"] == "completed"
        ],
        what="the callback answered and finished",
    )  # fmt: skip


def test_a_caller_who_waited_too_long_is_called_back_and_reaches_the_agent(live):  # noqa: F811
    kanal = live.kanal
    number = new_number()
    call = phone(live, number).dial()
    call.press("2")  # English
    call.press("0")  # a person
    call.wait(150)
    assert call.said[-1] == p.text("en", "callback_offer")
    call.press("1")
    assert call.ended
    [row] = calls(live)
    with kanal.uow() as uow:
        [callback] = uow.callbacks.for_contact(row.contact_id)
    assert (callback.reason, callback.state) == ("waited_too_long", "booked")
    assert kanal.dialling.run(callback.id) == "waiting", "no agent takes calls yet"
    agent = agent_taking_calls(kanal)
    assert kanal.dialling.run(callback.id) == "placed"
    placed = finished_calls(live, number)
    assert placed[0]["connected_to"] == f"client:agent-{agent}"
    assert placed[0]["said"] == p.text("en", "calling_back", agency="kanal")
    with kanal.uow() as uow:
        contact = uow.contacts.get(row.contact_id)
        assert (contact.state, contact.agent_id) == ("assigned", agent)
        assert uow.callbacks.get(callback.id).state == "answered"


def test_a_caller_who_chose_danish_is_called_back_in_danish(live):  # noqa: F811
    kanal = live.kanal
    number = new_number()  # not in the register: the language is the caller's choice
    call = phone(live, number).dial()
    call.press("1")  # dansk
    call.press("0")
    call.wait(150)
    call.press("1")  # ring mig op
    assert call.ended and call.said[-1].startswith("Tak. Vi ringer dig op")
    [row] = calls(live)
    with kanal.uow() as uow:
        [callback] = uow.callbacks.for_contact(row.contact_id)
    agent_taking_calls(kanal, "caller-da")
    assert kanal.dialling.run(callback.id) == "placed"
    placed = finished_calls(live, number)
    assert placed[0]["said"] == p.text("da", "calling_back", agency="kanal")
    assert placed[0]["said"].startswith("Hej, det er kanal, der ringer dig op")


def test_a_caller_who_took_the_link_is_followed_up_by_sms(live, add_citizen):  # noqa: F811
    kanal = live.kanal
    number = new_number()
    add_citizen(phone=number, language="en")
    call = phone(live, number).dial()
    call.say("when is my pension paid")
    assert call.said[-1] == p.text("en", "offer")
    call.say("yes")
    assert call.ended
    [row] = calls(live)
    with kanal.uow() as uow:
        [followup] = uow.followups.scheduled_on_need("payment_date", contact_id=row.contact_id)
        followup.due_at = datetime.now(UTC)  # the window has passed
        uow.commit()
    assert kanal.followups.run(followup.id) == "offered"
    offer = wait_for(
        lambda: [m for m in live.outbox(number) if "reply CALL" in m["body"]], what="the offer"
    )
    assert len(offer) == 1
