"""Deflection follow-ups on fakes: after the window, a callback is offered by SMS unless the
need was completed digitally; STOP is respected; a reply of CALL books the callback."""

from __future__ import annotations

from datetime import timedelta

import pytest

from router.domain import events as ev
from router.domain.callbacks import Callback
from router.domain.model import Contact, ContactEvent, ContactState, Message
from router.service.errors import NotFound
from router.service.followups import is_acceptance
from tests.fakes import fake_kanal

pytestmark = pytest.mark.unit

PHONE = "+4520003001"


def deflected_call(k, phone=PHONE, *, language="en", need="payment_date"):
    """A caller who took the digital route and whose call ended; return (contact id, citizen)."""
    citizen = k.add_citizen(phone, language=language)
    now = k.clock()
    with k.uow() as uow:
        contact = uow.contacts.add(
            Contact(channel="voice", address=phone, opened_at=now, state=ContactState.CLOSED,
                    citizen_id=citizen.id, need=need, closed_at=now, last_activity_at=now)
        )  # fmt: skip
        uow.commit()
        return contact.id, citizen


def test_the_follow_up_waits_for_its_window():
    k = fake_kanal(followup_window=timedelta(hours=48))
    contact_id, _ = deflected_call(k)
    followup_id = k.followups.schedule(contact_id, "payment_date")
    assert k.followups.schedule(contact_id, "payment_date") == followup_id, "once per deflection"
    assert k.jobs.due(k.clock() + timedelta(hours=47)) == []
    assert k.jobs.due(k.clock() + timedelta(hours=48)) == [f"followup-{followup_id}"]
    scheduled = [e for e in k.events(contact_id) if e.type == ev.FOLLOWUP_SCHEDULED]
    assert scheduled[0].data["followup_id"] == followup_id


def test_a_need_not_completed_gets_a_callback_offer_by_sms_in_the_citizens_language():
    k = fake_kanal()
    contact_id, _ = deflected_call(k, language="da")
    k.followups.schedule(contact_id, "payment_date")
    k.clock.advance(hours=48)
    assert k.jobs.run_due(k.clock()) == ["offered"]
    ((to, body, _callback),) = k.sender.sent
    assert to == PHONE and "svar RING" in body and "payment date" in body
    offered = [e for e in k.events(contact_id) if e.type == ev.FOLLOWUP_OFFERED][0]
    assert offered.data["sent"] is True and offered.data["contacted_again"] is False


def test_a_need_completed_digitally_gets_no_offer():
    k = fake_kanal()
    contact_id, citizen = deflected_call(k)
    k.followups.schedule(contact_id, "payment_date")
    done = k.followups.completed("payment_date", pseudonym=citizen.pseudonym)
    assert (done.citizen, done.followups_closed) == (citizen.pseudonym, 1)
    k.clock.advance(hours=48)
    assert k.jobs.run_due(k.clock()) == ["settled"]
    assert k.sender.sent == []
    (completed,) = [e for e in k.store.all(ContactEvent) if e.type == ev.DIGITAL_COMPLETED]
    assert (completed.citizen, completed.need) == (citizen.pseudonym, "payment_date")
    assert completed.data == {"source": "self_service", "followups_closed": 1}


def test_completion_of_another_need_leaves_the_follow_up_waiting():
    k = fake_kanal()
    contact_id, citizen = deflected_call(k)
    k.followups.schedule(contact_id, "payment_date")
    assert k.followups.completed("change_address", contact_id=contact_id).followups_closed == 0
    k.clock.advance(hours=48)
    assert k.jobs.run_due(k.clock()) == ["offered"]


def test_completion_naming_nobody_known_is_refused():
    k = fake_kanal()
    with pytest.raises(NotFound):
        k.followups.completed("payment_date", pseudonym="c_nobody")
    with pytest.raises(NotFound):
        k.followups.completed("payment_date", contact_id=999)


def test_no_offer_reaches_a_number_that_texted_stop():
    k = fake_kanal()
    contact_id, _ = deflected_call(k)
    from router.service.outbox import set_consent

    with k.uow() as uow:
        set_consent(uow, "sms", PHONE, False, "STOP", k.clock())
        uow.commit()
    k.followups.schedule(contact_id, "payment_date")
    k.clock.advance(hours=48)
    assert k.jobs.run_due(k.clock()) == ["not_sent"]
    assert k.sender.sent == []
    offered = [e for e in k.events(contact_id) if e.type == ev.FOLLOWUP_OFFERED][0]
    assert (offered.data["sent"], offered.data["why"]) == (False, "opted_out")


def test_replying_call_books_the_callback_and_confirms():
    k = fake_kanal()
    contact_id, _ = deflected_call(k)
    k.followups.schedule(contact_id, "payment_date")
    k.clock.advance(hours=48)
    k.jobs.run_due(k.clock())
    assert k.followups.accept_reply(PHONE, "call", "SMreply1") is True
    assert k.followups.accept_reply(PHONE, "call", "SMreply1") is True, "a retried webhook"
    (callback,) = k.store.all(Callback)
    assert callback.reason == "digital_not_completed" and callback.state == "booked"
    new_contact = k.contact(callback.contact_id)
    assert (new_contact.channel, new_contact.state) == ("voice", "queued")
    assert "An adviser will phone you" in k.sender.bodies(PHONE)[-1]
    assert ev.FOLLOWUP_ACCEPTED in k.event_types(contact_id)
    replies = [m for m in k.store.all(Message) if m.direction == "in"]
    assert [(m.text, m.provider_id) for m in replies] == [("call", "SMreply1")]


def test_call_without_an_open_offer_is_an_ordinary_message():
    k = fake_kanal()
    deflected_call(k)
    assert k.followups.accept_reply(PHONE, "CALL", "SM1") is False
    assert k.followups.accept_reply("+4599999999", "CALL", "SM2") is False
    assert k.followups.accept_reply(PHONE, "when is my pension paid", "SM3") is False


@pytest.mark.parametrize(
    ("text", "accepts"),
    [("CALL", True), ("call me!", True), ("Ring", True), ("ring mig op.", True),
     ("call the office tomorrow", False), ("STOP", False), ("", False)],
)  # fmt: skip
def test_what_counts_as_accepting_the_offer(text, accepts):
    assert is_acceptance(text) is accepts


def test_each_send_is_counted_by_channel_and_outcome_for_metrics():
    from tests.fakes import RecordingSender

    k = fake_kanal(sender=RecordingSender("refused"))
    for phone in (PHONE, "+4520003002"):
        contact_id, _ = deflected_call(k, phone)
        k.followups.schedule(contact_id, "payment_date")
    k.clock.advance(hours=48)
    k.jobs.run_due(k.clock())
    assert k.kanal.counters.read("deliveries") == {("sms", "refused"): 1, ("sms", "accepted"): 1}


def test_a_follow_up_whose_job_was_lost_gets_it_again_and_runs_once():
    k = fake_kanal()
    lost_id = k.followups.schedule(deflected_call(k)[0], "payment_date")
    done_id = k.followups.schedule(deflected_call(k, "+4520003002")[0], "payment_date")
    k.clock.advance(hours=48)
    k.jobs.jobs.pop(f"followup-{lost_id}")  # taken by a scheduler that was then killed
    assert k.jobs.run_due(k.clock()) == ["offered"]  # the other one

    assert k.followups.schedule_waiting() == 1
    assert k.jobs.due(k.clock()) == [f"followup-{lost_id}"]
    assert k.jobs.run_due(k.clock()) == ["offered"]
    assert k.followups.schedule_waiting() == 0, "offered: nothing to write again"
    assert sorted(to for to, _body, _cb in k.sender.sent) == [PHONE, "+4520003002"]
    assert done_id != lost_id
