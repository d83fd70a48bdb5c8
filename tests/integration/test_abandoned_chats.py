"""A web chat abandoned in the queue whose citizen comes back is waiting again everywhere it
is read: the conversations' export and the dashboard's figures (from the event log), the
desk's history of the citizen's contacts and the chat itself, on both databases. Once an
agent answers it, it counts as answered, its handling time from the answer to the close."""

from __future__ import annotations

from datetime import timedelta

import pytest

from analytics import conversations, metrics
from analytics.contact_queries import contact_facts
from channels.webchat_session import identity_token
from router.domain.commands import ClaimNext, Resolve
from router.entrypoints.auth import create_user
from router.service.left_chats import LeftChats
from tests.conftest import SECRET
from tests.integration.test_desk import chat

pytestmark = pytest.mark.integration


def facts_of(kanal, contact_id: int) -> metrics.ContactFacts:
    now = kanal.clock()
    with kanal.engine.connect() as conn:
        found = contact_facts(conn, now - timedelta(days=1), now + timedelta(days=1))
    return next(f for f in found if f.contact_id == contact_id)


def read(kanal, contact_id: int) -> tuple[str | None, str]:
    """(the queue's outcome, the conversation's outcome), as the export reads them."""
    found = facts_of(kanal, contact_id)
    queue = metrics.queue_outcome(found)
    return (queue[0] if queue else None), conversations.outcome(found)


def abandon_all(kanal) -> int:
    """The scheduler's sweep, run as if the citizens had been gone for five minutes."""
    later = kanal.clock() + timedelta(minutes=5)
    left = LeftChats(kanal.uow, lambda: later, channel="webchat", after=timedelta(seconds=120))
    return left.sweep()


@pytest.mark.parametrize("returns_by", ["writing", "polling", "the web's own stream"])
def test_an_abandoned_chat_whose_citizen_returns_reads_as_waiting_until_answered(
    client, kanal, add_citizen, returns_by
):
    karen = identity_token(SECRET, add_citizen(name="Karen Jensen"))
    sid, auth, last = chat(client, "I want to talk to a person", identity=karen)
    assert last["state"] == "queued"
    contact_id = kanal.views.contact_on("webchat", sid).id
    assert abandon_all(kanal) == 1
    assert read(kanal, contact_id) == ("abandoned", "abandoned")

    messages = f"/api/v1/chat/sessions/{sid}/messages"
    if returns_by == "writing":
        answer = client.post(messages, json={"text": "I am back"}, headers=auth).get_json()
        assert answer["state"] == "queued"
    elif returns_by == "polling":
        assert client.get(messages, headers=auth).get_json()["state"] == "queued"
    else:
        stream = client.get(f"/api/v1/chat/sessions/{sid}/stream", headers=auth, buffered=False)
        assert stream.status_code == 200
        stream.close()
    assert kanal.views.contact(contact_id).state == "queued"
    assert [e.contact_id for e in kanal.views.queue()] == [contact_id]
    assert read(kanal, contact_id) == ("in_progress", "in_progress")
    assert facts_of(kanal, contact_id).ended_at is None

    # Karen's next chat: the desk's history shows the first waiting, not abandoned.
    second_sid, _auth, _last = chat(client, "I want to talk to a person", identity=karen)
    second = kanal.views.contact_on("webchat", second_sid).id
    past = {p.id: p for p in kanal.views.conversation(second).background.past}
    assert (past[contact_id].state, past[contact_id].closed_why) == ("queued", None)

    agent = create_user(kanal.uow, "agent1", "correct horse", "agent").id
    assert kanal.desk.claim_next(ClaimNext(agent_id=agent, skills=())).contact_id == contact_id
    assert read(kanal, contact_id) == ("answered", "in_progress")
    kanal.desk.resolve(
        Resolve(agent_id=agent, contact_id=contact_id, wrap_up="answered", outcome="resolved")
    )
    answered = facts_of(kanal, contact_id)
    assert read(kanal, contact_id) == ("answered", "completed_other")
    assert answered.ended_at is not None and answered.ended_at >= answered.assigned_at
    assert not answered.left_queue  # the close that counts is the agent's


def test_a_chat_abandoned_again_after_coming_back_reads_abandoned_again(client, kanal):
    sid, auth, _last = chat(client, "I want to talk to a person")
    contact_id = kanal.views.contact_on("webchat", sid).id
    assert abandon_all(kanal) == 1
    client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=auth)
    assert read(kanal, contact_id) == ("in_progress", "in_progress")
    assert abandon_all(kanal) == 1
    assert read(kanal, contact_id) == ("abandoned", "abandoned")
