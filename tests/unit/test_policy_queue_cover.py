"""A profile that sends citizens to a person no queue has is refused, as a trap is: a skill no
queue takes (a rule's, a surge rule's, the default's, [skills]', default_skill), a language
kanal speaks that has no queue, a channel whose capacity is 0 (router/policy/coverage.py)."""

from __future__ import annotations

import pytest

from router.policy import ProfileError, check_profile, load_profile, parse_profile, refuse_traps
from tests.unit.test_hostile_profiles import BOT_FIRST, WAYS_OUT, rule, surge_rule


def profile(extra: str = "", *, ways_out: str = WAYS_OUT, routing: str = "", surge: str = ""):
    return (
        'name = "hostile"\ndescription = "written to trap"\n'
        f"{extra}{ways_out}{surge}{BOT_FIRST}{routing}"
    )


def refused(text: str, languages: tuple[str, ...] = ()) -> str:
    with pytest.raises(ProfileError) as raised:
        refuse_traps(parse_profile(text, source="agency.toml"), languages)
    return str(raised.value)


def exempt_to(skill: str, when: str = "{ exempt = true }", action: str = "assisted") -> str:
    return rule("exempt-nowhere", when, action).replace(
        'reason = "x"', f'reason = "x"\nskill = "{skill}"'
    )


def test_an_exempt_citizen_sent_to_a_skill_with_no_queue_is_refused_naming_rule_and_skill():
    message = refused(profile(exempt_to("nowhere")))
    assert "rule 'exempt-nowhere' sends citizens to skill 'nowhere'" in message
    # Where, and the queues there are, so the author sees the choice.
    assert "which no queue takes on webchat, sms, voice (queues: general)" in message


def test_a_skill_that_has_a_queue_passes():
    skills = '[skills]\npension = "nowhere"\n'  # now a queue of its own (no [routing])
    assert refuse_traps(parse_profile(profile(skills + exempt_to("nowhere")))).name == "hostile"


def test_a_callback_rule_to_a_skill_with_no_queue_is_refused():
    message = refused(profile(exempt_to("ghost", "{ business_hours = false }", "callback")))
    assert "rule 'exempt-nowhere' sends citizens to skill 'ghost'" in message


def test_a_surge_rule_to_a_skill_with_no_queue_is_refused():
    surge = surge_rule("surge-elsewhere", "{ exempt = true }", "assisted").replace(
        'reason = "x"', 'reason = "x"\nskill = "overflow"'
    )
    message = refused(profile(surge=surge))
    assert "surge rule 'surge-elsewhere' sends citizens to skill 'overflow'" in message


def test_a_default_to_a_skill_with_no_queue_is_refused():
    text = profile().replace(
        '[default]\naction = "self_service"', '[default]\naction = "assisted"\nskill = "limbo"'
    )
    assert "[default] sends citizens to skill 'limbo'" in refused(text)


def test_a_rule_for_one_channel_needs_a_queue_on_that_channel_only():
    routing = (
        '\n[routing]\n[[routing.queue]]\nname = "phones"\nskills = ["callers"]\n'
        'channels = ["voice"]\n[[routing.queue]]\nname = "rest"\nskills = ["general"]\n'
    )
    on_voice = exempt_to("callers", '{ exempt = true, channel = "voice" }')
    assert refuse_traps(parse_profile(profile(on_voice, routing=routing)))
    on_sms = exempt_to("callers", '{ exempt = true, channel = "sms" }')
    message = refused(profile(on_sms, routing=routing))
    assert "skill 'callers', which no queue takes on sms (queues: phones, rest)" in message


def test_a_need_mapped_to_a_skill_the_routing_has_no_queue_for_is_refused():
    routing = '\n[routing]\n[[routing.queue]]\nname = "general"\nskills = ["general"]\n'
    message = refused(profile('[skills]\npension = "pension"\n', routing=routing))
    assert "[skills] pension sends citizens to skill 'pension', which no queue takes" in message


def test_default_skill_with_no_queue_is_refused():
    routing = '\n[routing]\n[[routing.queue]]\nname = "pension"\nskills = ["pension"]\n'
    message = refused(profile('[skills]\npension = "pension"\n', routing=routing))
    assert "default_skill sends citizens to skill 'general'" in message


LANGUAGE_QUEUES = """
[routing]
[[routing.queue]]
name = "danish"
languages = ["da"]
"""


def test_a_language_kanal_speaks_with_no_queue_is_refused_as_unstaffed():
    message = refused(profile(routing=LANGUAGE_QUEUES), languages=("da", "en"))
    assert "citizens speaking 'en' sent to skill 'general' have no queue on webchat" in message
    assert "language 'en' is unstaffed" in message
    assert "languages checked: da, en" in message
    # Danish only: every Danish speaker has a queue, and one of unknown language takes any.
    assert refuse_traps(parse_profile(profile(routing=LANGUAGE_QUEUES)), ("da",))


def test_a_language_staffed_on_one_channel_only_is_refused_for_the_others():
    routing = LANGUAGE_QUEUES + (
        '[[routing.queue]]\nname = "english-chat"\nlanguages = ["en"]\nchannels = ["webchat"]\n'
    )
    message = refused(profile(routing=routing), languages=("da", "en"))
    assert "'en' sent to skill 'general' have no queue on sms, voice" in message


def test_a_channel_with_no_capacity_is_refused():
    message = refused(profile(routing="\n[routing]\ncapacity = { voice = 0 }\n"))
    assert "[routing] capacity is 0 on voice" in message


def test_the_shipped_profiles_give_every_person_a_queue_in_danish_and_english():
    for name in ("denmark", "australia", "canada", "france"):
        report = check_profile(load_profile(name), languages=("da", "en"))
        assert report.ok, report.render()
        assert "every skill it sends citizens to has a queue in da, en" in report.render()
