"""Whether anyone can take the work: a language, queue or channel no agent covers is shown,
not silently left to wait (router/domain/staffing.py)."""

from router.domain.routing import AgentProfile, Queue, Routing
from router.domain.staffing import (
    StaffingGap,
    StaffMember,
    Work,
    gaps,
    routed_work,
    unserved,
    waiting_by_work,
)

ROUTING = Routing(
    queues=(
        Queue("pension-da", skills=("pension",), languages=("da",)),
        Queue("pension-en", skills=("pension",), languages=("en",)),
        Queue("phone", channels=("voice",)),
    )
)


def agent(user_id, presence="available", **profile):
    return StaffMember(AgentProfile(user_id, **profile), presence)


def test_a_danish_queue_with_only_english_speakers_is_served_by_nobody():
    staff = [agent(1, skills=["pension"], languages=["en"])]
    work = Work("pension-da", "da", "webchat")
    assert gaps([work], staff, ROUTING) == {work: StaffingGap.NOBODY_SERVES}


def test_an_agent_who_could_take_it_but_is_away_or_offline_is_not_at_the_desk():
    work = Work("pension-da", "da", "sms")
    for presence in ("away", "offline"):
        staff = [agent(1, presence, skills=["pension"], languages=["da"])]
        assert gaps([work], staff, ROUTING) == {work: StaffingGap.NOBODY_SIGNED_IN}
    for presence in ("available", "busy"):
        staff = [agent(1, presence, skills=["pension"], languages=["da"])]
        assert gaps([work], staff, ROUTING) == {}


def test_an_agent_with_no_phone_capacity_does_not_serve_the_phone():
    work = Work("phone", "da", "voice")
    staff = [agent(1, languages=["da"], capacity={"voice": 0})]
    assert gaps([work], staff, ROUTING) == {work: StaffingGap.NOBODY_SERVES}
    staff.append(agent(2, "busy", languages=["da", "en"]))
    assert gaps([work], staff, ROUTING) == {}


def test_an_agent_with_no_profile_or_empty_lists_takes_anything():
    work = Work("pension-da", "da", "voice")
    assert gaps([work], [StaffMember(None, "available")], ROUTING) == {}
    assert gaps([work], [agent(1)], ROUTING) == {}


def test_a_contact_whose_language_is_not_known_yet_is_taken_by_any_speaker():
    work = Work("phone", None, "voice")
    assert gaps([work], [agent(1, languages=["en"])], ROUTING) == {}


def test_routed_work_is_every_queue_language_and_channel_the_queues_take():
    work = routed_work(ROUTING, ["da", "en"])
    assert Work("pension-da", "da", "sms") in work
    assert Work("pension-da", "en", "sms") not in work
    assert Work("phone", "en", "voice") in work
    assert Work("phone", "en", "sms") not in work
    assert len(work) == 3 + 3 + 2


def test_without_configured_queues_each_skill_is_a_queue():
    routing = Routing(skills=(("payment_date", "payments"),), default_skill="general")
    work = routed_work(routing, ["da"])
    assert {w.queue for w in work} == {"payments", "general"}
    staff = [agent(1, skills=["payments"], languages=["da"])]
    assert {w.queue for w in unserved(routing, ["da"], staff)} == {"general"}


def test_the_check_lists_what_no_profile_covers_whoever_is_signed_in():
    staff = [
        agent(1, "offline", skills=["pension"], languages=["da"]),
        agent(2, "offline", languages=["en"], capacity={"voice": 0}),
    ]
    assert unserved(ROUTING, ["da", "en"], staff) == [
        Work("pension-en", "en", "voice"),  # the English speaker takes no calls
        Work("phone", "en", "voice"),
    ]


def test_waiting_contacts_are_counted_by_queue_language_and_channel():
    counted = waiting_by_work([("q", "da", "sms"), ("q", "da", "sms"), ("q", None, "sms")])
    assert counted == {Work("q", "da", "sms"): 2, Work("q", None, "sms"): 1}
