"""The desk's routing on both databases: presence, a transfer landing with its note, and who
sees what once agents have queues and supervisors teams."""

from __future__ import annotations

import pytest

from tests.integration.test_desk import queued_chat, sign_in

pytestmark = pytest.mark.integration


def user_id(kanal, username):
    with kanal.uow() as uow:
        return uow.users.by_username(username).id


def test_an_agent_sets_their_status_and_signing_out_makes_them_offline(app, kanal, staff):
    desk = sign_in(app, staff, "ann")
    ann = user_id(kanal, "ann")
    assert "You are offline." in desk.get("/desk/").get_data(as_text=True)
    answer = desk.post("/desk/presence", data={"status": "available"}, follow_redirects=True)
    assert "You are available." in answer.get_data(as_text=True)
    desk.post("/desk/presence", data={"status": "lunch"})
    assert kanal.assignments.presence(ann).state == "available"
    desk.post("/logout")
    assert kanal.assignments.presence(ann).state == "offline"


def test_a_transfer_lands_in_the_other_queue_with_its_note(app, client, kanal, staff):
    contact = queued_chat(client, kanal)
    ann = sign_in(app, staff, "ann")
    bo = sign_in(app, staff, "bo")
    kanal.assignments.set_profile(user_id(kanal, "bo"), skills=["housing"])
    assert ann.post("/desk/claim").status_code == 302
    assert bo.get(f"/desk/contacts/{contact}").status_code == 403  # not his queue yet
    moved = ann.post(
        f"/desk/contacts/{contact}/transfer",
        data={"queue": "housing", "note": "Moved house in May; asks about housing benefit."},
        follow_redirects=True,
    )
    assert f"Contact {contact} is waiting in the queue housing." in moved.get_data(as_text=True)
    bo.post("/desk/claim")
    page = bo.get(f"/desk/contacts/{contact}").get_data(as_text=True)
    assert "Moved house in May; asks about housing benefit." in page
    assert "general → housing" in page
    # Ann no longer holds it: she may not answer it.
    answer = ann.post(f"/desk/contacts/{contact}/reply", data={"text": "hi"}, follow_redirects=True)
    assert "assigned to someone else" in answer.get_data(as_text=True)
    assert [m.author for m in kanal.views.messages(contact)].count("agent") == 0


def test_a_transfer_to_an_unknown_queue_is_refused_saying_so(app, client, kanal, staff):
    contact = queued_chat(client, kanal)
    ann = sign_in(app, staff, "ann")
    ann.post("/desk/claim")
    answer = ann.post(
        f"/desk/contacts/{contact}/transfer", data={"queue": "nowhere"}, follow_redirects=True
    )
    assert "No such queue: nowhere" in answer.get_data(as_text=True)
    assert kanal.views.contact(contact).agent_id == user_id(kanal, "ann")


def test_agents_see_their_queues_and_supervisors_their_teams(app, client, kanal, staff):
    contact = queued_chat(client, kanal)  # the general queue
    general = sign_in(app, staff, "ann")
    housing = sign_in(app, staff, "bo")
    north = sign_in(app, staff, "sue", "supervisor")
    south = sign_in(app, staff, "sam", "supervisor")
    set_profile = kanal.assignments.set_profile
    set_profile(user_id(kanal, "ann"), skills=["general"], teams=["north"])
    set_profile(user_id(kanal, "bo"), skills=["housing"], teams=["south"])
    set_profile(user_id(kanal, "sue"), teams=["north"])
    set_profile(user_id(kanal, "sam"), teams=["south"])
    url = f"/desk/contacts/{contact}"
    assert general.get(url).status_code == 200
    assert housing.get(url).status_code == 403
    assert north.get(url).status_code == 200
    assert south.get(url).status_code == 403
    with kanal.uow() as uow:
        refused = [(e.username, e.reason) for e in uow.audit.between() if not e.allowed]
    assert refused == [
        ("bo", "another queue's conversation"),
        ("sam", "another team's conversation"),
    ]


def test_the_queue_page_lists_only_the_agents_queues(app, client, kanal, staff):
    contact = queued_chat(client, kanal)  # the general queue
    general = sign_in(app, staff, "ann")
    housing = sign_in(app, staff, "bo")
    kanal.assignments.set_profile(user_id(kanal, "bo"), skills=["housing"])
    listed = general.get("/desk/queue.json").get_json()
    assert [e["contact_id"] for e in listed["waiting"]] == [contact]
    assert housing.get("/desk/queue.json").get_json()["waiting"] == []
    assert f"/desk/contacts/{contact}" not in housing.get("/desk/").get_data(as_text=True)


def test_a_transfer_to_an_agent_named_with_a_nul_character_is_no_such_agent(
    app, client, kanal, staff
):
    contact = queued_chat(client, kanal)
    ann = sign_in(app, staff, "ann")
    sign_in(app, staff, "bo")
    ann.post("/desk/claim")
    answer = ann.post(
        f"/desk/contacts/{contact}/transfer", data={"agent": "bo\x00"}, follow_redirects=True
    )
    assert answer.status_code == 200
    assert "No such agent: bo" in answer.get_data(as_text=True)
    assert kanal.views.contact(contact).agent_id == user_id(kanal, "ann")


def test_a_supervisor_takes_next_only_from_their_teams_queues(app, client, kanal, staff):
    from router.entrypoints.auth import create_token

    queued_chat(client, kanal)  # the general queue: the north team's
    sign_in(app, staff, "bo")
    south = sign_in(app, staff, "sam", "supervisor")
    kanal.assignments.set_profile(user_id(kanal, "bo"), skills=["housing"], teams=["south"])
    kanal.assignments.set_profile(user_id(kanal, "sam"), teams=["south"])
    token = {"Authorization": "Bearer " + create_token(kanal.uow, "desk", "sam")}

    taken = south.post("/desk/claim", follow_redirects=True)
    assert "Nobody is waiting right now." in taken.get_data(as_text=True)
    assert client.post("/api/v1/desk/claim", headers=token).status_code == 204
    assert kanal.views.queue()[0].state == "waiting"  # still there for the north team


def test_a_supervisor_is_never_offered_another_teams_conversation(app, client, kanal, staff):
    queued_chat(client, kanal)  # the general queue: the north team's
    sign_in(app, staff, "bo")
    sign_in(app, staff, "sam", "supervisor")
    kanal.assignments.set_profile(user_id(kanal, "bo"), skills=["housing"], teams=["south"])
    kanal.assignments.set_profile(user_id(kanal, "sam"), teams=["south"])
    kanal.assignments.set_presence(user_id(kanal, "sam"), "available")

    assert kanal.assignments.offer_waiting()["offered"] == 0
    assert kanal.assignments.offers_for(user_id(kanal, "sam")) == []
