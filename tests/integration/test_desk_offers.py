"""Offers and presence at the desk, on SQLite and PostgreSQL: a contact offered to an agent
shows on their queue page as offered to them, with its time left and Accept and Decline (in
English and Danish); each change of an agent's presence is in the event log, and a
supervisor reads the agent's day from it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from router.service.assignments import Assignments
from router.service.errors import Conflict
from tests.integration.test_desk import page, queued_chat, sign_in

pytestmark = pytest.mark.integration


def user_id(kanal, username):
    with kanal.uow() as uow:
        return uow.users.by_username(username).id


def events_of(kanal, contact_id):
    with kanal.uow() as uow:
        return [e.type for e in uow.events.for_contact(contact_id)]


def offered_to_one_of(kanal, *agents):
    assert kanal.assignments.offer_waiting()["offered"] == 1
    [(agent, offer)] = [(a, o) for a in agents for o in kanal.assignments.offers_for(a)]
    return agent, offer


def test_an_offer_shows_as_offered_to_you_and_accept_takes_it(app, client, kanal, staff):
    contact = queued_chat(client, kanal)
    desk = sign_in(app, staff, "ann")
    ann = user_id(kanal, "ann")
    desk.post("/desk/presence", data={"status": "available"})
    _, offer = offered_to_one_of(kanal, ann)

    shown = page(desk.get("/desk/"))
    assert "Offered to you" in shown
    assert f"Contact {contact} is offered to you" in shown
    left = int(re.search(r"Time left: (\d+) s", shown).group(1))
    assert 0 < left <= kanal.settings.routing.offer_seconds
    # Accept and Decline are buttons of forms: reached and pressed from the keyboard.
    accept = re.search(
        rf'<form method="post" action="/desk/offers/{offer.id}/accept">.*?<button type="submit"'
        rf' aria-describedby="offer-{offer.id}">Accept</button>',
        shown,
        re.S,
    )
    assert accept is not None
    assert f'action="/desk/offers/{offer.id}/decline"' in shown
    danish = page(desk.get("/desk/?lang=da"))
    assert "Tilbudt dig" in danish and f"Henvendelse {contact} er tilbudt dig" in danish
    assert "Tag imod" in danish and "Afslå" in danish and "Tid tilbage:" in danish
    desk.get("/desk/?lang=en")

    taken = desk.post(f"/desk/offers/{offer.id}/accept")
    assert taken.status_code == 302 and taken.location.endswith(f"/desk/contacts/{contact}")
    assert kanal.views.contact(contact).agent_id == ann
    assert "Offered to you" not in page(desk.get("/desk/"))
    log = events_of(kanal, contact)
    assert log.count("offer_made") == log.count("offer_accepted") == 1
    assert log.count("agent_assigned") == 1
    # Accepting again is refused, saying why.
    again = desk.post(f"/desk/offers/{offer.id}/accept", follow_redirects=True)
    assert "This offer is no longer open." in page(again)


def test_a_declined_offer_leaves_the_page_and_goes_to_the_next_agent(app, client, kanal, staff):
    contact = queued_chat(client, kanal)
    desks = {name: sign_in(app, staff, name) for name in ("ann", "bo")}
    ids = {name: user_id(kanal, name) for name in desks}
    for desk in desks.values():
        desk.post("/desk/presence", data={"status": "available"})
    first, offer = offered_to_one_of(kanal, *ids.values())
    name = next(n for n, i in ids.items() if i == first)
    answer = desks[name].post(f"/desk/offers/{offer.id}/decline", follow_redirects=True)
    assert "You declined the offer: it goes to the next agent." in page(answer)
    assert "Offered to you" not in page(answer)
    second, _ = offered_to_one_of(kanal, *ids.values())
    assert second != first
    assert kanal.views.contact(contact).state == "queued"
    assert events_of(kanal, contact).count("offer_declined") == 1


def test_an_offer_past_its_time_cannot_be_accepted(app, client, kanal, staff):
    contact = queued_chat(client, kanal)
    sign_in(app, staff, "ann")
    ann = user_id(kanal, "ann")
    kanal.assignments.set_presence(ann, "available")
    _, offer = offered_to_one_of(kanal, ann)
    later = offer.expires_at + timedelta(seconds=1)
    late = Assignments(kanal.uow, kanal.settings.routing, lambda: later)
    with pytest.raises(Conflict, match="expired"):
        late.accept(ann, offer.id)
    assert kanal.views.contact(contact).state == "queued"
    assert events_of(kanal, contact)[-1] == "offer_expired"


def test_presence_changes_are_logged_and_a_supervisor_reads_the_agents_day(
    app, client, kanal, staff
):
    queued_chat(client, kanal)
    start = datetime.now(UTC) - timedelta(seconds=1)
    desk = sign_in(app, staff, "ann")
    ann = user_id(kanal, "ann")
    desk.post("/desk/presence", data={"status": "away"})
    desk.post("/desk/claim")  # Take next: available again, and a contact
    desk.post("/desk/presence", data={"status": "busy"})
    desk.post("/logout")
    with kanal.uow() as uow:
        logged = [
            (e.data["from"], e.data["to"], e.data["why"], e.channel, e.contact_id)
            for e in uow.events.on_desk(start, datetime.now(UTC) + timedelta(seconds=1))
            if e.type == "presence_changed" and e.data["agent_id"] == ann
        ]
    assert logged == [
        ("offline", "away", "agent", "desk", None),
        ("away", "available", "took work", "desk", None),
        ("available", "busy", "agent", "desk", None),
        ("busy", "offline", "signed out", "desk", None),
    ]

    supervisor = sign_in(app, staff, "sue", "supervisor")
    board = page(supervisor.get("/desk/supervisor"))
    assert f'href="/desk/supervisor/agents/{ann}/day"' in board
    day = page(supervisor.get(f"/desk/supervisor/agents/{ann}/day"))
    assert "ann&#39;s day" in day or "ann's day" in day
    rows = re.findall(r"<tr>\s*<td>\d\d:\d\d</td>\s*<td>(\w+)</td>\s*<td>(\w+)</td>", day)
    assert rows == [("offline", "away"), ("away", "available"), ("available", "busy"),
                    ("busy", "offline")]  # fmt: skip
    assert "took work" in day and "signed out" in day
    danish = page(supervisor.get(f"/desk/supervisor/agents/{ann}/day?lang=da"))
    assert "Statusskift i dag" in danish
    # An agent does not read another's day.
    bo = sign_in(app, staff, "bo")
    assert bo.get(f"/desk/supervisor/agents/{ann}/day").status_code == 403
