"""`check_profile` proves the shipped profiles trap no one and rejects profiles that do."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.policy import (
    ASSISTED_SERVICE,
    MAX_STEPS,
    Action,
    available_profiles,
    check_profile,
    check_profile_file,
    decide,
    load_profile,
    parse_profile,
)
from router.policy.profile import PROFILES_DIR

pytestmark = pytest.mark.unit

DENMARK = (PROFILES_DIR / "denmark.toml").read_text(encoding="utf-8")
FIRST_RULE = "# --- Exempt citizens"
# Denmark without surge mode (its digital route first for a request takes a step of the three).
WITHOUT_SURGE = DENMARK[: DENMARK.index("[surge]")] + DENMARK[DENMARK.index("[default]") :]


def with_rule_first(rule: str, text: str = DENMARK) -> str:
    """Return Denmark with `rule` put before all its rules."""
    assert FIRST_RULE in text
    return text.replace(FIRST_RULE, rule + "\n" + FIRST_RULE, 1)


@pytest.mark.parametrize("name", available_profiles())
def test_every_shipped_profile_keeps_the_invariant(name):
    report = check_profile(load_profile(name))

    assert report.ok, report.render()
    assert report.violations == []
    assert report.max_steps == MAX_STEPS == 3
    assert "ok" in report.render()


def test_a_rule_sending_exempt_citizens_to_the_bot_is_rejected_by_name():
    trap = with_rule_first(
        '[[rule]]\nid = "exempt-to-bot"\nwhen = { exempt = true, channel = "sms" }\n'
        'action = "self_service"\nreason = "Try the assistant first."\n'
    )

    report = check_profile(parse_profile(trap, "trap.toml"))

    assert not report.ok
    assert [v.rule_id for v in report.violations] == ["exempt-to-bot"]
    violation = report.violations[0]
    assert violation.trigger == "exemption"
    assert violation.problem == "no person"
    assert len(violation.steps) == MAX_STEPS
    start = violation.steps[0].stages[0].context
    assert start.channel == "sms"
    assert start.exemptions
    assert not start.asked_for_person
    assert "rule 'exempt-to-bot' traps a citizen who has a valid exemption" in report.render()


def test_closing_on_a_request_for_a_person_is_rejected_by_name():
    trap = with_rule_first(
        '[[rule]]\nid = "hang-up"\nwhen = { asked_for_person = true, channel = "voice" }\n'
        'action = "close"\nreason = "Please use the website."\n'
    )

    report = check_profile(parse_profile(trap, "trap.toml"))

    (violation,) = report.violations
    assert violation.rule_id == "hang-up"
    assert violation.trigger == "request"
    assert violation.problem == "closed"
    assert len(violation.steps) == 1
    assert violation.steps[0].outcome.action == Action.CLOSE
    assert "closed before a person was reached" in violation.describe()


def test_offering_digital_forever_to_someone_who_asked_is_rejected():
    trap = with_rule_first(
        '[[rule]]\nid = "always-offer"\nwhen = { asked_for_person = true }\n'
        'action = "offer_digital"\nreason = "It is quicker online."\n'
    )

    report = check_profile(parse_profile(trap, "trap.toml"))

    assert report.violations[0].rule_id == "always-offer"
    assert report.violations[0].trigger == "request"


def test_a_profile_that_forgets_failed_bot_turns_blames_its_default():
    text = DENMARK.replace('id = "bot-failed-twice"', 'id = "bot-failed-many"').replace(
        "at_least = 2", "at_least = 9"
    )

    report = check_profile(parse_profile(text, "forgetful.toml"))

    assert not report.ok
    by_rule = {v.rule_id: v for v in report.violations}
    assert by_rule["default"].trigger == "failures"
    steps = by_rule["default"].steps
    assert [s.outcome.action for s in steps] == [Action.SELF_SERVICE] * MAX_STEPS
    # The failures pile up from one step to the next, as they would in the conversation.
    assert [s.stages[-1].context.bot_failures for s in steps] == [2, 3, 4]


@pytest.mark.parametrize(("failures", "ok"), [(4, True), (5, False)])
def test_the_bound_is_three_steps_exactly(failures, ok):
    # From one failure behind, three failing turns bring the count to 4 and no further.
    # (Without surge mode: its digital route first for a request takes one step of the three.)
    text = WITHOUT_SURGE.replace("at_least = 2", f"at_least = {failures}")

    assert check_profile(parse_profile(text)).ok is ok


def test_a_shorter_bound_rejects_france_which_offers_support_before_its_substitute_route():
    france = load_profile("france")

    assert check_profile(france, max_steps=2).ok
    report = check_profile(france, max_steps=1)
    assert "support-offered" in [v.rule_id for v in report.violations]


def test_each_counter_example_is_what_decide_really_answers():
    trap = with_rule_first(
        '[[rule]]\nid = "voice-bot-only"\nwhen = { channel = "voice", exempt = true }\n'
        'action = "offer_digital"\nreason = "Use the app."\n'
    )
    profile = parse_profile(trap)

    report = check_profile(profile)

    assert report.violations
    for violation in report.violations:
        for step in violation.steps:
            for stage in step.stages:
                assert decide(stage.context, profile) == stage.decision
            assert step.outcome.action not in ASSISTED_SERVICE


def test_one_counter_example_per_offending_rule():
    trap = with_rule_first(
        '[[rule]]\nid = "bot-for-all"\nwhen = { channel = ["sms", "voice"] }\n'
        'action = "self_service"\nreason = "Bot."\n'
    )

    report = check_profile(parse_profile(trap))

    ids = [v.rule_id for v in report.violations]
    assert ids == ["bot-for-all"]
    assert set(report.violations[0].also) | {report.violations[0].trigger} == {
        "request",
        "failures",
        "exemption",
    }


def test_check_profile_file_reports_a_trap_in_a_file(tmp_path: Path):
    path = tmp_path / "agency.toml"
    path.write_text(
        with_rule_first(
            '[[rule]]\nid = "no-people-at-night"\nwhen = { business_hours = false }\n'
            'action = "self_service"\nreason = "We are closed."\n'
        )
    )

    report = check_profile_file(path)

    assert not report.ok
    text = report.render()
    assert str(path) in text
    assert "rule 'no-people-at-night'" in text
    assert "step 1:" in text and "business_hours=False" in text


def test_a_rule_that_fires_only_beyond_every_threshold_is_still_searched():
    # A citizen may arrive with more failures behind them than any rule names.
    text = with_rule_first(
        '[[rule]]\nid = "give-up"\nwhen = { bot_failures = { above = 4 } }\n'
        'action = "close"\nreason = "Goodbye."\n',
        WITHOUT_SURGE.replace("at_least = 2", "at_least = 4"),
    )

    report = check_profile(parse_profile(text))

    assert [v.rule_id for v in report.violations] == ["give-up"]
    assert report.violations[0].steps[0].stages[0].context.bot_failures == 5
