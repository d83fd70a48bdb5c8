"""The phone end to end: kanal served on a local port in sandbox mode, called by the same
driver as `kanal phone`, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import requests

from ivr import prompts as p
from ivr.phone import CallFailed, Line, Phone
from ivr.phone_transport import http_send
from router.domain.calls import Call
from tests.integration.sms_support import TOKEN, live, new_number, wait_for  # noqa: F401

pytestmark = pytest.mark.integration


# Settings some tests run with (by test name).
CONFIG = {
    "test_a_caller_on_a_voluntary_profile_asking_for_a_person_gets_one": {"KANAL_POLICY": "canada"},
    "test_out_of_hours_a_person_becomes_a_callback_booked_for_opening_time": {
        "KANAL_ALWAYS_OPEN": False,
        "KANAL_BUSINESS_HOURS": "00:00-00:00",
    },
}


@pytest.fixture
def app_config(app_config, request):
    """The profile and opening hours a test runs with."""
    return {**app_config, **CONFIG.get(request.node.originalname, {})}


def phone(live, number: str, token: str = TOKEN) -> Phone:  # noqa: F811
    line = Line(public_url=live.base_url, auth_token=token, account_sid=live.phone.account_sid,
                agency_number=live.phone.agency_number)  # fmt: skip
    return Phone(line, number, http_send(live.base_url, live.base_url))


def calls(live) -> list[Call]:  # noqa: F811
    with live.kanal.uow() as uow:
        return uow.session.query(Call).order_by(Call.id).all()


def events(live, contact_id: int) -> list:  # noqa: F811
    with live.kanal.uow() as uow:
        return uow.events.for_contact(contact_id)


def test_a_danish_caller_with_a_self_servable_need_gets_the_link_by_sms(live, add_citizen):  # noqa: F811
    number = new_number()
    add_citizen(phone=number, language="da")
    call = phone(live, number).dial()
    assert call.said[0] == p.text("da", "welcome_known", agency="kanal")
    assert call.voices[0] == ("da-DK", "Polly.Naja") and call.gather["language"] == "da-DK"
    call.say("hvornår bliver min pension udbetalt", confidence=0.87)
    assert call.said[-1] == p.text("da", "offer") and "https://" not in " ".join(call.said)
    call.say("ja")
    assert call.said[-1] == p.text("da", "link_sent") and call.ended
    sms = wait_for(lambda: live.outbox(number), what="the link in the sandbox outbox")
    assert (
        sms[0]["body"] == "Her er linket, du bad om i telefonen: https://example.org/payment_date"
    )
    [row] = calls(live)
    assert row.status == "completed" and row.direction == "inbound"
    kinds = [e.type for e in events(live, row.contact_id)]
    assert "deflection_offered" in kinds and "deflection_accepted" in kinds

    def delivered():  # the link is the voice contact's message, delivered through SMS
        with live.kanal.uow() as uow:
            texts = [m for m in uow.messages.for_contact(row.contact_id) if m.channel == "sms"]
        return texts and texts[0].delivery_status == "delivered"

    wait_for(delivered, what="the sandbox's delivery callback for the link")
    heard = [e.data for e in events(live, row.contact_id) if e.type == "message_received"]
    assert heard[0] == {"message_id": heard[0]["message_id"], "input": "speech",
                        "confidence": 0.87, }  # fmt: skip


def test_a_caller_who_sent_stop_is_told_and_put_through_to_a_person(live, add_citizen):  # noqa: F811
    number = new_number()
    add_citizen(phone=number, language="en")
    assert live.text(number, "STOP").status_code == 200
    call = phone(live, number).dial()
    call.say("when is my payment")
    call.press("1")
    assert p.text("en", "link_blocked") in call.said and call.queue is not None
    assert live.outbox(number) == []


def test_an_exempt_caller_reaches_a_person_with_priority_and_is_never_offered_the_link(
    live,  # noqa: F811
    add_citizen,
):
    number = new_number()
    add_citizen(phone=number, exempt_ground="impairment", language="da")
    call = phone(live, number).dial()
    call.say("hvornår bliver min pension udbetalt")
    assert call.queue["name"] == f"contact-{calls(live)[0].contact_id}"
    assert p.text("da", "offer") not in call.said
    assert call.said[-1] == p.text("da", "queue_next")
    contact_id = calls(live)[0].contact_id
    with live.kanal.uow() as uow:
        assert uow.queue.open_for_contact(contact_id).priority == 2


def test_a_caller_on_a_voluntary_profile_asking_for_a_person_gets_one(live):  # noqa: F811
    call = phone(live, new_number()).dial()
    assert call.gather["action"].startswith(live.base_url + "/twilio/voice/language")
    call.press("2")
    call.say("I want to talk to a person")
    assert call.queue is not None and p.text("en", "to_person") in call.said


def test_a_caller_waiting_too_long_books_a_callback_and_keeps_the_place(live):  # noqa: F811
    call = phone(live, new_number()).dial()
    call.press("2")
    call.press("0")
    call.wait(60)
    assert call.gather is None
    call.wait(90)
    assert call.said[-1] == p.text("en", "callback_offer")
    call.press("1")
    assert call.said[-1] == p.text("en", "callback_booked", when=p.text("en", "when_soon"))
    assert call.ended
    [row] = calls(live)
    assert row.queue_result == "callback" and row.status == "completed"
    booked = [e for e in events(live, row.contact_id) if e.type == "callback_booked"]
    assert booked[0].data["reason"] == "waited_too_long" and booked[0].data["not_before"] is None
    with live.kanal.uow() as uow:  # the callbacks service has it, to place when one is free
        [callback] = uow.callbacks.for_contact(row.contact_id)
        assert callback.state == "booked"
    with live.kanal.uow() as uow:  # the place in kanal's queue is kept for the callback
        assert uow.queue.open_for_contact(row.contact_id).state == "waiting"


def test_a_caller_who_hangs_up_while_waiting_abandoned_the_queue(live):  # noqa: F811
    call = phone(live, new_number()).dial()
    call.press("1")  # Danish
    call.say("medarbejder")
    call.hang_up()
    [row] = calls(live)
    assert (row.status, row.queue_result) == ("abandoned", "hangup")
    with live.kanal.uow() as uow:
        contact = uow.contacts.get(row.contact_id)
        assert contact.state == "closed"


def test_silence_twice_reaches_a_person(live):  # noqa: F811
    call = phone(live, new_number()).dial().press("2")
    call.silence()
    assert call.said[-1] == p.text("en", "silence")
    call.silence()
    assert call.queue is not None


def test_out_of_hours_a_person_becomes_a_callback_booked_for_opening_time(live):  # noqa: F811
    call = phone(live, new_number()).dial().press("2")
    call.say("when is my payment")  # self-service still works when closed
    assert call.said[-1] == p.text("en", "offer")
    call.press("0")
    assert call.ended and "We are closed now." in call.said[-1]
    [row] = calls(live)
    booked = [e for e in events(live, row.contact_id) if e.type == "callback_booked"]
    assert booked[-1].data["reason"] == "out_of_hours" and booked[-1].data["not_before"]


def test_a_forged_call_is_refused_and_a_malformed_one_says_what_is_wrong(live):  # noqa: F811
    with pytest.raises(CallFailed, match="HTTP 403"):
        phone(live, new_number(), token="not-the-token").dial()
    assert calls(live) == []
    unsigned = requests.post(live.base_url + "/twilio/voice", data={"CallSid": "CA1"}, timeout=5)
    assert unsigned.status_code == 403
    call = phone(live, new_number())
    with pytest.raises(CallFailed, match="HTTP 400.*CallSid and From are required"):
        call.request("/twilio/voice", From="")
    with pytest.raises(CallFailed, match="HTTP 400.*call state is malformed"):
        call.request("/twilio/voice/heard?c=1&n=x")


def test_the_agent_leg_dials_the_callers_own_queue(live):  # noqa: F811
    call = phone(live, new_number()).dial().press("1")
    call.press("0")
    contact_id = calls(live)[0].contact_id
    leg = call.request(f"/twilio/voice/agent/{contact_id}")
    assert f">contact-{contact_id}</Queue>" in leg and "connecting?l=da" in leg


def test_kanal_phone_plays_a_call_in_the_terminal(live, monkeypatch):  # noqa: F811
    from click.testing import CliRunner

    from router.entrypoints.cli import main

    for name, value in (("KANAL_PUBLIC_URL", live.base_url), ("TWILIO_AUTH_TOKEN", TOKEN),
                        ("TWILIO_ACCOUNT_SID", live.phone.account_sid),
                        ("TWILIO_FROM_NUMBER", live.phone.agency_number)):  # fmt: skip
        monkeypatch.setenv(name, value)
    number = new_number()
    typed = "2\nwhen is my payment\nyes\n"
    result = CliRunner().invoke(main, ["phone", "--from", number], input=typed)
    assert result.exit_code == 0, result.output
    assert "kanal: For English, press 2." in result.output
    assert f"kanal: {p.text('en', 'link_sent')}" in result.output
    assert result.output.rstrip().endswith("(call ended)")
    assert wait_for(lambda: live.outbox(number), what="the link texted")


def test_a_caller_bridged_to_an_agent_is_not_counted_as_abandoned(live):  # noqa: F811
    call = phone(live, new_number()).dial().press("2").press("0")
    call.bridged_to = "client:agent-1"  # what the sandbox reports once an agent's leg dials in
    call.hang_up()
    [row] = calls(live)
    assert (row.status, row.queue_result) == ("completed", "bridged")


def test_mumbling_twice_reaches_a_person_with_the_confidence_recorded(live):  # noqa: F811
    call = phone(live, new_number()).dial().press("2")
    call.say("pen shun", confidence=0.12)
    assert call.said[-1] == p.text("en", "ask_again")
    call.say("pen shun", confidence=0.2)
    assert call.queue is not None
    [row] = calls(live)
    heard = [e.data for e in events(live, row.contact_id) if e.type == "message_received"]
    assert heard[-1]["input"] == "low_confidence" and heard[-1]["confidence"] == 0.2
    with live.kanal.uow() as uow:
        [decision] = uow.decisions.for_contact(row.contact_id)
        assert decision.rule_id == "bot-failed-twice"


def test_a_call_whose_conversation_was_closed_meanwhile_is_told_to_call_again(live):  # noqa: F811
    call = phone(live, new_number()).dial().press("2")
    [row] = calls(live)
    with live.kanal.uow() as uow:  # e.g. staff closed it while the caller was on the line
        from router.service import contacts

        contacts.close(uow, uow.contacts.get(row.contact_id), live.kanal.clock(), "resolved",
                       None, wrap_up="other", completed=True)  # fmt: skip
        uow.commit()
    call.say("when is my payment")
    assert call.said[-1] == p.text("en", "call_again") and call.ended


def test_a_caller_who_calls_again_before_the_callback_keeps_or_cancels_it(live, add_citizen):  # noqa: F811
    number = new_number()
    add_citizen(phone=number, language="en")
    first = phone(live, number).dial()
    first.press("0")
    first.wait(150)
    first.press("1")
    assert first.said[-1] == p.text("en", "callback_booked", when=p.text("en", "when_soon"))
    pending = p.text("en", "callback_pending", when=p.text("en", "when_soon"))
    again = phone(live, number).dial()
    assert again.said == [p.text("en", "welcome_known", agency="kanal"), pending]
    again.press("1")  # keep it
    assert again.said[-1] == p.text("en", "callback_kept") and again.ended
    with live.kanal.uow() as uow:
        booked = uow.callbacks.in_states(("booked", "calling"))
    assert len(booked) == 1, "calling again books nothing"
    third = phone(live, number).dial()
    assert third.said[-1] == pending
    third.press("2")  # cancel it, then ask something else
    assert third.said[-2:] == [p.text("en", "callback_cancelled"),
                               p.text("en", "ask", menu=p.menu("en"))]  # fmt: skip
    with live.kanal.uow() as uow:
        callback = uow.callbacks.get(booked[0].id)
        waiting = uow.contacts.get(callback.contact_id)
    assert (callback.state, callback.note) == ("closed", "cancelled by the citizen")
    assert waiting.state == "closed"
    assert phone(live, number).dial().said == [
        p.text("en", "welcome_known", agency="kanal"), p.text("en", "ask", menu=p.menu("en"))
    ]  # fmt: skip


@pytest.mark.parametrize(
    "path, field, value",
    [
        ("/twilio/voice", "CallSid", "CA\x00" + "1" * 31),
        ("/twilio/voice", "CallSid", "CA" + "1" * 70),
        ("/twilio/voice/connecting", "CallSid", "CA\x00"),
        ("/twilio/voice/status", "CallSid", "CA\x00"),
        ("/twilio/voice/queued", "QueueResult", "hangup\x00"),
    ],
)
def test_a_signed_call_whose_sid_or_result_no_column_keeps_is_refused_saying_so(
    live,  # noqa: F811
    path,
    field,
    value,
):
    """A NUL or more than 64 characters is no CallSid nor QueueResult of Twilio's (a server
    error on PostgreSQL before): 400 naming the field, no call kept."""
    from channels.twilio_signature import sign

    form = {"CallSid": "CA" + "2" * 32, "From": new_number(), "To": "+4570000000",
            "CallStatus": "completed", "QueueResult": "hangup", field: value}  # fmt: skip
    headers = {"X-Twilio-Signature": sign(live.base_url + path, form, TOKEN)}
    answer = requests.post(live.base_url + path, data=form, headers=headers, timeout=10)
    assert answer.status_code == 400, answer.text
    assert field in answer.text and "64 characters" in answer.text
    assert calls(live) == []
