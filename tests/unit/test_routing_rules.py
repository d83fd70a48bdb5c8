"""Who may take what (router/domain/routing.py) and the queues section of a profile."""

from datetime import UTC, datetime, timedelta

import pytest

from router.domain.routing import (
    AgentProfile,
    Queue,
    Routing,
    load_of,
    match_for,
    queues_of,
    rank_at,
    room,
)
from router.policy import ProfileError, load_profile, parse_profile

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
ROUTING = Routing(
    queues=(
        Queue("pension-da", skills=("pension",), languages=("da",)),
        Queue("pension", skills=("pension",)),
        Queue("phones", channels=("voice",)),
        Queue("general"),
    ),
)


@pytest.mark.parametrize(
    ("skill", "language", "channel", "queue"),
    [
        ("pension", "da", "sms", "pension-da"),
        ("pension", "en", "sms", "pension"),
        ("pension", None, "webchat", "pension-da"),  # language not known yet: the first
        ("housing", "da", "voice", "phones"),
        ("housing", "da", "sms", "general"),
    ],
)
def test_a_contact_joins_the_first_queue_that_takes_it(skill, language, channel, queue):
    assert ROUTING.queue_for(skill, language, channel) == queue


def test_without_configured_queues_a_skill_is_its_own_queue():
    assert Routing().queue_for("housing", "da", "sms") == "housing"


def test_an_agent_serves_the_queues_their_skills_languages_and_channels_cover():
    english_pension = AgentProfile(1, skills=["pension"], languages=["en"])
    assert queues_of(english_pension, ROUTING) == ("pension", "phones", "general")
    no_phone = AgentProfile(2, skills=["pension"], capacity={"voice": 0})
    assert queues_of(no_phone, ROUTING) == ("pension-da", "pension", "general")
    assert queues_of(AgentProfile(3), ROUTING) is None  # no skills: every queue
    assert queues_of(None, ROUTING) is None


def test_capacity_leaves_room_only_below_each_channels_limit():
    agent = AgentProfile(1, capacity={"webchat": 2})
    assert room(agent, ROUTING, {"webchat": 1, "sms": 5, "voice": 0}) == ("voice", "webchat")
    assert room(agent, ROUTING, {"webchat": 2, "sms": 4, "voice": 1}) == ("sms",)
    assert load_of(["sms", "sms", "voice", None]) == {"sms": 2, "voice": 1}


def test_a_match_allows_only_the_agents_queues_languages_and_channels_with_room():
    agent = AgentProfile(1, skills=["pension"], languages=["en"], capacity={"voice": 1})
    match = match_for(1, agent, ROUTING, {"voice": 1})
    assert match.allows("pension", "sms", "en")
    assert not match.allows("pension", "voice", "en")  # a call at a time, and one is held
    assert not match.allows("pension", "sms", "da")  # not their language
    assert not match.allows("pension-da", "sms", None)  # not their queue
    assert match.allows("pension", "sms", None)  # the language is not known: anyone's


def test_priority_ranks_as_waiting_and_aging_lets_the_old_overtake():
    exempt = rank_at(NOW, 2, 300)
    waited_9_min = rank_at(NOW - timedelta(minutes=9), 0, 300)
    waited_11_min = rank_at(NOW - timedelta(minutes=11), 0, 300)
    assert exempt < waited_9_min  # priority 2 first...
    assert waited_11_min < exempt  # ...until a contact has waited 10 minutes longer
    assert rank_at(NOW, 1, 300) < rank_at(NOW - timedelta(seconds=1), 0, 0)


def test_the_shipped_profiles_have_one_queue_per_skill_and_the_default_capacities():
    routing = load_profile("denmark").routing
    assert "pension" in routing.names() and "general" in routing.names()
    assert dict(routing.capacity) == {"webchat": 3, "sms": 5, "voice": 1}


BASE = """
name = "agency"
description = "test"
[default]
action = "self_service"
reason = "bot first"
"""


def test_an_agency_writes_its_queues_capacities_and_timers_in_its_profile():
    routing = parse_profile(
        BASE
        + """
[routing]
offer_seconds = 20
capacity = { webchat = 2 }
[[routing.queue]]
name = "danish"
languages = ["da"]
[[routing.queue]]
name = "rest"
"""
    ).routing
    assert routing.names() == ("danish", "rest")
    assert routing.offer_seconds == 20
    assert dict(routing.capacity)["webchat"] == 2
    assert dict(routing.capacity)["sms"] == 5


@pytest.mark.parametrize(
    ("section", "says"),
    [
        ("[routing]\nspeed = 3", r"unknown setting\(s\) speed"),
        ("[routing]\ncapacity = { fax = 1 }", "'fax', not a channel"),
        ("[routing]\noffer_seconds = 1", "offer_seconds must be a whole number from 5"),
        ('[[routing.queue]]\nname = "A b"', "name must be a lowercase name"),
        ('[[routing.queue]]\nname = "x"\nchannels = ["fax"]', "channels must be a list"),
        ('[[routing.queue]]\nname = "x"\n[[routing.queue]]\nname = "x"', "same name"),
    ],
)
def test_a_routing_section_with_a_mistake_is_refused_saying_what(section, says):
    with pytest.raises(ProfileError, match=says):
        parse_profile(BASE + section)


def test_a_queue_says_why_a_contact_of_another_language_or_channel_does_not_belong():
    from router.domain.routing import Queue, Routing

    routing = Routing(
        queues=(
            Queue("danish-chat", languages=("da",), channels=("webchat",)),
            Queue("anything"),
        )
    )
    assert routing.misfit("danish-chat", "webchat", "da") is None
    assert routing.misfit("danish-chat", "webchat", None) is None  # language not known yet
    assert "in da, not this one in en" in routing.misfit("danish-chat", "webchat", "en")
    assert "on webchat, not sms" in routing.misfit("danish-chat", "sms", "da")
    assert routing.misfit("anything", "voice", "en") is None
    assert routing.misfit("not-configured", "voice", "en") is None  # a skill's own queue
