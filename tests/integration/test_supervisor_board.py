"""The supervisor board and the SLA timers, on both databases, with a fake clock.

A supervisor sees the queues' waits and service level, the agents' presence and load, moves
a waiting item and changes its priority; the SLA job warns at 80 % of the target wait and at
100 % raises the priority and offers a written-channel citizen a callback, once each.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from router.domain import events as ev
from router.service.sla_timers import SlaTimers
from tests.integration.test_desk import chat, queued_chat, sign_in

pytestmark = pytest.mark.integration


def _item(kanal, contact_id):
    with kanal.uow() as uow:
        return uow.queue.open_for_contact(contact_id)


def _types(kanal, contact_id):
    with kanal.uow() as uow:
        return [e.type for e in uow.events.for_contact(contact_id)]


def _timers(kanal, at, target=100):
    routing = replace(kanal.settings.routing, target_wait_seconds=target)
    return SlaTimers(kanal.uow, routing, lambda: at, kanal.channels, kanal.delivery)


def test_sla_timers_warn_then_raise_the_priority_and_offer_a_callback_once(
    client, kanal, add_citizen
):
    from channels.webchat_session import identity_token
    from tests.conftest import SECRET

    pseudonym = add_citizen(phone="+4512345678", name="Karen Jensen")
    sid, auth, last = chat(
        client, "I want to talk to a person", identity=identity_token(SECRET, pseudonym)
    )
    assert last["state"] == "queued"
    contact_id = kanal.views.contact_on("webchat", sid).id
    anon_sid, anon_auth, _last = chat(client, "I want to talk to a person")
    anonymous = kanal.views.contact_on("webchat", anon_sid).id
    # The second chat was queued a moment later on the real clock (more under load): the
    # timers run from it, so that both items have passed 80 % and 100 % at the same instants.
    first = _item(kanal, contact_id).enqueued_at
    start = _item(kanal, anonymous).enqueued_at
    before = _item(kanal, contact_id).priority

    assert _timers(kanal, first + timedelta(seconds=79)).check().warned == 0
    warned = _timers(kanal, start + timedelta(seconds=85)).check()
    assert warned.warned == 2 and warned.breached == 0
    assert _timers(kanal, start + timedelta(seconds=90)).check().warned == 0  # once
    assert ev.SLA_WARNED in _types(kanal, contact_id)

    breached = _timers(kanal, start + timedelta(seconds=101)).check()
    assert (breached.breached, breached.offered) == (2, 1)  # the anonymous chat: no phone
    item = _item(kanal, contact_id)
    assert item.priority == before + 1 and item.sla_breached_at is not None
    offer = [m for m in kanal.views.messages(contact_id) if m.author == "system"]
    assert offer and "called back" in offer[-1].text
    assert ev.SLA_CALLBACK_OFFERED not in _types(kanal, anonymous)

    again = _timers(kanal, start + timedelta(seconds=500)).check()
    assert (again.warned, again.breached, again.offered) == (0, 0, 0)
    assert _item(kanal, contact_id).priority == before + 1
    types = _types(kanal, contact_id)
    assert types.count(ev.SLA_WARNED) == 1 and types.count(ev.SLA_BREACHED) == 1
    assert types.count(ev.SLA_CALLBACK_OFFERED) == 1

    # The citizen replies CALL: the callback is booked; they keep their place meanwhile.
    answer = client.post(
        f"/api/v1/chat/sessions/{sid}/messages", json={"text": "call"}, headers=auth
    ).get_json()
    assert "phone you" in " ".join(m["text"] for m in answer["messages"]), answer
    booked = kanal.callbacks.for_contact(contact_id)
    assert [c.reason for c in booked] == ["waited_too_long"]
    assert _item(kanal, contact_id).is_waiting
    # CALL from a citizen who was offered nothing takes its turn as any other message.
    client.post(
        f"/api/v1/chat/sessions/{anon_sid}/messages", json={"text": "call"}, headers=anon_auth
    )
    assert kanal.callbacks.for_contact(anonymous) == []
    assert "call" in [m.text for m in kanal.views.messages(anonymous)]


def test_the_board_shows_waits_breaches_and_agents_and_the_supervisor_moves_an_item(
    app, client, kanal, staff
):
    contact_id = queued_chat(client, kanal)
    item = _item(kanal, contact_id)
    _timers(kanal, item.enqueued_at + timedelta(seconds=200), target=100).check()
    staff("agent7", "agent")
    board = sign_in(app, staff, "boss", "supervisor")

    page = board.get("/desk/supervisor")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'id="item-{item.id}" class="sla-breached"' in html
    assert f'id="queue-{item.queue}" class="sla-breached"' in html
    assert "agent7" in html and "0 / 3" in html  # webchat: held / capacity
    danish = board.get("/desk/supervisor?lang=da").get_data(as_text=True)
    assert "Teamledertavle" in danish and "Længste ventetid" in danish

    other = next(q for q in kanal.settings.routing.names() if q != item.queue)
    moved = board.post(f"/desk/supervisor/items/{item.id}/move", data={"queue": other})
    assert moved.status_code == 302
    assert _item(kanal, contact_id).queue == other
    raised = board.post(f"/desk/supervisor/items/{item.id}/priority", data={"priority": "7"})
    assert raised.status_code == 302
    assert _item(kanal, contact_id).priority == 7
    types = _types(kanal, contact_id)
    assert ev.QUEUE_ITEM_MOVED in types and ev.PRIORITY_CHANGED in types

    # An agent of the queue it moved to may open it now (the access rule reads the move).
    desk = sign_in(app, staff, "agent9", "agent")
    kanal.assignments.set_profile(kanal.assignments.agent_named("agent9"), skills=[other])
    assert desk.get(f"/desk/contacts/{contact_id}").status_code == 200

    nowhere = board.post(f"/desk/supervisor/items/{item.id}/move", data={"queue": "nowhere"})
    assert nowhere.status_code == 404 and "No such queue" in nowhere.get_data(as_text=True)
    bad = board.post(f"/desk/supervisor/items/{item.id}/priority", data={"priority": "high"})
    assert bad.status_code == 400

    agent = sign_in(app, staff, "agent8", "agent")
    assert agent.get("/desk/supervisor").status_code == 403
    refused = agent.post(f"/desk/supervisor/items/{item.id}/priority", data={"priority": "0"})
    assert refused.status_code == 403 and _item(kanal, contact_id).priority == 7
    with kanal.uow() as uow:
        audited = [e.action for e in uow.audit.between(None, None) if e.username == "boss"]
    assert "supervisor" in audited and "move_item" in audited


def test_service_level_today_counts_answers_within_the_threshold(app, client, kanal, staff):
    from router.entrypoints import jobs
    from router.service.assignments import Assignments

    first, second = queued_chat(client, kanal), queued_chat(client, kanal)
    queue = _item(kanal, first).queue
    staff("agent1", "agent")
    agent = kanal.assignments.agent_named("agent1")
    for contact_id, after in ((first, 5), (second, 60)):  # in time, and too late (20 s)
        at = _item(kanal, contact_id).enqueued_at + timedelta(seconds=after)
        late = Assignments(kanal.uow, kanal.settings.routing, lambda at=at: at)
        assert late.claim(agent, queues=(queue,)).contact_id == contact_id
    assert ("sla_timers", jobs.sla_timers, 10) in jobs.JOBS
    jobs.sla_timers(kanal)  # nothing waits: nothing happens

    board = sign_in(app, staff, "boss", "supervisor")
    html = board.get("/desk/supervisor").get_data(as_text=True)
    row = html[html.index(f'id="queue-{queue}"') :].split("</tr>")[0]
    assert "50" in row and "(1/2)" in row, row


@pytest.mark.parametrize("raw", ["²", "٣", "1e3", " 7 7", "-1", "10", "99999999999999999999"])
def test_a_priority_that_is_not_one_digit_from_0_to_9_is_refused_saying_so(
    app, client, kanal, staff, raw
):
    """Digits a browser can send that Python's isdigit() accepts (superscripts, other scripts)
    are not a priority either: 400 with the board's words, the item as it was."""
    contact_id = queued_chat(client, kanal)
    item = _item(kanal, contact_id)
    board = sign_in(app, staff, "boss", "supervisor")
    answer = board.post(f"/desk/supervisor/items/{item.id}/priority", data={"priority": raw})
    assert answer.status_code == 400, answer.status_code
    html = answer.get_data(as_text=True)
    assert "Choose a priority from 0 to 9." in html or "whole number from 0 to 9" in html
    assert _item(kanal, contact_id).priority == item.priority


def test_the_board_says_when_nobody_at_the_desk_can_take_waiting_contacts(
    app, client, kanal, staff
):
    from router.domain.presence import PresenceState

    contact_id = queued_chat(client, kanal)
    item = _item(kanal, contact_id)
    assert item.language == "en"
    board = sign_in(app, staff, "boss", "supervisor")
    named = kanal.assignments.agent_named
    kanal.assignments.set_profile(named("boss"), skills=["supervision"], languages=["da"])
    staff("dansk", "agent")
    kanal.assignments.set_profile(named("dansk"), languages=["da"])
    kanal.assignments.set_presence(named("dansk"), PresenceState.AVAILABLE)

    html = board.get("/desk/supervisor").get_data(as_text=True)
    assert 'id="stranded"' in html and 'class="gap-nobody_serves"' in html
    assert f"1 contact in queue {item.queue} (English, web chat)" in html
    danish = board.get("/desk/supervisor?lang=da").get_data(as_text=True)
    assert f"1 henvendelse i køen {item.queue} (engelsk, webchat)" in danish

    staff("english", "agent")  # never signed in: offline
    kanal.assignments.set_profile(named("english"), languages=["en"])
    html = board.get("/desk/supervisor").get_data(as_text=True)
    assert 'class="gap-nobody_signed_in"' in html and "gap-nobody_serves" not in html

    kanal.assignments.set_presence(named("english"), PresenceState.AVAILABLE)
    assert 'id="stranded"' not in board.get("/desk/supervisor").get_data(as_text=True)
