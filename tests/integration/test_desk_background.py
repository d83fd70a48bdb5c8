"""What the conversation page carries so nobody is asked twice: earlier contacts, notes,
canned replies filled in from the register; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from channels.webchat_session import identity_token
from tests.conftest import SECRET
from tests.integration.test_desk import chat, page, queued_chat, sign_in

pytestmark = pytest.mark.integration


def test_an_agent_sees_the_citizens_earlier_contact_its_need_and_outcome(
    app, client, kanal, staff, add_citizen
):
    pseudonym = add_citizen(name="Karen Jensen", language="da")
    identity = identity_token(SECRET, pseudonym)
    first = queued_chat(client, kanal, "when is my pension paid", "I want a person",
                        identity=identity)  # fmt: skip
    desk = sign_in(app, staff)
    desk.post("/desk/claim")
    desk.post(
        f"/desk/contacts/{first}/resolve",
        data={"wrap_up": "digital_route_shown", "outcome": "assisted_digital"},
    )
    second = queued_chat(client, kanal, "my payment", "I want a person", identity=identity)
    desk.post("/desk/claim")

    html = page(desk.get(f"/desk/contacts/{second}"))
    history = html[html.index('id="history"') : html.index('id="trail-h"')]
    assert f'href="/desk/contacts/{first}"' in history
    assert "Payment date" in history
    assert "Resolved digitally with help (assisted digital)" in history
    assert "Shown the digital route" in history
    # The canned reply for the need is filled in from the register, in Danish (her language).
    assert "Hej Karen, din næste udbetaling sker den" in html
    assert "Replace before sending" not in html


def test_an_anonymous_citizens_earlier_contacts_are_those_from_the_same_address(
    app, client, kanal, staff
):
    contact_id = queued_chat(client, kanal)
    desk = sign_in(app, staff)
    desk.post("/desk/claim")
    html = page(desk.get(f"/desk/contacts/{contact_id}"))
    assert "No other contact from this address in the last 90 days." in html


def test_an_internal_note_is_kept_for_colleagues_and_never_reaches_the_citizen(
    app, client, kanal, staff
):
    sid, auth, _ = chat(client, "I want to talk to a person")
    contact_id = kanal.views.contact_on("webchat", sid).id
    desk = sign_in(app, staff)
    desk.post("/desk/claim")

    empty = desk.post(f"/desk/contacts/{contact_id}/notes", data={"note": "  "})
    assert "Write the note before saving it." in page(desk.get(empty.location))
    saved = desk.post(
        f"/desk/contacts/{contact_id}/notes",
        data={"note": "Her son usually helps; see https://example.org/case <b>x</b>"},
    )
    html = page(desk.get(saved.location))
    notes = html[html.index('id="notes"') : html.index("</section>", html.index('id="notes"'))]
    assert "Her son usually helps" in notes and "&lt;b&gt;x&lt;/b&gt;" in notes
    assert '<a href="https://example.org/case"' in notes

    seen = client.get(f"/api/v1/chat/sessions/{sid}/messages?after=0", headers=auth).get_json()
    assert not any("son usually helps" in m["text"] for m in seen["messages"])
    with kanal.uow() as uow:
        events = [e for e in uow.events.for_contact(contact_id) if e.type == "note_added"]
        audited = [(a.action, a.contact_id, a.allowed) for a in uow.audit.between()]
    assert len(events) == 1 and "son" not in str(events[0].data)
    assert ("add_note", contact_id, True) in audited


def test_a_supervisor_may_note_on_a_conversation_a_manager_may_not(app, client, kanal, staff):
    contact_id = queued_chat(client, kanal)
    supervisor = sign_in(app, staff, "sue", role="supervisor")
    manager = sign_in(app, staff, "max", role="manager")
    assert (
        supervisor.post(f"/desk/contacts/{contact_id}/notes", data={"note": "ok"}).status_code
        == 302
    )
    assert (
        manager.post(f"/desk/contacts/{contact_id}/notes", data={"note": "no"}).status_code == 403
    )
    with kanal.uow() as uow:
        assert [n.text for n in uow.notes.for_contact(contact_id)] == ["ok"]
