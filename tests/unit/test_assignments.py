"""Claims, offers, presence and transfers on fakes (router/service/assignments.py)."""

import pytest

from router.domain import events as ev
from router.domain.commands import ClaimNext, ReceiveMessage
from router.domain.model import ContactEvent, ContactState
from router.domain.presence import PresenceState
from router.service.errors import Conflict, Forbidden, NotFound
from tests.fakes import fake_kanal

pytestmark = pytest.mark.unit


def waiting(kanal, address, channel="sms"):
    """Have a citizen ask for a person; return their contact's id."""
    text = "I want a person"
    result = kanal.turns.receive(
        ReceiveMessage(channel, address, text, provider_id=f"{channel}-{address}")
    )
    assert result.state == ContactState.QUEUED
    return result.contact_id


def test_an_agent_receives_nothing_beyond_their_capacity_on_a_channel():
    kanal = fake_kanal()
    agent = kanal.add_agent()
    kanal.assignments.set_profile(agent, capacity={"sms": 2})
    for n in range(3):
        waiting(kanal, f"+452000010{n}")
    assert kanal.desk.claim_next(ClaimNext(agent_id=agent)) is not None
    assert kanal.desk.claim_next(ClaimNext(agent_id=agent)) is not None
    assert kanal.desk.claim_next(ClaimNext(agent_id=agent)) is None


def test_an_agent_receives_only_their_queues():
    kanal = fake_kanal()
    agent = kanal.add_agent()
    kanal.assignments.set_profile(agent, skills=["pension"])
    waiting(kanal, "+4520000101")  # a request for a person: the general queue
    assert kanal.desk.claim_next(ClaimNext(agent_id=agent)) is None
    kanal.assignments.set_profile(agent, skills=["pension", "general"])
    assert kanal.desk.claim_next(ClaimNext(agent_id=agent)) is not None


def test_taking_work_makes_an_agent_available_and_offers_go_only_to_available_agents():
    kanal = fake_kanal()
    ann, bo = kanal.add_agent("ann"), kanal.add_agent("bo")
    kanal.assignments.set_presence(ann, PresenceState.AVAILABLE)
    kanal.assignments.set_presence(bo, PresenceState.AWAY)
    contact = waiting(kanal, "+4520000101")
    assert kanal.assignments.offer_waiting() == {"expired": 0, "offered": 1}
    [offer] = kanal.assignments.offers_for(ann)
    assert offer.contact_id == contact and kanal.assignments.offers_for(bo) == []
    # Bo takes work: not the contact offered to Ann.
    assert kanal.desk.claim_next(ClaimNext(agent_id=bo)) is None
    assert kanal.assignments.presence(bo).state == PresenceState.AVAILABLE
    assert kanal.desk.claim_next(ClaimNext(agent_id=ann)).contact_id == contact


def test_an_offer_not_accepted_in_time_goes_to_the_next_agent():
    kanal = fake_kanal()
    ann, bo = kanal.add_agent("ann"), kanal.add_agent("bo")
    for agent in (ann, bo):
        kanal.assignments.set_presence(agent, PresenceState.AVAILABLE)
    contact = waiting(kanal, "+4520000101")
    kanal.assignments.offer_waiting()
    [first] = [a for a in (ann, bo) if kanal.assignments.offers_for(a)]
    second = bo if first == ann else ann
    kanal.clock.advance(seconds=kanal.settings.routing.offer_seconds)
    assert kanal.assignments.offer_waiting() == {"expired": 1, "offered": 1}
    assert kanal.assignments.offers_for(first) == []
    assert kanal.assignments.offers_for(second)[0].contact_id == contact
    types = [e.type for e in kanal.store.all(ContactEvent) if e.contact_id == contact]
    assert types.count("offer_made") == 2 and "offer_expired" in types


def test_going_offline_withdraws_an_agents_offers():
    kanal = fake_kanal()
    ann = kanal.add_agent("ann")
    kanal.assignments.set_presence(ann, PresenceState.AVAILABLE)
    waiting(kanal, "+4520000101")
    kanal.assignments.offer_waiting()
    kanal.assignments.sign_out(ann)
    assert kanal.assignments.offers_for(ann) == []
    assert kanal.assignments.presence(ann).state == PresenceState.OFFLINE


def test_an_agent_not_seen_for_the_timeout_goes_offline():
    kanal = fake_kanal()
    ann = kanal.add_agent("ann")
    kanal.assignments.set_presence(ann, PresenceState.AVAILABLE)
    kanal.clock.advance(seconds=kanal.settings.routing.presence_timeout_seconds - 1)
    assert kanal.assignments.time_out_absent() == 0
    kanal.assignments.seen(ann)
    kanal.clock.advance(seconds=kanal.settings.routing.presence_timeout_seconds)
    assert kanal.assignments.time_out_absent() == 1


def test_a_transfer_to_a_queue_lands_there_with_its_note():
    kanal = fake_kanal()
    ann, bo = kanal.add_agent("ann"), kanal.add_agent("bo")
    kanal.assignments.set_profile(ann, skills=["general"])
    kanal.assignments.set_profile(bo, skills=["housing"])
    contact = waiting(kanal, "+4520000101")
    kanal.desk.claim_next(ClaimNext(agent_id=ann))
    assert kanal.desk.claim_next(ClaimNext(agent_id=bo)) is None
    moved = kanal.assignments.transfer(ann, contact, queue="housing", note="Housing benefit.")
    assert moved.to_queue == "housing"
    with kanal.uow() as uow:
        assert uow.contacts.get(contact).state == ContactState.QUEUED
    assert kanal.desk.claim_next(ClaimNext(agent_id=bo)).contact_id == contact
    [t] = kanal.assignments.transfers(contact)
    assert (t.note, t.from_queue, t.to_queue) == ("Housing benefit.", "general", "housing")
    events = [e for e in kanal.store.all(ContactEvent) if e.contact_id == contact]
    assert [e.data.get("queue") for e in events if e.type == ev.QUEUED] == ["general", "housing"]
    assert all("Housing" not in str(e.data) for e in events)  # the note is not in the log


def test_a_transfer_to_an_agent_is_offered_to_them_first():
    kanal = fake_kanal()
    ann, bo, cy = kanal.add_agent("ann"), kanal.add_agent("bo"), kanal.add_agent("cy")
    contact = waiting(kanal, "+4520000101")
    kanal.desk.claim_next(ClaimNext(agent_id=ann))
    kanal.assignments.transfer(ann, contact, agent=bo, note="Over to you")
    assert kanal.desk.claim_next(ClaimNext(agent_id=cy)) is None
    assert kanal.desk.claim_next(ClaimNext(agent_id=bo)).contact_id == contact


def test_only_the_holder_transfers_and_to_a_queue_or_agent_that_exists():
    kanal = fake_kanal()
    ann, bo = kanal.add_agent("ann"), kanal.add_agent("bo")
    contact = waiting(kanal, "+4520000101")
    kanal.desk.claim_next(ClaimNext(agent_id=ann))
    with pytest.raises(Forbidden):
        kanal.assignments.transfer(bo, contact, queue="housing")
    with pytest.raises(NotFound, match="No such queue: nowhere"):
        kanal.assignments.transfer(ann, contact, queue="nowhere")
    with pytest.raises(NotFound, match="No such agent"):
        kanal.assignments.transfer(ann, contact, agent=999)
    with pytest.raises(Conflict):
        kanal.assignments.transfer(ann, contact, queue="housing", agent=bo)
