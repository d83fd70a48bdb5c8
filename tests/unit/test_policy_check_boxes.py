"""The trap check by boxes (router/policy/turns.py) against deciding every combination.

`check_profile` cuts each turn into boxes of values the rules cannot tell apart, citizens and
channels included; `check_profile(..., exhaustive=True)` decides every combination one by one,
as the check did before (router/policy/combinations.py). On random small profiles, with surge
rules, citizens' grounds, ages and identification among the conditions, both must find the
same rules trapping the same citizens, and every counter-example must be what decide() says.
"""

from __future__ import annotations

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from router.policy import Action, check_profile, decide, parse_profile, refuse_traps
from router.policy.profile import ProfileError
from tests.properties import search
from tests.unit.test_hostile_profiles import HOSTILE

pytestmark = pytest.mark.unit

BOOL = st.sampled_from(["true", "false"])
CONDITIONS = {
    "exempt": BOOL,
    "asked_for_person": BOOL,
    "business_hours": BOOL,
    "digital_offered": BOOL,
    "bot_available": BOOL,
    "repeat_contact": BOOL,
    "identified": BOOL,
    "surge": BOOL,
    "channel": st.sampled_from(['"voice"', '"sms"', '["webchat", "sms"]', '{ not = "sms" }']),
    "need": st.sampled_from(['"goodbye"', '"none"', '["request_person", "payment_date"]']),
    "exemption": st.sampled_from(
        ['"language"', '["impairment", "homeless"]', '{ not = "emigrated" }']
    ),
    "age_band": st.sampled_from(['"80_plus"', '["under_15", "unknown"]', '{ not = "15_64" }']),
    "bot_failures": st.builds(
        "{{ {} = {} }}".format,
        st.sampled_from(["at_least", "at_most", "below", "above"]),
        st.integers(0, 4),
    ),
    "confidence": st.sampled_from(["{ below = 0.5 }", "{ at_least = 0.8 }"]),
    "queue_wait_seconds": st.sampled_from(["{ above = 900 }", "{ at_most = 300 }"]),
}
SAFE = [
    ("exempt", "{ exempt = true }", "assisted"),
    ("asked", "{ asked_for_person = true }", "assisted"),
    ("failed", "{ bot_failures = { at_least = 2 } }", "assisted"),
]
ACTIONS = [a.value for a in Action]


@st.composite
def whens(draw) -> str:
    fields = draw(
        st.lists(st.sampled_from(sorted(CONDITIONS)), min_size=1, max_size=2, unique=True)
    )
    return "{ " + ", ".join(f"{f} = {draw(CONDITIONS[f])}" for f in fields) + " }"


def table(kind: str, rule_id: str, when: str, action: str, extra: str = "") -> str:
    return (
        f'[[{kind}]]\nid = "{rule_id}"\nwhen = {when}\naction = "{action}"\n{extra}reason = "R."\n'
    )


@st.composite
def profiles(draw):
    """Safe rules with random ones among them, sometimes surge rules, a random default."""
    rules = draw(st.lists(st.sampled_from(SAFE), unique=True, max_size=3))
    for i in range(draw(st.integers(0, 2))):
        rule = (f"random-{i}", draw(whens()), draw(st.sampled_from(ACTIONS)))
        rules.insert(draw(st.integers(0, len(rules))), rule)
    text = 'name = "random"\ndescription = "Random."\n'
    text += "".join(table("rule", *rule) for rule in rules)
    surge = draw(st.lists(st.tuples(whens(), st.sampled_from(ACTIONS), st.booleans()), max_size=1))
    if surge:
        text += "[surge]\n"
    for i, (when, action, only_assisted) in enumerate(surge):
        extra = 'instead_of = ["assisted"]\n' if only_assisted else ""
        text += table("surge.rule", f"surge-{i}", when, action, extra)
    default = draw(st.sampled_from(["self_service", "self_service", "assisted", "offer_digital"]))
    return parse_profile(text + f'[default]\naction = "{default}"\nreason = "D."\n')


def found(report) -> set:
    return {(v.rule_id, v.trigger, v.problem, v.also) for v in report.violations}


@search(100)
@given(profiles())
def test_the_check_by_boxes_finds_what_deciding_every_combination_finds(profile):
    boxes = check_profile(profile)
    every = check_profile(profile, exhaustive=True)
    event("traps" if every.violations else "keeps the invariant")

    assert found(boxes) == found(every)
    assert boxes.ok == every.ok
    for violation in boxes.violations:  # each counter-example is a conversation decide() has
        for step in violation.steps:
            for stage in step.stages:
                assert decide(stage.context, profile) == stage.decision


@pytest.mark.parametrize("trap", sorted(HOSTILE))
def test_both_searches_name_the_same_rules_in_each_hostile_profile(trap):
    profile = parse_profile(HOSTILE[trap])

    assert found(check_profile(profile)) == found(check_profile(profile, exhaustive=True))


def test_a_hostile_profile_of_sixty_rules_is_checked_and_refused_naming_its_trap():
    # Fifty-six rules that each send some citizens to the bot or a digital route, on hours,
    # waits, ages, grounds and the bot's confidence; one of them closes on exempt citizens
    # at night. The exhaustive search would decide billions of combinations.
    fields = [
        "business_hours = false", "queue_wait_seconds = { above = %d }", 'age_band = "80_plus"',
        'exemption = "language"', "confidence = { below = 0.%d }", 'channel = "voice"',
        'need = "payment_date"', "repeat_contact = true", "bot_failures = { at_most = %d }",
    ]  # fmt: skip
    numbers = {"queue": lambda i: 60 * i, "confidence": lambda i: i % 9 + 1, "bot": lambda i: i % 3}
    rules = [SAFE[1], SAFE[2]]
    for i in range(56):
        pair = dict.fromkeys((fields[i % 9], fields[(i * 5 + 2) % 9]))
        when = ", ".join(
            f.replace("%d", str(numbers.get(f.split("_")[0], lambda i: 0)(i))) for f in pair
        )
        rules.append((f"r{i}", "{ " + when + " }", ("self_service", "offer_digital")[i % 2]))
    rules.insert(30, ("night-exempt-closed", "{ exempt = true, business_hours = false }", "close"))
    rules.append(SAFE[0])
    text = 'name = "hostile"\ndescription = "Sixty rules."\n'
    text += "".join(table("rule", *rule) for rule in rules)
    profile = parse_profile(text + '[default]\naction = "self_service"\nreason = "D."\n')

    with pytest.raises(ProfileError) as refused:
        refuse_traps(profile)

    message = str(refused.value)
    assert "rule 'night-exempt-closed' traps a citizen who" in message
    assert "has a valid exemption" in message.split("rule 'night-exempt-closed'")[1].split("\n")[0]
