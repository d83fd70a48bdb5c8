"""Each shipped profile behaves as its country's digital-first model says (docs/domain.md §2)."""

from __future__ import annotations

import pytest

from router.policy import (
    CHANNELS,
    EXEMPTION_GROUNDS,
    Action,
    PolicyContext,
    available_profiles,
    decide,
    load_profile,
)
from router.policy.context import GROUND_WORDS

pytestmark = pytest.mark.unit

PROFILES = ("australia", "canada", "denmark", "france")
ALL = pytest.mark.parametrize("name", PROFILES)


def ctx(channel="webchat", **fields) -> PolicyContext:
    return PolicyContext(channel=channel, **fields)


def answered(channel="webchat", need="payment_date", confidence=0.92, **fields) -> PolicyContext:
    """A context after the bot recognised a need with good confidence."""
    return PolicyContext(channel=channel, need=need, confidence=confidence, **fields)


def test_the_four_country_profiles_are_shipped():
    assert available_profiles() == list(PROFILES)
    for name in PROFILES:
        profile = load_profile(name)
        assert profile.name == name
        assert profile.description


# --- Denmark: digital by default, with a paper exit ----------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("ground", EXEMPTION_GROUNDS)
def test_denmark_sends_an_exempt_citizen_straight_to_a_person_with_priority(channel, ground):
    decision = decide(ctx(channel, exemptions=(ground,), identified=True), load_profile("denmark"))

    assert decision.action == Action.ASSISTED
    assert decision.priority >= 2
    assert f"({GROUND_WORDS[ground]})" in decision.reason
    assert decision.reason.startswith("Registered exemption from digital self-service")


def test_denmark_reason_for_an_impairment_reads_as_the_auditor_expects():
    decision = decide(ctx(exemptions=("impairment",), identified=True), load_profile("denmark"))

    assert decision.reason == (
        "Registered exemption from digital self-service (impairment): served by a person, "
        "with priority."
    )
    assert decision.rule_id == "exempt-to-person"


def test_denmark_serves_an_exempt_citizen_before_one_who_only_asked_for_a_person():
    denmark = load_profile("denmark")
    exempt = decide(ctx(exemptions=("language",), identified=True), denmark)
    asked = decide(ctx(asked_for_person=True), denmark)

    assert exempt.priority > asked.priority


@pytest.mark.parametrize("channel", CHANNELS)
def test_denmark_lets_the_digital_assistant_answer_first_on_every_channel(channel):
    denmark = load_profile("denmark")

    assert decide(ctx(channel), denmark).action == Action.SELF_SERVICE
    if channel == "voice":  # the answer is spoken, and the link offered by SMS, once
        assert decide(answered(channel), denmark).action == Action.OFFER_DIGITAL
        offered = answered(channel, digital_offered=True)
        assert decide(offered, denmark).action == Action.SELF_SERVICE
    else:
        assert decide(answered(channel), denmark).action == Action.SELF_SERVICE


def test_denmark_gives_a_person_to_whoever_asks():
    decision = decide(ctx(asked_for_person=True), load_profile("denmark"))

    assert decision.action == Action.ASSISTED
    assert "asked for a person" in decision.reason


def test_denmark_gives_a_person_after_two_failed_bot_turns_but_not_after_one():
    denmark = load_profile("denmark")
    once = decide(answered(need="nlu_fallback", confidence=0.2, bot_failures=1), denmark)
    twice = decide(answered(need="nlu_fallback", confidence=0.2, bot_failures=2), denmark)

    assert once.action == Action.SELF_SERVICE
    assert twice.action == Action.ASSISTED
    assert twice.rule_id == "bot-failed-twice"
    assert "2 times in a row" in twice.reason


def test_denmark_gives_a_person_when_the_bot_is_down():
    decision = decide(
        answered(need=None, confidence=None, bot_available=False, bot_failures=1),
        load_profile("denmark"),
    )

    assert decision.action == Action.ASSISTED
    assert "not working" in decision.reason


# --- Every profile: out of hours, skills, repeat contacts, goodbye -----------------------------


@ALL
@pytest.mark.parametrize(
    "trigger",
    [
        {"asked_for_person": True},
        {"exemptions": ("homeless",), "identified": True},
        # France offers support once before its substitute route, hence digital_offered.
        {"bot_failures": 3, "need": "nlu_fallback", "confidence": 0.1, "digital_offered": True},
    ],
)
def test_out_of_hours_a_citizen_who_needs_a_person_gets_a_callback(name, trigger):
    decision = decide(ctx(business_hours=False, **trigger), load_profile(name))

    assert decision.action == Action.CALLBACK
    assert "as soon as we open" in decision.reason


@ALL
def test_a_person_is_given_on_the_first_request_in_business_hours(name):
    decision = decide(ctx("webchat", asked_for_person=True), load_profile(name))

    assert decision.action == Action.ASSISTED


@ALL
@pytest.mark.parametrize(
    ("need", "skill"),
    [
        ("apply_benefit:pension", "pension"),
        ("apply_benefit:child", "family"),
        ("apply_benefit:housing", "housing"),
        ("apply_benefit:unemployment", "unemployment"),
        ("apply_benefit:disability", "disability"),
        ("payment_date", "general"),
        (None, "general"),
    ],
)
def test_assisted_contacts_are_queued_for_the_skill_of_their_need(name, need, skill):
    decision = decide(ctx(asked_for_person=True, need=need, confidence=0.9), load_profile(name))

    assert decision.skill == skill


@ALL
def test_a_repeat_contact_on_the_same_need_is_served_sooner(name):
    profile = load_profile(name)
    first = decide(ctx(asked_for_person=True, need="missing_payment"), profile)
    again = decide(ctx(asked_for_person=True, need="missing_payment", repeat_contact=True), profile)

    assert again.priority > first.priority


@ALL
def test_decisions_that_keep_the_citizen_digital_carry_no_queue(name):
    decision = decide(ctx(), load_profile(name))

    assert decision.action == Action.SELF_SERVICE
    assert decision.skill is None
    assert decision.priority == 0


@ALL
def test_goodbye_closes_only_a_conversation_the_bot_was_handling_well(name):
    profile = load_profile(name)

    assert decide(answered(need="goodbye", confidence=0.95), profile).action == Action.CLOSE
    assert decide(answered(need="goodbye", confidence=0.5), profile).action != Action.CLOSE
    failed = decide(answered(need="goodbye", confidence=0.95, bot_failures=1), profile)
    assert failed.action != Action.CLOSE


# --- Australia and Canada: voluntary digital ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "route"), [("australia", "myGov"), ("canada", "My Service Canada")]
)
def test_voluntary_profiles_offer_the_digital_route_once_on_the_phone(name, route):
    profile = load_profile(name)
    offer = decide(answered("voice"), profile)
    later = decide(answered("voice", digital_offered=True), profile)

    assert offer.action == Action.OFFER_DIGITAL
    assert route in offer.reason
    assert "payment date" in offer.reason
    pension = decide(answered("voice", need="apply_benefit:pension"), profile)
    assert "(apply benefit (pension))" in pension.reason
    assert later.action == Action.SELF_SERVICE


@pytest.mark.parametrize("name", ["australia", "canada"])
def test_voluntary_profiles_do_not_offer_digital_to_a_caller_the_bot_did_not_understand(name):
    decision = decide(answered("voice", need="payment_date", confidence=0.3), load_profile(name))

    assert decision.action == Action.SELF_SERVICE


def test_australia_does_not_push_the_digital_route_in_web_chat():
    assert decide(answered("webchat"), load_profile("australia")).action == Action.SELF_SERVICE


def test_canada_offers_the_online_account_by_sms_too():
    assert decide(answered("sms"), load_profile("canada")).action == Action.OFFER_DIGITAL


@pytest.mark.parametrize(("name", "target"), [("australia", 900), ("canada", 600)])
def test_voluntary_profiles_call_back_rather_than_keep_a_caller_beyond_the_target(name, target):
    profile = load_profile(name)
    long = decide(ctx("voice", asked_for_person=True, queue_wait_seconds=target + 60), profile)
    short = decide(ctx("voice", asked_for_person=True, queue_wait_seconds=target), profile)

    assert long.action == Action.CALLBACK
    assert f"about {round((target + 60) / 60)} minutes" in long.reason
    assert short.action == Action.ASSISTED


@pytest.mark.parametrize("name", ["australia", "canada", "france"])
def test_voluntary_profiles_serve_an_exempt_citizen_by_a_person(name):
    decision = decide(ctx("sms", exemptions=("no_computer",), identified=True), load_profile(name))

    assert decision.action == Action.ASSISTED
    assert "no computer at home" in decision.reason


# --- France: support first, then a substitute route (Conseil d'État, 3 June 2022) ---------------


def test_france_offers_support_after_two_failures_then_a_person_if_it_fails_again():
    france = load_profile("france")
    support = decide(answered(need="nlu_fallback", confidence=0.2, bot_failures=2), france)
    substitute = decide(
        answered(need="nlu_fallback", confidence=0.2, bot_failures=3, digital_offered=True), france
    )

    assert support.action == Action.OFFER_DIGITAL
    assert "France Services" in support.reason
    assert "Conseil d'État" in support.reason
    assert substitute.action == Action.ASSISTED
    assert substitute.rule_id == "substitute-route"
    assert "substitute route" in substitute.reason


def test_france_gives_the_substitute_route_to_an_exempt_citizen_citing_the_ruling():
    decision = decide(ctx(exemptions=("no_digital_id",), identified=True), load_profile("france"))

    assert decision.action == Action.ASSISTED
    assert "no digital ID" in decision.reason
    assert "Conseil d'État, 3 June 2022" in decision.reason
