"""The desk's call handling: taking calls, taking a queued caller and connecting the call,
the callbacks of a contact, and the failed callbacks staff act on."""

from __future__ import annotations

import pytest

from tests.fakes import RecordingCaller
from tests.integration.test_callbacks import waiting_call
from tests.integration.test_desk import page, sign_in

pytestmark = pytest.mark.integration


@pytest.fixture
def caller(kanal):
    kanal.dialling.dialler.caller = RecordingCaller()
    return kanal.dialling.dialler.caller


def user_id(kanal, username: str) -> int:
    with kanal.uow() as uow:
        return uow.users.by_username(username).id


def test_an_agent_says_they_take_calls_and_stops(app, staff, kanal):
    desk = sign_in(app, staff)
    agent = user_id(kanal, "agent1")
    assert "Take calls</button>" in page(desk.get("/desk/"))
    taken = desk.post("/desk/calls/taking", data={"taking": "yes"}, follow_redirects=True)
    assert "You take calls" in page(taken)
    assert kanal.desk.taking_calls(agent)
    desk.post("/desk/calls/taking", data={"taking": "no"})
    assert not kanal.desk.taking_calls(agent)


def test_an_agent_takes_a_queued_caller_and_connects_the_call(app, staff, kanal, caller):
    contact_id = waiting_call(kanal, "+4520002001")
    desk = sign_in(app, staff)
    agent = user_id(kanal, "agent1")
    queued = page(desk.get(f"/desk/contacts/{contact_id}"))
    assert "This caller is waiting in the queue" in queued
    assert "Connect call</button>" not in queued
    taken = desk.post("/desk/claim", follow_redirects=True)
    html = page(taken)
    assert f"Contact {contact_id}" in html and "Connect call</button>" in html
    assert 'id="reply-text"' not in html, "nobody writes to a caller"
    assert "registered facts" in html and "Decision trail" in html
    connected = desk.post(f"/desk/contacts/{contact_id}/connect", follow_redirects=True)
    assert "Your phone is ringing" in page(connected)
    assert caller.placed == [
        (
            f"client:agent-{agent}",
            f"{app.config['KANAL_PUBLIC_URL']}/twilio/voice/agent/{contact_id}",
            f"{app.config['KANAL_PUBLIC_URL']}/twilio/voice/call-status?contact={contact_id}",
        )
    ]


def test_connecting_a_caller_who_hung_up_says_the_caller_is_gone(app, staff, kanal, caller):
    contact_id = waiting_call(kanal, "+4520002002")
    desk = sign_in(app, staff)
    desk.post("/desk/claim")
    with kanal.uow() as uow:  # the caller hung up (the voice channel closes the contact)
        uow.contacts.get(contact_id).state = "closed"
        uow.commit()
    gone = desk.post(f"/desk/contacts/{contact_id}/connect", follow_redirects=True)
    assert "The caller is gone" in page(gone)
    assert caller.placed == []


def test_a_provider_refusal_is_shown_to_the_agent(app, staff, kanal):
    from router.service.ports import CallResult

    kanal.dialling.dialler.caller = RecordingCaller(CallResult("rejected", error="HTTP 400: bad"))
    contact_id = waiting_call(kanal, "+4520002003")
    desk = sign_in(app, staff)
    desk.post("/desk/claim")
    refused = desk.post(f"/desk/contacts/{contact_id}/connect", follow_redirects=True)
    assert "could not be placed" in page(refused)


def test_callbacks_show_on_the_contact_and_failed_ones_are_acted_on(app, staff, kanal):
    kanal.dialling.dialler.caller = RecordingCaller(default="rejected")
    desk = sign_in(app, staff, "agent2")
    desk.post("/desk/calls/taking", data={"taking": "yes"})
    first = waiting_call(kanal, "+4520002004")
    second = waiting_call(kanal, "+4520002005")
    one = kanal.callbacks.book(first, reason="waited_too_long")
    two = kanal.callbacks.book(second, reason="asked")
    assert kanal.dialling.run(one) == "failed"
    assert kanal.dialling.run(two) == "failed"
    contact_page = page(desk.get(f"/desk/contacts/{first}"))
    assert "FAILED: not reached" in contact_page and "waited too long in the queue" in contact_page
    listing = page(desk.get("/desk/callbacks/failed"))
    assert "2 failed callbacks" in listing
    assert "2 failed callbacks to act on" in page(desk.get("/desk/"))
    empty_note = desk.post(
        f"/desk/callbacks/{two}/close", data={"note": " "}, follow_redirects=True
    )
    assert "Write a note" in page(empty_note)
    closed = desk.post(
        f"/desk/callbacks/{two}/close",
        data={"note": "Sent a letter instead."},
        follow_redirects=True,
    )
    assert f"Callback {two} is closed" in page(closed)
    assert "Note: Sent a letter instead." in page(desk.get(f"/desk/contacts/{second}"))
    kanal.dialling.dialler.caller = RecordingCaller()
    again = desk.post(f"/desk/callbacks/{one}/call-again", follow_redirects=True)
    assert f"Callback {one} is booked again" in page(again)
    assert "No failed callbacks" in page(desk.get("/desk/callbacks/failed"))
    assert kanal.dialling.run(one) == "placed"
    twice = desk.post(f"/desk/callbacks/{one}/call-again", follow_redirects=True)
    assert "not on the failed list" in page(twice)


def test_a_callback_answered_puts_the_call_through_without_connect(app, staff, kanal, caller):
    desk = sign_in(app, staff, "agent3")
    desk.post("/desk/calls/taking", data={"taking": "yes"})
    contact_id = waiting_call(kanal, "+4520002006")
    callback_id = kanal.callbacks.book(contact_id, reason="asked")
    assert kanal.dialling.run(callback_id) == "placed"
    kanal.dialling.answered(callback_id, "CA1")
    html = page(desk.get(f"/desk/contacts/{contact_id}"))
    assert "put through to your phone" in html
    assert "Connect call</button>" not in html
    assert "answered: connected to an agent" in html


def test_an_agent_who_took_a_caller_waiting_for_a_callback_calls_back(app, staff, kanal, caller):
    contact_id = waiting_call(kanal, "+4520002007")
    kanal.callbacks.book(contact_id, reason="out_of_hours")
    desk = sign_in(app, staff, "agent4")
    html = page(desk.post("/desk/claim", follow_redirects=True))
    assert "not on the line" in html and "Call back now</button>" in html
    assert "Connect call</button>" not in html
    calling = page(desk.post(f"/desk/contacts/{contact_id}/call-back", follow_redirects=True))
    assert "Calling the citizen" in calling
    assert caller.placed[-1][0] == "+4520002007"


def test_the_desk_shows_the_caller_connected_then_gone(app, staff, kanal):
    from datetime import UTC, datetime

    from router.domain.calls import Call

    contact_id = waiting_call(kanal, "+4520002007")
    with kanal.uow() as uow:
        uow.calls.add(Call(call_sid="CAgone", direction="inbound", status="queued",
                           started_at=datetime.now(UTC), contact_id=contact_id))  # fmt: skip
        uow.commit()
    desk = sign_in(app, staff)
    assert "Connect call</button>" in page(desk.post("/desk/claim", follow_redirects=True))
    kanal.calls.connected("CAgone")  # the agent's leg dequeued the caller
    talking = page(desk.get(f"/desk/contacts/{contact_id}"))
    assert "You are connected" in talking and "Connect call</button>" not in talking
    kanal.calls.wait_ended("CAgone", "bridged")  # talked to the agent, then hung up
    kanal.calls.ended("CAgone", "completed")
    html = page(desk.get(f"/desk/contacts/{contact_id}"))
    assert "The call has ended: the caller hung up" in html
    assert "Connect call</button>" not in html and "Resolve and close" in html


def test_only_staff_who_may_open_its_conversation_see_and_act_on_a_failed_callback(
    app, staff, kanal
):
    """A failed callback is a citizen's conversation too: an agent of another queue, or a
    supervisor of another team, neither sees it on the list nor calls again or closes it
    (403, audited); an id that is no callback is a 404."""
    kanal.dialling.dialler.caller = RecordingCaller(default="rejected")
    anyone = sign_in(app, staff, "ann")  # no queues set: serves every queue
    anyone.post("/desk/calls/taking", data={"taking": "yes"})
    housing = sign_in(app, staff, "bo")
    south = sign_in(app, staff, "sam", "supervisor")
    kanal.assignments.set_profile(user_id(kanal, "bo"), skills=["housing"], teams=["south"])
    kanal.assignments.set_profile(user_id(kanal, "sam"), teams=["south"])
    contact_id = waiting_call(kanal, "+4520002009")
    callback_id = kanal.callbacks.book(contact_id, reason="asked")
    assert kanal.dialling.run(callback_id) == "failed"
    assert housing.get(f"/desk/contacts/{contact_id}").status_code == 403

    for outsider in (housing, south):
        assert f'id="callback-{callback_id}"' not in page(outsider.get("/desk/callbacks/failed"))
        again = outsider.post(f"/desk/callbacks/{callback_id}/call-again")
        closed = outsider.post(f"/desk/callbacks/{callback_id}/close", data={"note": "done"})
        assert (again.status_code, closed.status_code) == (403, 403)
    assert "failed callback to act on" not in page(housing.get("/desk/"))
    assert "failed callback to settle" not in page(south.get("/desk/supervisor"))
    assert kanal.views.contact(contact_id).state != "closed"
    assert [c.state for c in kanal.callbacks.for_contact(contact_id)] == ["failed"]
    assert housing.post("/desk/callbacks/999999/close", data={"note": "x"}).status_code == 404
    with kanal.uow() as uow:
        refused = [(e.username, e.action, e.contact_id, e.reason) for e in uow.audit.between()
                   if not e.allowed and e.action != "conversation"]  # fmt: skip
    assert refused == [
        ("bo", "call_again", contact_id, "another queue's conversation"),
        ("bo", "close_callback", contact_id, "another queue's conversation"),
        ("sam", "call_again", contact_id, "another team's conversation"),
        ("sam", "close_callback", contact_id, "another team's conversation"),
    ]

    assert f'id="callback-{callback_id}"' in page(anyone.get("/desk/callbacks/failed"))
    assert "1 failed callback to act on" in page(anyone.get("/desk/"))
    closed = anyone.post(
        f"/desk/callbacks/{callback_id}/close", data={"note": "Wrote a letter."},
        follow_redirects=True,
    )  # fmt: skip
    assert f"Callback {callback_id} is closed" in page(closed)
