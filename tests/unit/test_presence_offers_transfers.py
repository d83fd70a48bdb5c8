"""Presence, offers and transfers change only by their methods, which check the move."""

from datetime import UTC, datetime, timedelta

import pytest

from router.domain.model import IllegalTransition, QueueItem, QueueState, User
from router.domain.offers import Offer, OfferState
from router.domain.presence import (
    Presence,
    PresenceState,
    StatusChange,
    parse_status,
    time_in_states,
)
from router.domain.transfers import Transfer

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def test_an_agent_signs_in_works_takes_a_break_and_signs_out_each_move_recorded():
    p = Presence(agent_id=7)
    assert p.working(NOW)
    assert p.state == PresenceState.AVAILABLE and p.takes_offers
    assert p.change(PresenceState.BUSY, NOW) and not p.takes_offers
    assert p.change(PresenceState.AWAY, NOW)
    assert not p.change(PresenceState.AWAY, NOW)  # already away: nothing happens
    assert p.sign_out(NOW)
    moves = [(e.data["from"], e.data["to"]) for e in p.collect_events()]
    assert moves == [
        ("offline", "available"),
        ("available", "busy"),
        ("busy", "away"),
        ("away", "offline"),
    ]


def test_an_offline_agent_cannot_become_busy_and_an_unknown_status_is_named():
    with pytest.raises(IllegalTransition):
        Presence(agent_id=7).change(PresenceState.BUSY, NOW)
    with pytest.raises(ValueError, match="available, busy, away, offline"):
        parse_status("lunch")


def test_an_agent_not_seen_for_the_timeout_goes_offline():
    p = Presence(agent_id=7)
    p.working(NOW)
    assert not p.time_out(NOW + timedelta(minutes=4), timedelta(minutes=5))
    assert p.time_out(NOW + timedelta(minutes=5), timedelta(minutes=5))
    assert p.state == PresenceState.OFFLINE
    assert p.collect_events()[-1].data["why"] == "timed out"


def test_a_sign_out_ends_what_was_signed_before_it_and_a_new_session_starts_after_it():
    user = User(username="agent1", password_hash="x", role="agent")
    assert user.issued_in_session(NOW) and user.session_start(NOW) == NOW
    user.sign_out(NOW + timedelta(minutes=10))  # stamped by a clock that runs ahead
    assert not user.issued_in_session(NOW)  # a session (or live token) from before
    start = user.session_start(NOW + timedelta(minutes=1))  # signing in again, at once
    assert start > user.signed_out_at and user.issued_in_session(start)
    later = NOW + timedelta(minutes=11)
    assert user.session_start(later) == later
    user.active = False
    assert not user.issued_in_session(later)  # deactivated: nothing of theirs is valid


def test_a_sign_out_ends_a_session_begun_after_a_sign_out_stamped_ahead():
    user = User(username="agent1", password_hash="x", role="agent")
    user.sign_out(NOW + timedelta(minutes=10))  # a time-out stamped by a clock running ahead
    start = user.session_start(NOW + timedelta(minutes=1))  # they sign in again at once
    user.sign_out(NOW + timedelta(minutes=2))  # and sign out, on the web's clock
    assert not user.issued_in_session(start)  # that session is over too
    assert user.issued_in_session(user.session_start(NOW + timedelta(minutes=3)))


def offer(**kw) -> Offer:
    return Offer(
        queue_item_id=1, contact_id=2, agent_id=7, channel="sms", offered_at=NOW,
        expires_at=NOW + timedelta(seconds=30), id=5, **kw,
    )  # fmt: skip


def test_an_offer_is_accepted_in_time_by_its_agent_only():
    o = offer()
    with pytest.raises(IllegalTransition):
        o.accept(8, NOW)
    o.accept(7, NOW + timedelta(seconds=10))
    assert o.state == OfferState.ACCEPTED
    with pytest.raises(IllegalTransition):
        o.decline(NOW)


def test_an_offer_expires_only_after_its_time_and_then_cannot_be_accepted():
    o = offer()
    with pytest.raises(IllegalTransition):
        o.expire(NOW + timedelta(seconds=29))
    with pytest.raises(IllegalTransition):
        o.accept(7, NOW + timedelta(seconds=30))
    o.expire(NOW + timedelta(seconds=30))
    assert o.state == OfferState.EXPIRED
    assert [e.type for e in o.collect_events()] == ["offer_expired"]


def test_a_transferred_item_ends_and_a_transfer_records_where_it_went_not_the_note():
    item = QueueItem(contact_id=2, skill="pension", priority=0, enqueued_at=NOW)
    item.claim(7, NOW)
    item.transfer(NOW)
    assert item.state == QueueState.TRANSFERRED
    with pytest.raises(IllegalTransition):
        item.transfer(NOW)
    t = Transfer(contact_id=2, by_id=7, from_queue="pension", to_queue="housing",
                 note="Citizen moved; needs housing benefit", at=NOW, id=3)  # fmt: skip
    t.made()
    [event] = t.collect_events()
    assert event.data == {
        "transfer_id": 3, "from_queue": "pension", "to_queue": "housing", "to_agent_id": None,
        "by": 7,
    }  # fmt: skip
    with pytest.raises(IllegalTransition):
        Transfer(contact_id=2, by_id=7, from_queue="a", to_queue="a", note="", at=NOW,
                 to_agent_id=7)  # fmt: skip


def test_an_agents_day_adds_up_the_time_in_each_state_from_their_changes():
    midnight = NOW.replace(hour=0)
    at = lambda h, m=0: midnight + timedelta(hours=h, minutes=m)  # noqa: E731
    changes = [
        StatusChange(at(8), "offline", "available", "took work"),
        StatusChange(at(10), "available", "away", "agent"),
        StatusChange(at(10, 30), "away", "available", "agent"),
        StatusChange(at(12), "available", "offline", "signed out"),
    ]
    spent = time_in_states(changes, midnight, at(13), "offline")
    assert spent == {"offline": 9 * 3600, "available": 3.5 * 3600, "away": 1800, "busy": 0}
    assert sum(spent.values()) == 13 * 3600
    # No change yet today: in the state they are in now, all along.
    assert time_in_states([], midnight, at(1), "available")["available"] == 3600
