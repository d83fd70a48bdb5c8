"""Surge mode: when it starts and ends (hysteresis), what its rules decide, and the policy
check that proves surge rules trap no citizen and leave exempt citizens their person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from router.domain.surge import (
    SURGE_ENDED,
    SURGE_STARTED,
    Surge,
    SurgeThresholds,
    estimated_wait,
    queue_wait,
    queue_wait_of,
)
from router.policy import Action, PolicyContext, ProfileError, check_profile, decide, parse_profile
from router.policy.profile import PROFILES_DIR, available_profiles, load_profile

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
LIMITS = SurgeThresholds(enter_wait_seconds=600, exit_wait_seconds=180, min_seconds=300)
DENMARK = load_profile("denmark")
DENMARK_TEXT = (PROFILES_DIR / "denmark.toml").read_text(encoding="utf-8")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def watch(surge: Surge, waits: list[tuple[float, int]]) -> list[str]:
    """Feed (minute, wait) pairs to the surge; return the events it recorded."""
    for minute, wait in waits:
        surge.watch(wait, at(minute), LIMITS, "denmark")
    return [e.type for e in surge.collect_events()]


# -- when a surge starts and ends ---------------------------------------------------------------


def test_a_surge_starts_when_the_wait_reaches_the_threshold():
    surge = Surge()

    assert watch(surge, [(0, 599)]) == []
    assert watch(surge, [(1, 600)]) == [SURGE_STARTED]
    assert surge.active and surge.started_at == at(1) and surge.started_wait_seconds == 600


def test_a_wait_between_the_two_thresholds_changes_nothing_either_way():
    off, on = Surge(), Surge(at(0), 700, 600)

    assert watch(off, [(5, 400), (20, 599)]) == []
    assert watch(on, [(30, 400), (60, 181)]) == []
    assert not off.active and on.active


def test_a_surge_ends_by_itself_once_the_wait_falls_below_the_exit_threshold():
    surge = Surge()
    events = watch(surge, [(0, 900), (6, 180)])

    assert events == [SURGE_STARTED, SURGE_ENDED]
    assert not surge.active


def test_a_surge_lasts_its_minimum_duration_so_it_does_not_flap():
    surge = Surge()

    # The wait drops at once after the start: the surge holds until 5 minutes have passed.
    assert watch(surge, [(0, 700), (1, 0), (4.9, 0)]) == [SURGE_STARTED]
    assert watch(surge, [(5, 0)]) == [SURGE_ENDED]


def test_a_wait_hovering_at_the_entry_threshold_starts_one_surge_not_many():
    surge = Surge()
    waits = [(m, 600 if m % 2 == 0 else 590) for m in range(0, 20)]

    assert watch(surge, waits) == [SURGE_STARTED]


def test_the_end_event_says_how_long_it_lasted_and_why():
    surge = Surge()
    surge.watch(800, at(0), LIMITS, "denmark")
    surge.collect_events()
    surge.watch(100, at(12), LIMITS, "denmark")

    (ended,) = surge.collect_events()
    assert ended.data["lasted_seconds"] == 720
    assert ended.data["wait_seconds"] == 100 and ended.data["exit_wait_seconds"] == 180


def test_the_surge_under_way_is_read_back_from_the_latest_surge_event():
    started = Surge.from_log(SURGE_STARTED, at(0), {"wait_seconds": 700, "enter_wait_seconds": 600})
    ended = Surge.from_log(SURGE_ENDED, at(9), {})

    assert started.active and started.started_wait_seconds == 700
    assert not ended.active and not Surge.from_log(None, None, None).active


def test_thresholds_that_would_flap_are_refused():
    with pytest.raises(ValueError):
        SurgeThresholds(enter_wait_seconds=300, exit_wait_seconds=300)


def test_the_wait_watched_is_the_longest_wait_or_the_wait_behind_everyone():
    answered = [at(0), at(1), at(2)]  # one answer a minute

    assert queue_wait([], answered, at(3), 240) == 0
    # Three waiting, one answered a minute: a newcomer waits about 3 minutes.
    assert queue_wait([at(2.5), at(2.8), at(2.9)], answered, at(3), 240) == 180
    # One has waited 10 minutes already: that is the wait.
    assert queue_wait([at(-7), at(2.9)], answered, at(3), 240) == 600


def test_the_wait_watched_from_counts_is_the_wait_watched_from_rows():
    now = at(30)
    joined = [at(0), at(12), at(25)]
    answered = [at(20), at(22), at(26)]

    assert queue_wait_of(3, at(0), answered, now, 240) == queue_wait(joined, answered, now, 240)
    assert queue_wait_of(3, at(0), answered, now, 240) == 30 * 60  # the oldest, 30 min
    assert queue_wait_of(0, None, answered, now, 240) == 0


def test_the_estimate_uses_the_average_handle_time_before_two_answers():
    assert estimated_wait(3, [], 240) == 720
    assert estimated_wait(2, [at(0), at(0.5)], 240) == 60


# -- what the surge rules decide ----------------------------------------------------------------


def context(**fields) -> PolicyContext:
    return PolicyContext(**{"channel": "sms", "identified": True, **fields})


def test_without_surge_a_request_for_a_person_goes_to_a_person():
    decision = decide(context(asked_for_person=True), DENMARK)

    assert (decision.action, decision.rule_id) == (Action.ASSISTED, "person-requested")


def test_in_surge_a_request_is_offered_the_digital_route_first_once():
    first = decide(context(asked_for_person=True, surge=True), DENMARK)
    again = decide(context(asked_for_person=True, surge=True, digital_offered=True), DENMARK)

    assert (first.action, first.rule_id) == (Action.OFFER_DIGITAL, "surge-digital-first")
    assert again.action == Action.CALLBACK and again.rule_id == "surge-callback"


def test_a_decision_says_whether_a_surge_rule_took_it():
    surge_callback = decide(
        context(asked_for_person=True, surge=True, digital_offered=True), DENMARK
    )
    usual = decide(context(asked_for_person=True), DENMARK)
    exempt_in_surge = decide(context(exemptions=("impairment",), surge=True), DENMARK)

    assert surge_callback.surge and surge_callback.rule_id == "surge-callback"
    assert not usual.surge
    assert not exempt_in_surge.surge, "the profile's own rule decided, in a surge or not"


def test_in_surge_the_digital_route_comes_first_only_where_the_need_has_one():
    complaint = context(asked_for_person=True, surge=True, need="complaint", confidence=0.9)
    payment = context(asked_for_person=True, surge=True, need="payment_date", confidence=0.9)

    assert decide(complaint, DENMARK).action == Action.CALLBACK
    assert decide(payment, DENMARK).action == Action.OFFER_DIGITAL


def test_in_surge_an_exempt_citizen_still_goes_to_a_person_with_priority():
    ctx = context(exemptions=("impairment",), surge=True)

    decision = decide(ctx, DENMARK)

    assert (decision.action, decision.rule_id) == (Action.ASSISTED, "exempt-to-person")
    assert decision.priority == 2
    asking = decide(
        context(exemptions=("no_computer",), asked_for_person=True, surge=True), DENMARK
    )
    assert asking.action == Action.ASSISTED


def test_in_surge_two_failed_bot_turns_still_reach_a_person():
    decision = decide(context(bot_failures=2, need="nlu_fallback", surge=True), DENMARK)

    assert decision.action in (Action.ASSISTED, Action.CALLBACK)
    assert decision.action == Action.CALLBACK  # booked instead of a long wait


def test_surge_rules_leave_self_service_alone():
    ctx = context(need="payment_date", confidence=0.9, surge=True)

    assert decide(ctx, DENMARK).action == Action.SELF_SERVICE


def test_every_shipped_profile_has_surge_rules_that_the_check_searches():
    for name in available_profiles():
        profile = load_profile(name)
        report = check_profile(profile)
        assert profile.surge is not None and profile.surge_rules, name
        assert report.ok and report.surge, report.render()
        assert "surge mode on or off" in report.render()


# -- the check rejects surge rules that trap --------------------------------------------------


def with_surge(section: str) -> str:
    """Return Denmark with its [surge] section replaced by `section`."""
    start = DENMARK_TEXT.index("[surge]")
    end = DENMARK_TEXT.index("[default]")
    return DENMARK_TEXT[:start] + section + "\n" + DENMARK_TEXT[end:]


BUSY_TRY_LATER = """[surge]
enter_wait_seconds = 600
exit_wait_seconds = 120

[[surge.rule]]
id = "surge-try-later"
when = { exempt = false }
action = "close"
reason = "We are very busy right now: please try again later."
"""


def test_a_surge_rule_that_turns_citizens_away_is_rejected_with_a_counter_example():
    report = check_profile(parse_profile(with_surge(BUSY_TRY_LATER), "busy.toml"))

    assert not report.ok
    (violation,) = report.violations
    assert violation.rule_id == "surge-try-later" and violation.problem == "closed"
    assert violation.steps[0].stages[-1].context.surge
    text = report.render()
    assert "rule 'surge-try-later' traps a citizen who asks for a person" in text
    assert "surge=True" in text


def test_a_surge_rule_that_keeps_citizens_in_the_bot_is_rejected():
    section = """[surge]
[[surge.rule]]
id = "surge-bot-only"
instead_of = ["assisted", "callback"]
when = { exempt = false }
action = "self_service"
reason = "We are very busy: the digital assistant will help you."
"""
    report = check_profile(parse_profile(with_surge(section), "bot-only.toml"))

    assert [v.rule_id for v in report.violations] == ["surge-bot-only"]
    assert report.violations[0].problem == "no person"


def test_a_surge_rule_that_books_exempt_citizens_a_callback_instead_of_a_person_is_rejected():
    section = """[surge]
[[surge.rule]]
id = "surge-callback-for-all"
instead_of = ["assisted"]
action = "callback"
reason = "We are very busy: a person will call you back."
"""
    report = check_profile(parse_profile(with_surge(section), "all.toml"))

    (violation,) = report.violations
    assert violation.rule_id == "surge-callback-for-all" and violation.problem == "surge"
    assert violation.trigger == "exemption"
    text = report.render()
    assert "under surge takes the person from a citizen who has a valid exemption" in text
    assert "rule 'exempt-to-person' gives them a person (assisted)" in text


def test_a_surge_rule_may_raise_an_exempt_citizens_priority():
    section = """[surge]
[[surge.rule]]
id = "surge-exempt-first"
when = { exempt = true, business_hours = true }
action = "assisted"
priority = 3
reason = "Registered exemption ({grounds}): served by a person, first."
"""
    profile = parse_profile(with_surge(section), "first.toml")

    assert check_profile(profile).ok
    assert decide(context(exemptions=("language",), surge=True), profile).priority == 3


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ("[surge]\nenter_wait_seconds = 300\nexit_wait_seconds = 300\n", "must be below"),
        ("[surge]\nwait = 3\n", "unknown setting"),
        ("[surge]\nenter_wait_seconds = -1\n", "enter_wait_seconds"),
        (
            '[surge]\n[[surge.rule]]\nid = "x"\ninstead_of = ["wait"]\naction = "assisted"\n'
            'reason = "r"\n',
            "instead_of",
        ),
        (
            '[surge]\n[[surge.rule]]\nid = "goodbye"\naction = "assisted"\nreason = "r"\n',
            "used twice",
        ),
    ],
)
def test_a_surge_section_that_cannot_be_used_is_refused_naming_the_problem(section, words):
    with pytest.raises(ProfileError, match=words):
        parse_profile(with_surge(section), "bad.toml")


def test_instead_of_is_only_for_surge_rules():
    text = DENMARK_TEXT.replace('id = "goodbye"\n', 'id = "goodbye"\ninstead_of = ["close"]\n')

    with pytest.raises(ProfileError, match="instead_of"):
        parse_profile(text, "bad.toml")
