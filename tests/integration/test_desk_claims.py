"""Taking work from the queue: never the same contact to two agents, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest

from router.domain.commands import ClaimNext, ReceiveMessage
from router.domain.presence import PresenceState
from router.entrypoints.auth import create_user

pytestmark = pytest.mark.integration

AGENTS = 6
CONTACTS = 15


def test_agents_claiming_at_the_same_time_never_get_the_same_contact(kanal):
    agent_ids = [
        create_user(kanal.uow, f"agent{i}", "correct horse", "agent").id for i in range(AGENTS)
    ]
    for n in range(CONTACTS):
        kanal.turns.receive(
            ReceiveMessage(channel="webchat", address=f"s_{n}", text="I want to talk to a person")
        )
    assert len(kanal.views.queue()) == CONTACTS

    claims: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(AGENTS)

    def agent(agent_id: int) -> None:
        try:
            start.wait()
            while (claimed := kanal.desk.claim_next(ClaimNext(agent_id=agent_id))) is not None:
                claims.append((agent_id, claimed.contact_id))
        except BaseException as exc:  # surfaced below: a thread's error must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=agent, args=(a,)) for a in agent_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert not errors, errors
    taken = Counter(contact_id for _agent, contact_id in claims)
    assert len(taken) == CONTACTS
    assert max(taken.values()) == 1, "a contact went to two agents"
    assert kanal.views.queue() == []
    owners = {contact_id: agent_id for agent_id, contact_id in claims}
    for contact_id, agent_id in owners.items():
        assert kanal.views.contact(contact_id).agent_id == agent_id
    with kanal.uow() as uow:
        assigned = [
            sum(e.type == "agent_assigned" for e in uow.events.for_contact(contact_id))
            for contact_id in owners
        ]
    assert assigned == [1] * CONTACTS


def test_a_claim_finds_only_what_is_waiting(kanal):
    agent = create_user(kanal.uow, "agent1", "correct horse", "agent").id
    assert kanal.desk.claim_next(ClaimNext(agent_id=agent)) is None
    kanal.turns.receive(ReceiveMessage(channel="webchat", address="s_1", text="hello"))
    assert kanal.desk.claim_next(ClaimNext(agent_id=agent)) is None  # still with the bot


def test_one_agent_taking_next_from_two_places_at_once_stays_within_capacity(kanal):
    """Two Take next of one agent at the same instant (two tabs, the desk and the API): the
    second waits for the first and then counts what the first took, so an agent who may
    hold one chat gets one, not two. On PostgreSQL a statement that waits for a row lock
    still reads the rest as it was when it began: the holdings must be read after."""
    agents = [create_user(kanal.uow, f"agent{i}", "correct horse", "agent").id for i in range(8)]
    for agent_id in agents:
        kanal.assignments.set_profile(agent_id, capacity={"webchat": 1, "sms": 0, "voice": 0})
        # At the desk already: a Take next changes nothing of their presence.
        kanal.assignments.set_presence(agent_id, PresenceState.AVAILABLE)
    for n in range(2 * len(agents)):
        kanal.turns.receive(
            ReceiveMessage(channel="webchat", address=f"s_{n}", text="I want to talk to a person")
        )
    errors: list[BaseException] = []

    def take(agent_id: int, start: threading.Barrier) -> None:
        try:
            start.wait()
            kanal.desk.claim_next(ClaimNext(agent_id=agent_id))
        except BaseException as exc:  # surfaced below: a thread's error must fail the test
            errors.append(exc)

    for agent_id in agents:
        start = threading.Barrier(2)
        twins = [threading.Thread(target=take, args=(agent_id, start)) for _ in range(2)]
        for t in twins:
            t.start()
        for t in twins:
            t.join(timeout=60)

    assert not errors, errors
    with kanal.uow() as uow:
        held = {agent_id: sum(uow.contacts.held_by(agent_id).values()) for agent_id in agents}
    assert held == {agent_id: 1 for agent_id in agents}, "an agent got more than they may hold"


def test_a_claim_logs_the_assignment_with_the_citizens_pseudonym_never_their_number(
    kanal, add_citizen
):
    """What a claim writes, as the log and the stored contact show it: the agent's presence
    (they became available), the contact theirs, `agent_assigned` with the citizen's
    pseudonym (the claim reads the citizen with the item) and no phone number."""
    pseudonym = add_citizen("+4520001234", name="Karen Jensen")
    kanal.turns.receive(
        ReceiveMessage(channel="sms", address="+4520001234", text="I want to talk to a person")
    )
    agent = create_user(kanal.uow, "agent1", "correct horse", "agent").id
    claimed = kanal.desk.claim_next(ClaimNext(agent_id=agent))

    assert claimed is not None
    assert kanal.views.contact(claimed.contact_id).agent_id == agent
    assert kanal.assignments.presence(agent).state == PresenceState.AVAILABLE
    with kanal.uow() as uow:
        [assigned] = [
            e for e in uow.events.for_contact(claimed.contact_id) if e.type == "agent_assigned"
        ]
        presence = uow.events.recent("presence_changed", assigned.at - timedelta(seconds=5))
    assert assigned.citizen == pseudonym
    assert assigned.data["agent_id"] == agent
    assert "+4520001234" not in str(assigned.data) and assigned.citizen != "+4520001234"
    assert [(e.data["from"], e.data["to"]) for e in presence] == [("offline", "available")]


@pytest.fixture
def contended(monkeypatch):
    """Every claim finds what the agent holds changed between its two reads, as when their
    own Take next from other tabs keeps landing in between: the claim never settles."""
    from router.adapters.queue import SqlQueueRepository

    real = SqlQueueRepository.claim_next

    def moving(self, match):  # noqa: ANN001, ANN202
        found = real(self, match)
        if found is None:
            return None
        return found._replace(held={**found.held, "webchat": found.held.get("webchat", 0) + 1})

    monkeypatch.setattr(SqlQueueRepository, "claim_next", moving)


def test_a_claim_that_never_settles_says_busy_not_nothing_to_take(app, client, kanal, contended):
    """Items wait; the claim gives up after its attempts: the API answers 409 with a
    Retry-After, the desk's page says to try again, and nothing was handed out."""
    from router.entrypoints.auth import create_token
    from tests.integration.test_desk import queued_chat, sign_in

    contact_id = queued_chat(client, kanal)
    create_user(kanal.uow, "ann", "correct horse", "agent")
    ann = {"Authorization": f"Bearer {create_token(kanal.uow, 'ann', 'ann')}"}

    answer = client.post("/api/v1/desk/claim", headers=ann)
    assert answer.status_code == 409
    assert answer.headers["Retry-After"] == "1"
    assert "try Take next again" in answer.get_json()["error"]

    desk = sign_in(app, lambda name, role: create_user(kanal.uow, name, "correct horse", role))
    page = desk.post("/desk/claim", follow_redirects=True).get_data(as_text=True)
    assert "try Take next again" in page
    assert "Nobody is waiting right now." not in page
    assert kanal.views.contact(contact_id).state == "queued"
    assert [item.contact_id for item in kanal.views.queue()] == [contact_id]
