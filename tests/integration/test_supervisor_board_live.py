"""The supervisor board, live: its part drawn again on its own (for desk.js, when the stream
process says the queues or agents changed), the page refreshing itself without JavaScript,
SLA breaches said in words above the tables, and low satisfaction ratings (1 or 2 of 5) from
the event log, most recent first, each linked to its conversation; an agent's presence
reaches the board's stream. On both databases."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from router.domain.commands import ClaimNext, Resolve
from router.domain.presence import PresenceState
from router.entrypoints.auth import create_user
from router.entrypoints.live_tokens import desk_token
from tests.conftest import SECRET
from tests.integration.test_desk import queued_chat, sign_in
from tests.live_streams import StreamServer, open_stream

pytestmark = pytest.mark.integration


def resolved_and_rated(client, kanal, agent_id: int, score: int) -> int:
    """A chat an agent answered and resolved, then rated `score` of 5; its contact id."""
    contact_id = queued_chat(client, kanal)
    assert kanal.desk.claim_next(ClaimNext(agent_id=agent_id, skills=())).contact_id == contact_id
    kanal.desk.resolve(
        Resolve(agent_id=agent_id, contact_id=contact_id, wrap_up="answered", outcome="resolved")
    )
    assert kanal.surveys.rate_call(contact_id, score)
    return contact_id


def test_the_board_lists_low_ratings_newest_first_linked_to_their_conversations(
    app, client, kanal, staff
):
    agent = create_user(kanal.uow, "agent9", "correct horse", "agent").id
    first_low = resolved_and_rated(client, kanal, agent, 1)
    resolved_and_rated(client, kanal, agent, 4)  # satisfied: not listed
    second_low = resolved_and_rated(client, kanal, agent, 2)
    board = sign_in(app, staff, "boss1", "supervisor")

    page = board.get("/desk/supervisor").get_data(as_text=True)
    rows = re.findall(r'<tr id="rating-(\d+)">', page)
    assert rows == [str(second_low), str(first_low)]
    assert f'href="/desk/contacts/{second_low}"' in page
    assert "2 of 5" in page and "1 of 5" in page and "4 of 5" not in page
    assert board.get(f"/desk/contacts/{second_low}").status_code == 200  # the link opens it


def test_the_boards_live_part_is_drawn_alone_and_the_page_refreshes_without_javascript(
    app, client, kanal, staff
):
    waiting = queued_chat(client, kanal)
    with kanal.uow() as uow:  # past its target: said in words, not by colour alone
        item = uow.queue.open_for_contact(waiting)
        item.breach_sla(item.enqueued_at + timedelta(seconds=999), 120, 300)
        uow.commit()
    board = sign_in(app, staff, "boss1", "supervisor")

    page = board.get("/desk/supervisor").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="30"></noscript>' in page
    assert 'id="board" data-source="/desk/supervisor/board"' in page
    assert "1 contact has waited past its target." in page

    part = board.get("/desk/supervisor/board")
    assert part.status_code == 200
    text = part.get_data(as_text=True)
    assert "<html" not in text and f'id="item-{item.id}"' in text
    assert "1 contact has waited past its target." in text
    with kanal.uow() as uow:  # the page's view is audited, not each of its refreshes
        actions = [e.action for e in uow.audit.between() if e.username == "boss1"]
    assert actions == ["supervisor"]

    staff("agent2", "agent")
    desk = app.test_client()
    desk.post("/login", data={"username": "agent2", "password": "correct horse"})
    assert desk.get("/desk/supervisor/board").status_code == 403


def test_an_agents_presence_reaches_the_boards_stream(client, kanal):
    """PostgreSQL: a notice of its own (0:presence_changed); SQLite: the log's poller."""
    from router.entrypoints.streams.app import HUB

    boss = create_user(kanal.uow, "boss1", "correct horse", "supervisor").id
    agent = create_user(kanal.uow, "agent1", "correct horse", "agent").id
    with StreamServer(kanal) as streams:
        hub = streams.app[HUB]
        events = open_stream(f"{streams.url}/desk/live/queue", desk_token(SECRET, boss))
        try:
            assert events.next()["event"] == "queue"  # on opening
            queued_chat(client, kanal)  # once its notice is heard, LISTEN is up
            assert _heard(hub, 0), "the stream process never heard of the queued chat"
            before = hub.notices
            kanal.assignments.set_presence(agent, PresenceState.AWAY)
            assert _heard(hub, before), "an agent's presence never reached the stream process"
            assert hub.counts()["queue_streams"] == 1  # the board's stream, poked by it
        finally:
            events.close()


def _heard(hub, more_than: int, seconds: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if hub.notices > more_than:
            return True
        time.sleep(0.05)
    return False
