"""Profiles are validated on load, and the `when` language means what the README says."""

from __future__ import annotations

import pytest

from router.policy import (
    Action,
    PolicyContext,
    ProfileError,
    check_profile,
    check_profile_file,
    decide,
    load_profile,
    parse_profile,
)
from router.policy.profile import PROFILES_DIR

pytestmark = pytest.mark.unit

DEFAULT = """
[default]
action = "self_service"
reason = "The assistant answers."
"""


def profile_text(rules: str, head: str = "") -> str:
    return f'name = "test"\ndescription = "A test profile."\n{head}\n{rules}\n{DEFAULT}'


def one_rule(when: str, action: str = "assisted", extra: str = "") -> str:
    return profile_text(
        f'[[rule]]\nid = "the-rule"\nwhen = {when}\naction = "{action}"\n'
        f'reason = "Because."\n{extra}'
    )


def fires(when: str, **fields) -> bool:
    """Return True when a profile with one rule `when` picks that rule for the context."""
    profile = parse_profile(one_rule(when))
    return decide(PolicyContext(**{"channel": "webchat", **fields}), profile).rule_id == "the-rule"


# --- The condition language ------------------------------------------------------------------


def test_a_scalar_means_equality():
    assert fires('{ channel = "voice" }', channel="voice")
    assert not fires('{ channel = "voice" }', channel="sms")


def test_a_list_means_one_of():
    assert fires('{ channel = ["voice", "sms"] }', channel="sms")
    assert not fires('{ channel = ["voice", "sms"] }', channel="webchat")


def test_all_conditions_of_a_rule_must_hold():
    when = '{ channel = "voice", asked_for_person = true }'
    assert fires(when, channel="voice", asked_for_person=True)
    assert not fires(when, channel="voice")


@pytest.mark.parametrize(
    ("op", "true_at", "false_at"),
    [("at_least", 2, 1), ("at_most", 2, 3), ("below", 1, 2), ("above", 3, 2)],
)
def test_number_operators_compare_against_the_threshold(op, true_at, false_at):
    when = f"{{ bot_failures = {{ {op} = 2 }} }}"
    assert fires(when, bot_failures=true_at)
    assert not fires(when, bot_failures=false_at)


def test_two_operators_on_one_field_make_a_range():
    when = "{ queue_wait_seconds = { at_least = 600, below = 1800 } }"
    assert fires(when, queue_wait_seconds=600)
    assert not fires(when, queue_wait_seconds=1800)
    assert not fires(when, queue_wait_seconds=599)


def test_a_number_condition_never_holds_on_an_unknown_confidence():
    assert not fires("{ confidence = { below = 0.5 } }", confidence=None)
    assert fires("{ confidence = { below = 0.5 } }", confidence=0.4)


def test_not_excludes_a_value_or_a_list():
    assert fires('{ channel = { not = "voice" } }', channel="sms")
    assert not fires('{ channel = { not = ["voice", "sms"] } }', channel="sms")


def test_exempt_means_any_valid_exemption():
    assert fires("{ exempt = true }", exemptions=("emigrated",))
    assert not fires("{ exempt = true }")
    assert fires("{ exempt = false }")


def test_exemption_means_any_of_the_grounds_named():
    when = '{ exemption = ["language", "no_digital_id"] }'
    assert fires(when, exemptions=("impairment", "language"))
    assert not fires(when, exemptions=("impairment",))
    assert fires('{ exemption = { not = "language" } }', exemptions=("impairment",))


def test_need_none_and_age_band_unknown_match_missing_values():
    assert fires('{ need = "none" }')
    assert not fires('{ need = "none" }', need="payment_date")
    assert fires('{ age_band = "unknown" }')
    assert fires('{ age_band = ["65_79", "80_plus"] }', age_band="80_plus")


def test_the_first_matching_rule_wins_and_the_default_takes_the_rest():
    profile = parse_profile(
        profile_text(
            '[[rule]]\nid = "first"\nwhen = { asked_for_person = true }\naction = "assisted"\n'
            'reason = "One."\n'
            '[[rule]]\nid = "second"\nwhen = { channel = "voice" }\naction = "callback"\n'
            'reason = "Two."\n'
        )
    )

    both = PolicyContext(channel="voice", asked_for_person=True)
    assert decide(both, profile).rule_id == "first"
    assert decide(PolicyContext(channel="voice"), profile).rule_id == "second"
    assert decide(PolicyContext(channel="sms"), profile).rule_id == "default"
    assert decide(PolicyContext(channel="sms"), profile).action == Action.SELF_SERVICE


def test_a_reason_quotes_the_context_in_plain_words():
    profile = parse_profile(
        profile_text(
            '[[rule]]\nid = "r"\nwhen = { exempt = true }\naction = "assisted"\nskill = "pension"\n'
            'reason = "Exempt ({grounds}) on {channel} about {need}: '
            '{skill}, {wait_minutes} min."\n'
        )
    )
    context = PolicyContext(
        channel="sms",
        exemptions=("no_computer", "homeless"),
        need="payment_date",
        queue_wait_seconds=300,
    )

    assert decide(context, profile).reason == (
        "Exempt (no computer at home, no fixed address) on sms about payment date: pension, 5 min."
    )


# --- Invalid profiles are refused with the file, the rule and the problem ----------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (one_rule("{ exmpt = true }"), "rule 'the-rule': unknown condition 'exmpt'"),
        (one_rule("{ exempt = true }", action="queue"), "rule 'the-rule': unknown action 'queue'"),
        (one_rule("{ exempt = true }", extra="priorty = 2"), "unknown field(s) priorty"),
        (one_rule("{ exempt = true }", extra="priority = 12"), "'priority' must be"),
        (one_rule('{ exempt = "yes" }'), "'exempt' takes true or false, not 'yes'"),
        (one_rule('{ channel = "fax" }'), "'channel' cannot be 'fax'"),
        (one_rule('{ exemption = "dementia" }'), "'exemption' cannot be 'dementia'"),
        (one_rule("{ bot_failures = { more_than = 2 } }"), "unknown operator 'more_than'"),
        (one_rule('{ channel = { at_least = "sms" } }'), "'channel' is not a number"),
        (one_rule("{ confidence = { below = 5 } }"), "from 0 to 1"),
        (one_rule("{ bot_failures = -1 }"), "whole number >= 0"),
        (one_rule('{ need = "Payment Date" }'), "intent name"),
        (one_rule("{ channel = [] }"), "empty list"),
        (one_rule('"exempt"'), "'when' must be a table"),
        (
            profile_text('[[rule]]\nid = "r"\nwhen = { exempt = true }\naction = "assisted"\n'),
            "rule 'r': needs both 'action' and 'reason'",
        ),
        (
            profile_text('[[rule]]\nid = "r"\naction = "assisted"\nreason = "Wait {minutes}."\n'),
            "quotes {minutes}",
        ),
        (
            profile_text(
                '[[rule]]\nid = "r"\naction = "assisted"\nreason = "A."\n'
                '[[rule]]\nid = "r"\naction = "close"\nreason = "B."\n'
            ),
            "rule 'r': the id is used twice",
        ),
        (
            profile_text('[[rule]]\nid = "Bad Id"\naction = "assisted"\nreason = "A."\n'),
            "rule 1 needs an 'id'",
        ),
        (
            profile_text(
                '[[rule]]\nid = "r"\naction = "assisted"\nreason = "A."\n', 'colour = "x"'
            ),
            "unknown setting(s) colour",
        ),
        ('name = "test"\ndescription = "x"\n[[rule]]\nid = "r"\n', "missing default"),
        ('name = "test"\ndescription = "x"\n[[rule]\n', "not valid TOML"),
    ],
)
def test_an_invalid_profile_is_refused_naming_the_problem(text, message):
    with pytest.raises(ProfileError) as refused:
        parse_profile(text, source="agency.toml")

    assert str(refused.value).startswith("agency.toml: ")
    assert message in str(refused.value)


def test_a_broken_file_is_refused_naming_the_file_and_the_rule(tmp_path):
    path = tmp_path / "agency.toml"
    path.write_text(one_rule("{ asked_for_person = true, channle = 'voice' }"))

    with pytest.raises(ProfileError) as refused:
        check_profile_file(path)

    assert str(path) in str(refused.value)
    assert "rule 'the-rule': unknown condition 'channle'" in str(refused.value)


def test_a_toml_syntax_error_gives_the_line(tmp_path):
    path = tmp_path / "agency.toml"
    path.write_text('name = "x"\ndescription = "y"\n\n[[rule]\n')

    with pytest.raises(ProfileError, match=r"not valid TOML.*line 4"):
        load_profile(path)


def test_an_unknown_profile_name_lists_the_shipped_ones():
    with pytest.raises(ProfileError, match="unknown policy profile 'sweden'.*denmark"):
        load_profile("sweden")


def test_a_missing_file_is_refused_with_its_path(tmp_path):
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "nowhere.toml")


def test_a_profile_file_loads_from_a_path(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(one_rule("{ exempt = true }"))

    profile = load_profile(str(path))

    assert profile.name == "test"
    assert profile.source == str(path)
    assert [r.id for r in profile.rules] == ["the-rule"]


def test_the_readme_example_profile_loads_and_keeps_the_invariant():
    readme = (PROFILES_DIR.parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]

    profile = parse_profile(example, "README.md")

    assert [r.id for r in profile.rules][:2] == ["exempt-to-person", "person-requested"]
    assert profile.skill_for("apply_benefit:child") == "family"
    assert check_profile(profile).ok


def test_a_need_condition_matches_the_intent_of_a_qualified_need():
    assert fires('{ need = "apply_benefit" }', need="apply_benefit:pension")
    assert fires('{ need = ["payment_date", "apply_benefit"] }', need="apply_benefit:child")
    assert not fires('{ need = "apply_benefit:pension" }', need="apply_benefit:child")
    assert not fires('{ need = { not = "apply_benefit" } }', need="apply_benefit:pension")
