"""The desk's handlers on fakes: who gets which contact, and what agents' replies do."""

import pytest

from router.domain import events as ev
from router.domain.commands import AgentReply, ClaimNext, ReceiveMessage, Resolve
from router.domain.model import ContactState, QueueItem
from router.service.desk import Desk
from router.service.errors import Conflict, Forbidden, NotFound
from tests.fakes import STATUS_CALLBACK, FakeUnitOfWork, fake_kanal

pytestmark = pytest.mark.unit

NUMBER = "+4520000004"


def wait_for_person(kanal, address, channel="sms"):
    """Have a citizen ask for a person; return their contact's id."""
    text = "I want a person"
    cmd = ReceiveMessage(channel, address, text, provider_id=f"{channel}-{address}-{text}")
    result = kanal.turns.receive(cmd)
    assert result.state == ContactState.QUEUED
    return result.contact_id


def claimed_contact(kanal, number=NUMBER):
    contact_id = wait_for_person(kanal, number)
    agent = kanal.add_agent()
    claimed = kanal.desk.claim_next(ClaimNext(agent_id=agent))
    assert claimed.contact_id == contact_id
    return agent, contact_id


def test_claim_next_gives_the_highest_priority_then_the_oldest_contact():
    kanal = fake_kanal()
    oldest = wait_for_person(kanal, "+4520000101")
    kanal.clock.advance(minutes=1)
    younger = wait_for_person(kanal, "+4520000102")
    kanal.clock.advance(minutes=1)
    kanal.add_citizen("+4520000103", exempt_ground="homeless")
    exempt = wait_for_person(kanal, "+4520000103")  # priority 2
    kanal.clock.advance(minutes=3)
    agent = kanal.add_agent()
    order = [kanal.desk.claim_next(ClaimNext(agent_id=agent)) for _ in range(4)]
    assert [c.contact_id for c in order[:3]] == [exempt, oldest, younger]
    assert order[3] is None  # the queue is empty
    assert [c.wait_seconds for c in order[:3]] == [180, 300, 240]


def test_two_agents_never_get_the_same_contact():
    kanal = fake_kanal()
    first = wait_for_person(kanal, "+4520000201")
    second = wait_for_person(kanal, "+4520000202")
    ann, bo = kanal.add_agent("ann"), kanal.add_agent("bo")
    to_ann = kanal.desk.claim_next(ClaimNext(agent_id=ann))
    to_bo = kanal.desk.claim_next(ClaimNext(agent_id=bo))
    assert {to_ann.contact_id, to_bo.contact_id} == {first, second}
    assert kanal.contact(to_ann.contact_id).agent_id == ann
    assert kanal.contact(to_bo.contact_id).agent_id == bo
    assert kanal.desk.claim_next(ClaimNext(agent_id=ann)) is None


def test_an_agent_who_loses_the_race_for_a_contact_gets_the_next_one():
    kanal = fake_kanal()
    first = wait_for_person(kanal, "+4520000301")
    kanal.clock.advance(seconds=10)
    second = wait_for_person(kanal, "+4520000302")
    ann, bo = kanal.add_agent("ann"), kanal.add_agent("bo")
    won: list = []

    class Racing(FakeUnitOfWork):
        """Bo's transaction: Ann claims the contact Bo has just seen, before Bo takes it."""

        def __enter__(self):
            super().__enter__()
            claim_next = self.queue.claim_next

            def seen_then_lost(skills):
                item = claim_next(skills)
                if not won:
                    won.append(kanal.desk.claim_next(ClaimNext(agent_id=ann)))
                return item

            self.queue.claim_next = seen_then_lost
            return self

    bos_desk = Desk(lambda: Racing(kanal.store), kanal.channels, kanal.delivery, kanal.clock)
    to_bo = bos_desk.claim_next(ClaimNext(agent_id=bo))
    assert won[0].contact_id == first
    assert to_bo.contact_id == second
    assert kanal.contact(first).agent_id == ann
    assert kanal.contact(second).agent_id == bo


def test_an_agent_only_gets_contacts_for_their_skills():
    kanal = fake_kanal()
    wait_for_person(kanal, "+4520000401")  # skill "general"
    agent = kanal.add_agent()
    assert kanal.desk.claim_next(ClaimNext(agent_id=agent, skills=("pension",))) is None
    assert kanal.desk.claim_next(ClaimNext(agent_id=agent, skills=("general",))) is not None


def test_a_reply_on_sms_goes_out_through_the_channels_sender():
    kanal = fake_kanal()
    agent, contact_id = claimed_contact(kanal)
    before = len(kanal.sender.sent)
    replied = kanal.desk.reply(
        AgentReply(agent_id=agent, contact_id=contact_id, text="  Hello, I can help.  ")
    )
    assert not replied.blocked
    assert kanal.sender.sent[before:] == [
        (NUMBER, "Hello, I can help.", f"{STATUS_CALLBACK}?m={replied.message.id}")
    ]
    [stored] = [m for m in kanal.messages(contact_id, "out") if m.author == "agent"]
    assert stored.delivery_status == "queued"
    assert stored.agent_id == agent


def test_only_the_first_reply_counts_as_the_first_answer():
    kanal = fake_kanal()
    agent, contact_id = claimed_contact(kanal)
    for text in ("Hello", "Anything else?"):
        kanal.desk.reply(AgentReply(agent_id=agent, contact_id=contact_id, text=text))
    firsts = [e.data["first"] for e in kanal.events(contact_id) if e.type == ev.AGENT_REPLIED]
    assert firsts == [True, False]
    assert kanal.queue_item(contact_id).answered_at == kanal.clock()


def test_a_reply_on_web_chat_is_stored_for_the_widget_and_sent_nowhere():
    kanal = fake_kanal()
    contact_id = wait_for_person(kanal, "session-9", channel="webchat")
    agent = kanal.add_agent()
    kanal.desk.claim_next(ClaimNext(agent_id=agent))
    replied = kanal.desk.reply(AgentReply(agent_id=agent, contact_id=contact_id, text="Hi"))
    assert replied.message.delivery_status is None
    assert kanal.sender.sent == []


def test_a_reply_to_an_opted_out_number_is_blocked_and_not_sent():
    kanal = fake_kanal()
    agent, contact_id = claimed_contact(kanal)
    kanal.turns.receive(ReceiveMessage("sms", NUMBER, "STOP", provider_id="SMstop", kind="opt_out"))
    before = len(kanal.sender.sent)
    replied = kanal.desk.reply(AgentReply(agent_id=agent, contact_id=contact_id, text="Hello"))
    assert replied.blocked
    assert len(kanal.sender.sent) == before
    blocked = [e for e in kanal.events(contact_id) if e.type == ev.MESSAGE_BLOCKED]
    assert blocked[0].data == {"message_id": replied.message.id, "why": "opted_out"}


def test_resolve_closes_the_contact_with_its_wrap_up():
    kanal = fake_kanal()
    agent, contact_id = claimed_contact(kanal)
    kanal.desk.resolve(
        Resolve(agent_id=agent, contact_id=contact_id, wrap_up="answered", completed=True)
    )
    contact = kanal.contact(contact_id)
    assert contact.state == ContactState.CLOSED
    assert contact.wrap_up == "answered"
    resolved = [e for e in kanal.events(contact_id) if e.type == ev.RESOLVED]
    assert resolved[0].data == {
        "by": "agent",
        "agent_id": agent,
        "wrap_up": "answered",
        "completed": True,
        "digital": True,
    }
    assert kanal.event_types(contact_id)[-1] == ev.CLOSED
    [item] = [q for q in kanal.store.all(QueueItem) if q.contact_id == contact_id]
    assert item.state == "done"


def test_a_resolved_contact_takes_no_more_replies():
    kanal = fake_kanal()
    agent, contact_id = claimed_contact(kanal)
    kanal.desk.resolve(Resolve(agent_id=agent, contact_id=contact_id, wrap_up="answered"))
    with pytest.raises(Conflict):
        kanal.desk.reply(AgentReply(agent_id=agent, contact_id=contact_id, text="Hello?"))


def test_replying_to_someone_elses_contact_is_forbidden():
    kanal = fake_kanal()
    _, contact_id = claimed_contact(kanal)
    other = kanal.add_agent("other")
    with pytest.raises(Forbidden):
        kanal.desk.reply(AgentReply(agent_id=other, contact_id=contact_id, text="Hi"))
    with pytest.raises(Forbidden):
        kanal.desk.resolve(Resolve(agent_id=other, contact_id=contact_id, wrap_up="answered"))
    assert kanal.contact(contact_id).state == ContactState.ASSIGNED


def test_an_empty_reply_or_an_unknown_contact_is_refused():
    kanal = fake_kanal()
    agent, contact_id = claimed_contact(kanal)
    with pytest.raises(Conflict):
        kanal.desk.reply(AgentReply(agent_id=agent, contact_id=contact_id, text="   "))
    with pytest.raises(NotFound):
        kanal.desk.reply(AgentReply(agent_id=agent, contact_id=999, text="Hi"))


def test_a_refused_reply_leaves_nothing_behind():
    kanal = fake_kanal()
    _, contact_id = claimed_contact(kanal)
    before = (kanal.messages(contact_id), kanal.event_types(contact_id))
    with pytest.raises(Forbidden):
        kanal.desk.reply(AgentReply(agent_id=12345, contact_id=contact_id, text="Hi"))
    assert (kanal.messages(contact_id), kanal.event_types(contact_id)) == before
