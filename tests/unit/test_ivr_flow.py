"""The call flow as a pure state machine: no caller is ever left without an option."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr import flow
from ivr import prompts as p
from tests.properties import search

pytestmark = pytest.mark.unit

SETTINGS = flow.LineSettings(languages=("da", "en"), agency="Udbetaling Danmark")
TERMINAL = ("hangup", "enqueue", "leave")


class World:
    """The core as the flow sees it: the policy's guarantees, the rest chosen by the test."""

    def __init__(self, draw_outcome, draw_texted, draw_booked, is_open: bool = True) -> None:
        self.failures = 0
        self.offered = False
        self.draw_outcome = draw_outcome
        self.draw_texted = draw_texted
        self.draw_booked = draw_booked
        self.is_open = is_open
        self.tasks: list[flow.Task] = []

    def person(self) -> flow.TurnOutcome:
        return flow.TurnOutcome("assisted" if self.is_open else "callback", open=self.is_open)

    def __call__(self, task, call):  # noqa: ANN001, ANN204
        self.tasks.append(task)
        if isinstance(task, flow.CallerTurn):
            if p.has_word(p.PERSON_WORDS, call.lang, task.text):
                return self.person()
            outcome = self.draw_outcome()
            if outcome.action == "offer_digital" and self.offered:
                outcome = flow.TurnOutcome("self_service", said=("answer",))
            self.offered |= outcome.action == "offer_digital"
            if outcome.action == "self_service" and not outcome.understood:
                self.failures += 1
                if self.failures >= 2:  # the policy: two failed bot turns reach a person
                    return self.person()
            else:
                self.failures = 0
            return replace(outcome, open=self.is_open)
        if isinstance(task, flow.NotUnderstood):
            return self.person()
        if isinstance(task, flow.TextLink):
            return flow.Texted(self.draw_texted())
        return flow.CallbackTime(self.draw_booked(), at=None, open=self.is_open)


heard = st.one_of(
    st.just(flow.Heard()),
    st.builds(flow.Heard, digits=st.sampled_from(["0", "1", "2", "3", "4", "5", "9", "*", "#"])),
    st.builds(
        flow.Heard,
        speech=st.sampled_from(
            ["when is my pension paid", "yes", "no", "ja", "nej", "person", "medarbejder",
             "blah", "hvornår får jeg penge", "goodbye", "I want an agent", "menneske"]
        ),
        confidence=st.one_of(st.none(), st.floats(0, 1)),
    ),
    st.builds(flow.Heard, speech=st.text(max_size=30), confidence=st.floats(0, 1)),
)  # fmt: skip
outcomes = st.sampled_from(
    [
        flow.TurnOutcome("self_service", understood=True, said=("Here is the answer.",)),
        flow.TurnOutcome("self_service", understood=False),
        flow.TurnOutcome("offer_digital", said=("You can do it online.",)),
        flow.TurnOutcome("close", said=("Goodbye.",)),
        flow.TurnOutcome("assisted"),
        flow.TurnOutcome("callback"),
    ]
)


@search(300)
@given(
    data=st.data(),
    inputs=st.lists(heard, min_size=1, max_size=40),
    known_lang=st.sampled_from(["", "da", "en"]),
    is_open=st.booleans(),
)
def test_every_path_reaches_a_person_an_answer_or_a_callback(data, inputs, known_lang, is_open):
    world = World(
        lambda: data.draw(outcomes),
        lambda: data.draw(st.sampled_from(["sent", "opted_out", "no_link"])),
        lambda: data.draw(st.booleans()),
        is_open,
    )
    reply = flow.respond("start", flow.CallState(contact=7, lang=known_lang), flow.Heard(), world,
                         SETTINGS)  # fmt: skip
    for said in inputs:
        assert reply.say, "the phone never goes quiet on the caller"
        if reply.next in TERMINAL:
            break
        assert reply.gather is not None, "the caller is always listened to"
        reply = flow.respond(reply.gather.step, reply.state, said, world, SETTINGS)
    if reply.next in TERMINAL:
        # Where the call leaves the flow: a person, an answer given, the link sent or a
        # callback booked; never a hang-up without an option.
        assert reply.end in flow.ENDS
        if reply.next == "hangup":
            assert reply.end in ("self_service", "digital", "callback", "goodbye")
        if reply.end == "callback":
            assert any(isinstance(t, flow.Book) for t in world.tasks)
        if reply.end == "digital":
            assert isinstance(world.tasks[-1], flow.TextLink)


@search(200)
@given(prefix=st.lists(heard, max_size=6), way=st.sampled_from(["0", "person", "agent",
       "medarbejder", "menneske"]), is_open=st.booleans())  # fmt: skip
def test_a_person_is_reached_from_every_step(prefix, way, is_open):
    world = World(lambda: flow.TurnOutcome("self_service", said=("ok",)), lambda: "sent",
                  lambda: True, is_open)  # fmt: skip
    start = flow.CallState(contact=1, lang="en")
    reply = flow.respond("start", start, flow.Heard(), world, SETTINGS)
    for said in prefix:
        if reply.next in TERMINAL:
            return
        reply = flow.respond(reply.gather.step, reply.state, said, world, SETTINGS)
    if reply.next in TERMINAL or reply.gather.step == "language":
        return
    ask = flow.Heard(digits="0") if way == "0" else flow.Heard(speech=way, confidence=0.9)
    reply = flow.respond(reply.gather.step, reply.state, ask, world, SETTINGS)
    assert reply.end == ("person" if is_open else "callback")


def test_silence_twice_reaches_a_person():
    world = World(lambda: None, lambda: "sent", lambda: True)
    call = flow.CallState(contact=1, lang="da")
    first = flow.respond("heard", call, flow.Heard(), world, SETTINGS)
    assert first.gather.step == "heard" and first.say == (p.text("da", "silence"),)
    second = flow.respond("heard", first.state, flow.Heard(), world, SETTINGS)
    assert second.next == "enqueue" and world.tasks == [flow.NotUnderstood("silence")]


def test_low_confidence_is_asked_again_in_other_words_once_then_a_person():
    world = World(lambda: None, lambda: "sent", lambda: True)
    mumble = flow.Heard(speech="pen shun", confidence=0.1)
    first = flow.respond("heard", flow.CallState(contact=1, lang="en"), mumble, world, SETTINGS)
    assert first.say == (p.text("en", "ask_again"),) and world.tasks == []
    second = flow.respond("heard", first.state, mumble, world, SETTINGS)
    assert second.next == "enqueue" and world.tasks == [flow.NotUnderstood("low_confidence", 0.1)]


def test_a_keypad_digit_goes_through_the_turn_as_the_need_it_stands_for():
    world = World(
        lambda: flow.TurnOutcome("self_service", said=("x",)), lambda: "sent", lambda: True
    )
    flow.respond("heard", flow.CallState(contact=1, lang="da"), flow.Heard(digits="1"), world,
                 SETTINGS)  # fmt: skip
    assert world.tasks == [flow.CallerTurn("hvornår bliver min ydelse udbetalt", input="dtmf")]


def test_an_unknown_caller_chooses_among_the_offered_languages_and_a_known_one_does_not():
    world = World(lambda: None, lambda: "sent", lambda: True)
    unknown = flow.respond("start", flow.CallState(contact=1), flow.Heard(), world, SETTINGS)
    assert unknown.gather.step == "language"
    assert unknown.say[1:] == ("For dansk, tryk 1.", "For English, press 2.")
    known = flow.respond("start", flow.CallState(contact=1, lang="da", known=True), flow.Heard(),
                         world, SETTINGS)  # fmt: skip
    assert known.gather.step == "heard" and known.lang == "da"
    one = flow.respond("start", flow.CallState(contact=1), flow.Heard(), world,
                       replace(SETTINGS, languages=("en",)))  # fmt: skip
    assert one.gather.step == "heard" and one.lang == "en"


def test_declining_the_text_reaches_a_person_and_a_stop_is_said_and_respected():
    world = World(lambda: None, lambda: "opted_out", lambda: True)
    call = flow.CallState(contact=1, lang="en")
    reply = flow.respond("offer", call, flow.Heard(speech="yes please", confidence=0.9), world,
                         SETTINGS)  # fmt: skip
    assert reply.say[0] == p.text("en", "link_blocked") and reply.end == "person"


def test_waiting_long_offers_a_callback_and_pressing_1_books_it_and_leaves_the_queue():
    call = flow.CallState(contact=3, lang="da")
    early = flow.wait(call, 3, 600, 30, SETTINGS)
    assert early.gather is None and early.next == "pause"
    assert early.say == ("Du er nummer 3 i køen.", "Den forventede ventetid er cirka 10 minutter.")
    late = flow.wait(call, 3, 600, SETTINGS.callback_offer_seconds, SETTINGS)
    assert late.gather.step == "wait-choice" and late.say[-1] == p.text("da", "callback_offer")
    world = World(lambda: None, lambda: "sent", lambda: True)
    booked = flow.respond("wait-choice", call, flow.Heard(digits="1"), world, SETTINGS)
    assert world.tasks == [flow.Book("waited_too_long")] and booked.next == "leave"


def test_out_of_hours_a_callback_is_booked_for_opening_time_and_said():
    world = World(lambda: None, lambda: "sent", lambda: True, is_open=False)
    at = datetime(2026, 11, 30, 8, 0)
    world.draw_booked = lambda: True

    def perform(task, call):  # noqa: ANN001, ANN202
        world.tasks.append(task)
        if isinstance(task, flow.Book):
            return flow.CallbackTime(True, at=at, open=False, hours=("08:00", "16:00"))
        return flow.TurnOutcome("callback", open=False)

    reply = flow.respond("heard", flow.CallState(contact=1, lang="en"), flow.Heard(digits="0"),
                         perform, SETTINGS)  # fmt: skip
    assert world.tasks[-1] == flow.Book("out_of_hours")
    assert reply.next == "hangup" and reply.end == "callback"
    assert "on Monday at 08:00" in reply.say[0] and "from 08:00 to 16:00" in reply.say[0]


def test_every_language_has_a_valid_voice_pair_and_its_prompts_in_the_catalogues():
    from router.service.translations import available

    assert p.VOICES["da"] == p.Voice("da-DK", "Polly.Naja", "default")
    assert p.VOICES["en"].language == "en-GB" and p.VOICES["en"].voice == "Polly.Amy"
    for lang, voice in p.VOICES.items():
        assert voice.voice in p.POLLY_VOICES[voice.language], lang
        assert lang in available(), f"the phone speaks {lang}: kanal needs its catalogue"
        assert lang in p.PERSON_WORDS and lang in p.NEED_HINTS and "pension" in p.hints(lang)
    # Danish is said in Danish (test_translations checks every message id in every language).
    assert p.choose_language("da", 1) == "For dansk, tryk 1."
    assert p.text("da", "queue_next") == "Du er den næste i køen."
    assert p.weekday("da", 0) == "mandag" and p.weekday("en", 0) == "Monday"
    assert p.menu("da").startswith("tryk 1 for udbetalinger, tryk 2 for din ansøgning")


def test_the_phones_words_are_marked_for_the_catalogues():
    from tests.unit.test_translations import extracted

    marked = extracted()
    spoken = [*p.PROMPTS.values(), p.CHOOSE_LANGUAGE, *p.WEEKDAYS, *p.NEED_NAMES.values(),
              *p.NEED_PHRASES.values()]  # fmt: skip
    assert not [m for m in spoken if m not in marked], "mark with N_() and list ivr/ in babel.cfg"


def test_the_recogniser_is_hinted_with_every_need_the_bot_serves():
    import yaml

    from bots.train import PROJECT_DIR

    routes = yaml.safe_load((PROJECT_DIR / "digital_routes.yml").read_text(encoding="utf-8"))
    for lang in p.VOICES:
        assert set(p.NEED_HINTS[lang]) == set(routes["routes"]), lang
        assert p.hints(lang).count(",") >= len(routes["routes"])


@pytest.mark.parametrize("said", ["agent", "person", "medarbejder", "menneske", "I want a person."])
def test_person_words_work_in_both_languages(said):
    assert flow.asks_for_person(flow.Heard(speech=said), "da")
    assert flow.asks_for_person(flow.Heard(speech=said), "en")


def test_a_caller_with_a_callback_pending_hears_it_and_keeps_or_cancels_it():
    pending = flow.CallbackTime(True, at=datetime(2026, 12, 2, 8, 0))  # a Wednesday
    call = flow.CallState(contact=4, lang="en", known=True, pending=pending)
    greeting = flow.respond("start", call, flow.Heard(), World(None, None, None), SETTINGS)
    assert greeting.say == (
        "Welcome to Udbetaling Danmark. We recognise your number.",
        "You already have a call back booked: we will call you on Wednesday at 08:00. "
        "To keep it, press 1. To cancel it, press 2. For something else, press 3.",
    )
    assert (greeting.gather.step, greeting.gather.input) == ("pending", "dtmf")
    after = greeting.state
    world = World(lambda: None, lambda: "sent", lambda: True)
    kept = flow.respond("pending", after, flow.Heard(digits="1"), world, SETTINGS)
    assert (kept.next, kept.end, world.tasks) == ("hangup", "callback", [])

    def cancelling(ok):  # noqa: ANN001, ANN202
        tasks = []

        def perform(task, call):  # noqa: ANN001, ANN202
            tasks.append(task)
            return flow.Cancelled(ok)

        return tasks, perform

    tasks, perform = cancelling(True)
    cancelled = flow.respond("pending", after, flow.Heard(digits="2"), perform, SETTINGS)
    assert tasks == [flow.CancelCallback()]
    assert cancelled.say[0] == "Your call back is cancelled." and cancelled.gather.step == "heard"
    _, ringing = cancelling(False)
    refused = flow.respond("pending", after, flow.Heard(digits="2"), ringing, SETTINGS)
    assert refused.say[0].startswith("I'm sorry, we are calling you back right now")
    for other in (flow.Heard(digits="3"), flow.Heard()):  # something else, or silence
        on = flow.respond("pending", after, other, world, SETTINGS)
        assert on.gather.step == "heard" and on.say == (p.text("en", "ask", menu=p.menu("en")),)
    person = flow.respond("pending", after, flow.Heard(digits="0"), World(
        lambda: None, lambda: "sent", lambda: True), SETTINGS)  # fmt: skip
    assert person.next == "enqueue"


def test_without_a_pending_callback_the_greeting_is_unchanged():
    call = flow.CallState(contact=4, lang="da", known=True)
    reply = flow.respond("start", call, flow.Heard(), World(None, None, None), SETTINGS)
    assert reply.gather.step == "heard"
    assert (
        reply.say[0] == "Velkommen til Udbetaling Danmark. Vi kan se, hvem du er ud fra dit nummer."
    )


@pytest.mark.parametrize(("lang", "said"), [("en", "can you call me back"),
                                            ("da", "kan I ringe mig op")])  # fmt: skip
def test_a_caller_who_asks_to_be_called_back_gets_a_callback_instead_of_the_queue(lang, said):
    world = World(lambda: flow.TurnOutcome("assisted"), lambda: "sent", lambda: True)
    reply = flow.respond("heard", flow.CallState(contact=1, lang=lang),
                         flow.Heard(speech=said, confidence=0.9), world, SETTINGS)  # fmt: skip
    assert world.tasks == [flow.CallerTurn(said, 0.9), flow.Book("asked")]
    assert reply.next == "hangup" and reply.end == "callback"
    assert reply.say == (p.text(lang, "callback_booked", when=p.text(lang, "when_soon")),)


def test_asking_for_a_callback_does_not_skip_what_the_policy_says_first():
    world = World(lambda: flow.TurnOutcome("offer_digital", said=("Online: x",)), lambda: "sent",
                  lambda: True)  # fmt: skip
    reply = flow.respond("heard", flow.CallState(contact=1, lang="en"),
                         flow.Heard(speech="call me back about my pension", confidence=0.9),
                         world, SETTINGS)  # fmt: skip
    assert reply.gather.step == "offer" and not any(isinstance(t, flow.Book) for t in world.tasks)


def test_a_caller_who_chose_a_language_is_asked_at_once_not_welcomed_twice():
    world = World(lambda: None, lambda: "sent", lambda: True)
    choice = flow.respond("start", flow.CallState(contact=1), flow.Heard(), world, SETTINGS)
    assert choice.say[0] == "Velkommen til Udbetaling Danmark."
    english = flow.respond("language", choice.state, flow.Heard(digits="2"), world, SETTINGS)
    assert english.lang == "en" and english.say == (p.text("en", "ask", menu=p.menu("en")),)


def test_a_caller_who_asks_a_person_to_call_back_gets_a_callback():
    world = World(lambda: None, lambda: "sent", lambda: True)
    said = "kan en medarbejder ringe mig op"
    reply = flow.respond("heard", flow.CallState(contact=1, lang="da"),
                         flow.Heard(speech=said, confidence=0.9), world, SETTINGS)  # fmt: skip
    assert world.tasks[-1] == flow.Book("asked") and reply.end == "callback"


def test_a_callback_a_surge_rule_chose_is_booked_as_the_surges_not_as_asked():
    tasks: list[flow.Task] = []

    def perform(task, call):  # noqa: ANN001, ANN202
        tasks.append(task)
        if isinstance(task, flow.Book):
            return flow.CallbackTime(True, at=None, open=True)
        return flow.TurnOutcome("callback", open=True, surge=True)

    reply = flow.respond("heard", flow.CallState(contact=1, lang="en"), flow.Heard(digits="0"),
                         perform, SETTINGS)  # fmt: skip
    assert tasks[-1] == flow.Book("surge")
    assert reply.end == "callback"
