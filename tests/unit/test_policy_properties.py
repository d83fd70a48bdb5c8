"""Property tests: random conversations never trap a citizen under the shipped profiles.

The conversations are played here by a driver written from the service layer's protocol
(decide before the bot; ask the bot only on self-service; decide again with its answer), not
by the checker's own search, so the two check each other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from router.domain.needs import NOT_UNDERSTOOD
from router.policy import (
    AGE_BANDS,
    ASSISTED_SERVICE,
    CHANNELS,
    EXEMPTION_GROUNDS,
    MAX_STEPS,
    Action,
    Decision,
    PolicyContext,
    Profile,
    available_profiles,
    check_profile,
    decide,
    load_profile,
    parse_profile,
)
from tests.properties import search

pytestmark = pytest.mark.unit

PROFILES = {name: load_profile(name) for name in available_profiles()}
INTENTS = (
    "payment_date",
    "missing_payment",
    "apply_benefit",
    "apply_benefit:pension",
    "apply_benefit:child",
    "application_status",
    "change_address",
    "report_change",
    "login_help",
    "document_upload",
    "complaint",
    "greet",
    "thanks",
    "goodbye",
    "request_person",
    "out_of_scope",
    "nlu_fallback",
    None,
)
FAILED_INTENTS = tuple(NOT_UNDERSTOOD)


@dataclass(frozen=True)
class Citizen:
    channel: str
    exemptions: tuple[str, ...] = ()
    age_band: str | None = None
    identified: bool = False


@dataclass(frozen=True)
class World:
    """What happens around one citizen turn, outside the policy's control."""

    asks: bool = False
    open: bool = True
    wait: int = 0
    need: str | None = "payment_date"
    confidence: float | None = 0.9
    bot_up: bool = True
    bot_fails: bool = False
    repeat: bool = False
    handoff: bool = False  # the bot hands over (its payload), whatever the intent


@dataclass
class Conversation:
    """A conversation as the service layer runs it: two decisions per turn at most."""

    profile: Profile
    citizen: Citizen
    failures: int = 0
    offered: bool = False

    def turn(self, world: World) -> Decision:
        c = self.citizen
        context = PolicyContext(
            channel=c.channel,
            exemptions=c.exemptions,
            age_band=c.age_band,
            identified=c.identified,
            bot_failures=self.failures,
            asked_for_person=world.asks,
            business_hours=world.open,
            queue_wait_seconds=world.wait,
            digital_offered=self.offered,
        )
        decision = decide(context, self.profile)
        if decision.action == Action.SELF_SERVICE:
            failed = world.bot_fails or not world.bot_up or world.need in FAILED_INTENTS
            self.failures = self.failures + 1 if failed else 0
            context = replace(
                context,
                need=world.need if world.bot_up else None,
                confidence=world.confidence if world.bot_up else None,
                bot_failures=self.failures,
                bot_available=world.bot_up,
                asked_for_person=world.asks or world.handoff or world.need == "request_person",
                repeat_contact=world.repeat,
            )
            decision = decide(context, self.profile)
        self.offered = self.offered or decision.action == Action.OFFER_DIGITAL
        return decision

    def play(self, worlds) -> list[Decision]:
        """Play turns until a person or the end of the conversation; return the outcomes."""
        outcomes = []
        for world in worlds:
            outcomes.append(self.turn(world))
            if outcomes[-1].action in ASSISTED_SERVICE or outcomes[-1].action == Action.CLOSE:
                break
        return outcomes


def reached_a_person(outcomes: list[Decision], within: int) -> bool:
    """True when a person comes within `within` turns and nothing closed the door before."""
    for decision in outcomes[:within]:
        if decision.action in ASSISTED_SERVICE:
            return True
        if decision.action == Action.CLOSE:
            return False
    return False


def over(outcomes: list[Decision]) -> bool:
    return bool(outcomes) and outcomes[-1].action not in (Action.SELF_SERVICE, Action.OFFER_DIGITAL)


worlds = st.builds(
    World,
    asks=st.booleans(),
    open=st.booleans(),
    wait=st.integers(0, 7200),
    need=st.sampled_from(INTENTS),
    confidence=st.one_of(st.none(), st.floats(0, 1)),
    bot_up=st.booleans(),
    bot_fails=st.booleans(),
    repeat=st.booleans(),
)
quiet_worlds = worlds.map(lambda w: replace(w, asks=False))


@st.composite
def citizens(draw, exempt: bool | None = None) -> Citizen:
    channel = draw(st.sampled_from(CHANNELS))
    identified = True if exempt else draw(st.booleans())
    if not identified:
        return Citizen(channel)
    grounds = st.lists(st.sampled_from(EXEMPTION_GROUNDS), unique=True, max_size=3)
    if exempt:
        grounds = st.lists(st.sampled_from(EXEMPTION_GROUNDS), unique=True, min_size=1, max_size=3)
    elif exempt is False:
        grounds = st.just([])
    age = draw(st.sampled_from((None, *AGE_BANDS)))
    return Citizen(channel, tuple(draw(grounds)), age, True)


profiles = st.sampled_from(sorted(PROFILES))
SHIPPED = search(200)


@SHIPPED
@given(
    profiles,
    citizens(),
    st.lists(quiet_worlds, max_size=4),
    st.lists(worlds, min_size=MAX_STEPS, max_size=MAX_STEPS),
)
def test_a_citizen_who_asks_for_a_person_gets_one_within_three_turns(name, citizen, before, after):
    talk = Conversation(PROFILES[name], citizen)
    if over(talk.play(before)):
        return
    outcomes = talk.play(replace(w, asks=True) for w in after)

    assert reached_a_person(outcomes, MAX_STEPS), outcomes


@SHIPPED
@given(
    profiles,
    citizens(),
    st.lists(quiet_worlds, max_size=4),
    st.lists(quiet_worlds, min_size=MAX_STEPS + 1, max_size=MAX_STEPS + 1),
)
def test_a_citizen_the_bot_keeps_failing_gets_a_person(name, citizen, before, after):
    talk = Conversation(PROFILES[name], citizen)
    if over(talk.play(before)):
        return
    outcomes, second_failure = [], None
    for i, world in enumerate(replace(w, bot_fails=True) for w in after):
        outcomes.append(talk.turn(world))
        if second_failure is None and talk.failures >= 2:
            second_failure = i
        if outcomes[-1].action not in (Action.SELF_SERVICE, Action.OFFER_DIGITAL):
            break

    # The first failure, then at most three steps counted from the second one.
    assert reached_a_person(outcomes, MAX_STEPS + 1), outcomes
    if second_failure is not None:
        assert reached_a_person(outcomes, second_failure + MAX_STEPS), outcomes


@SHIPPED
@given(
    profiles,
    citizens(exempt=True),
    st.integers(0, 4),
    st.booleans(),
    st.lists(worlds, min_size=MAX_STEPS, max_size=MAX_STEPS),
)
def test_an_exempt_citizen_gets_a_person_from_any_state(name, citizen, failures, offered, turns):
    talk = Conversation(PROFILES[name], citizen, failures, offered)

    assert reached_a_person(talk.play(turns), MAX_STEPS)


@SHIPPED
@given(profiles, citizens(), st.integers(0, 4), st.booleans(), worlds)
def test_every_decision_is_complete_and_deterministic(name, citizen, failures, offered, world):
    profile = PROFILES[name]
    context = PolicyContext(
        channel=citizen.channel,
        exemptions=citizen.exemptions,
        age_band=citizen.age_band,
        identified=citizen.identified,
        need=world.need,
        confidence=world.confidence,
        bot_failures=failures,
        bot_available=world.bot_up,
        asked_for_person=world.asks,
        business_hours=world.open,
        queue_wait_seconds=world.wait,
        repeat_contact=world.repeat,
        digital_offered=offered,
    )

    decision = decide(context, profile)

    assert decision == decide(context, profile)
    assert decision.rule_id in [r.id for r in (*profile.rules, profile.default)]
    assert decision.reason and "{" not in decision.reason
    if decision.action in ASSISTED_SERVICE:
        assert decision.skill and decision.priority >= 0
    else:
        assert decision.skill is None and decision.priority == 0


# --- The checker against random profiles ------------------------------------------------------

SAFE_RULES = [
    ("exempt", "{ exempt = true }", "assisted"),
    ("asked", "{ asked_for_person = true }", "assisted"),
    ("failed", "{ bot_failures = { at_least = 2 } }", "assisted"),
]
CONDITIONS = {
    "exempt": st.sampled_from(["true", "false"]),
    "asked_for_person": st.sampled_from(["true", "false"]),
    "business_hours": st.sampled_from(["true", "false"]),
    "digital_offered": st.sampled_from(["true", "false"]),
    "bot_available": st.sampled_from(["true", "false"]),
    "repeat_contact": st.sampled_from(["true", "false"]),
    "channel": st.sampled_from(['"voice"', '"sms"', '["webchat", "sms"]']),
    "need": st.sampled_from(['"goodbye"', '"none"', '["request_person", "payment_date"]']),
    "exemption": st.sampled_from(
        ['"language"', '["impairment", "homeless"]', '{ not = "emigrated" }']
    ),
    "bot_failures": st.builds(
        "{{ {} = {} }}".format,
        st.sampled_from(["at_least", "at_most", "below", "above"]),
        st.integers(0, 4),
    ),
    "confidence": st.sampled_from(["{ below = 0.5 }", "{ at_least = 0.8 }"]),
    "queue_wait_seconds": st.sampled_from(["{ above = 900 }", "{ at_most = 300 }"]),
}


@st.composite
def random_profiles(draw) -> Profile:
    """A profile of safe rules with random rules slipped in among them."""
    rules = [(f"safe-{n}", when, action) for n, when, action in SAFE_RULES]
    rules = draw(st.lists(st.sampled_from(rules), unique=True, max_size=3))
    for i in range(draw(st.integers(0, 3))):
        fields = draw(
            st.lists(st.sampled_from(sorted(CONDITIONS)), min_size=1, max_size=3, unique=True)
        )
        when = ", ".join(f"{f} = {draw(CONDITIONS[f])}" for f in fields)
        action = draw(st.sampled_from([a.value for a in Action]))
        rules.insert(draw(st.integers(0, len(rules))), (f"random-{i}", f"{{ {when} }}", action))
    default = draw(st.sampled_from(["self_service", "self_service", "assisted", "offer_digital"]))
    text = 'name = "random"\ndescription = "Random."\n'
    for rule_id, when, action in rules:
        text += f'[[rule]]\nid = "{rule_id}"\nwhen = {when}\naction = "{action}"\nreason = "R."\n'
    return parse_profile(text + f'[default]\naction = "{default}"\nreason = "D."\n')


def replay(profile: Profile, violation) -> list[Decision]:
    """Play a counter-example's turns through the driver, from its starting state."""
    first = violation.steps[0].stages[0].context
    citizen = Citizen(first.channel, first.exemptions, first.age_band, first.identified)
    turns = []
    for step in violation.steps:
        before, after = step.stages[0].context, step.stages[-1].context
        world = World(
            asks=before.asked_for_person, open=before.business_hours, wait=before.queue_wait_seconds
        )
        if len(step.stages) == 2:
            world = replace(
                world,
                need=after.need,
                confidence=after.confidence,
                bot_up=after.bot_available,
                bot_fails=after.bot_failures > 0,
                repeat=after.repeat_contact,
                # A request only the bot heard, under another need: its handoff payload.
                handoff=after.asked_for_person and not before.asked_for_person,
            )
        turns.append(world)
    return Conversation(profile, citizen, first.bot_failures, first.digital_offered).play(turns)


@search(120)
@given(random_profiles(), st.data())
def test_the_checker_agrees_with_random_conversations(profile, data):
    report = check_profile(profile)
    event("checker: ok" if report.ok else "checker: trap found")

    if not report.ok:
        # Every counter-example is a conversation the service layer could really have.
        for violation in report.violations:
            outcomes = replay(profile, violation)
            assert [d.rule_id for d in outcomes] == [s.outcome.rule_id for s in violation.steps]
            assert not any(d.action in ASSISTED_SERVICE for d in outcomes)
        return
    # A profile the checker passes traps no one in any conversation we can draw.
    trigger = data.draw(st.sampled_from(["request", "failures", "exemption"]))
    citizen = data.draw(citizens(exempt=True if trigger == "exemption" else None))
    low = 1 if trigger == "failures" else 0
    talk = Conversation(profile, citizen, data.draw(st.integers(low, 5)), data.draw(st.booleans()))
    turns = data.draw(st.lists(worlds, min_size=MAX_STEPS, max_size=MAX_STEPS))
    if trigger == "request":
        turns = [replace(w, asks=True) for w in turns]
    if trigger == "failures":
        turns = [replace(w, bot_fails=True) for w in turns]

    assert reached_a_person(talk.play(turns), MAX_STEPS), report.render()
