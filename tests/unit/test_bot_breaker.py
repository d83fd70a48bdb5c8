"""The bot's circuit breaker and bulkhead: an outage opens the circuit, one odd message never.

Rules (bots/breaker.py): only outages count (refused, 5xx, timeout); an answer of any other
kind resets the count; a call that never reached the bot counts for nothing; an open circuit
lets one trial through after `reset_after`, or a probe of /status, and closes on its own.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
import requests

from bots.breaker import CircuitBreaker, Outcome
from bots.client import RasaBot
from bots.outbound import MAX_TEXT, MAX_WORDS, NotAPseudonym, clean_text, payload
from tests.unit.test_bot_client import PAYMENT_TEXT, Answer, Clock, StandInSession, channel_answer

pytestmark = pytest.mark.unit

ANSWERED, OUTAGE, NEUTRAL = Outcome.ANSWERED, Outcome.OUTAGE, Outcome.NEUTRAL
ROOT = Path(__file__).resolve().parents[2]


def breaker(clock: Clock, threshold: int = 3, reset_after: float = 30.0, **kwargs):
    return CircuitBreaker(threshold, reset_after, clock, **kwargs)


def fail(b: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        b.record(b.allow(), OUTAGE)


# -- the breaker's rules --------------------------------------------------------------------


def test_outages_in_a_row_open_the_circuit_and_it_refuses_until_the_reset_time():
    clock = Clock()
    b = breaker(clock)
    fail(b, 2)
    assert b.snapshot().state == "closed" and b.allow() is not None
    fail(b, 1)

    assert b.snapshot().state == "open" and b.allow() is None
    clock.now += 29.9
    assert b.allow() is None and b.snapshot().retry_in == pytest.approx(0.1)


@pytest.mark.parametrize("outcome", [ANSWERED, NEUTRAL])
def test_only_outages_count(outcome):
    clock = Clock()
    b = breaker(clock, threshold=2)
    for _ in range(50):
        b.record(b.allow(), outcome)

    assert b.snapshot().state == "closed" and b.snapshot().failures == 0


def test_an_answer_starts_the_count_again_and_a_neutral_outcome_does_not():
    clock = Clock()
    b = breaker(clock, threshold=3)
    fail(b, 2)
    b.record(b.allow(), ANSWERED)
    fail(b, 2)
    assert b.snapshot().state == "closed"
    b.record(b.allow(), NEUTRAL)
    fail(b, 1)
    assert b.snapshot().state == "open", "a neutral outcome neither counts nor resets"


def test_after_the_reset_time_one_trial_goes_through_and_an_answer_closes_the_circuit():
    clock = Clock()
    b = breaker(clock, threshold=1, reset_after=5.0)
    fail(b, 1)
    clock.now += 5.0

    trial = b.allow()
    assert trial is not None and trial.trial
    assert [b.allow(), b.allow()] == [None, None], "one trial at a time"
    assert b.snapshot().state == "half-open"
    b.record(trial, ANSWERED)
    assert b.snapshot() == b.snapshot().__class__("closed", 0, 0.0)
    assert b.allow() is not None


def test_a_failed_trial_opens_the_circuit_for_the_full_reset_time_again():
    clock = Clock()
    b = breaker(clock, threshold=1, reset_after=5.0)
    fail(b, 1)
    clock.now += 5.0
    b.record(b.allow(), OUTAGE)

    clock.now += 4.9
    assert b.allow() is None and b.snapshot().state == "open"
    clock.now += 0.1
    assert b.allow().trial


def test_a_neutral_trial_hands_the_trial_to_the_next_caller():
    clock = Clock()
    b = breaker(clock, threshold=1, reset_after=5.0)
    fail(b, 1)
    clock.now += 5.0
    b.record(b.allow(), NEUTRAL)  # e.g. it found the bulkhead full: it never reached the bot

    assert b.snapshot().state == "half-open"
    assert b.allow().trial


def test_a_trial_that_never_reports_is_given_up_after_its_lease():
    clock = Clock()
    b = breaker(clock, threshold=1, reset_after=5.0, trial_lease=10.0)
    fail(b, 1)
    clock.now += 5.0
    lost = b.allow()
    clock.now += 9.9
    assert b.allow() is None
    clock.now += 0.1

    again = b.allow()
    assert again is not None and again.trial, "the circuit is not stuck half-open"
    b.record(again, ANSWERED)
    b.record(lost, OUTAGE)  # the lost trial turns up late: it says nothing about now
    assert b.snapshot().state == "closed"


def test_outcomes_of_calls_allowed_under_an_earlier_circuit_are_ignored():
    clock = Clock()
    b = breaker(clock, threshold=2, reset_after=5.0)
    slow = [b.allow() for _ in range(5)]  # five calls under way when the bot went down
    b.record(slow[0], OUTAGE)
    b.record(slow[1], OUTAGE)
    assert b.snapshot().state == "open"
    clock.now += 5.0
    b.record(b.allow(), ANSWERED)  # the trial: the bot is back

    for ticket in slow[2:]:
        b.record(ticket, OUTAGE)  # their timeouts arrive after the recovery
    assert b.snapshot().state == "closed", "old calls do not reopen a recovered circuit"


def test_a_breaker_refuses_a_nonsense_configuration():
    with pytest.raises(ValueError):
        CircuitBreaker(threshold=0, reset_after=1.0)


# -- the client: which failures are outages -------------------------------------------------


def bot_with(session: StandInSession, **kwargs) -> RasaBot:
    kwargs.setdefault("probe", False)
    return RasaBot("http://rasa.test:5005", session_factory=lambda: session, **kwargs)


@pytest.mark.parametrize(
    "answer",
    [
        Answer(400, {"error": "message too long"}),
        Answer(422, {"error": "unprocessable"}),
        channel_answer(),  # [] : the bot is up but said nothing
        Answer(200, ValueError("not json")),
    ],
)
def test_a_message_the_bot_turns_down_fails_its_turn_and_never_opens_the_circuit(answer):
    bot = bot_with(StandInSession(answer), failure_threshold=3)

    turns = [bot.turn("k_c1", "x" * 5000) for _ in range(20)]

    assert all(not t.ok for t in turns)
    assert all(t.error != "circuit-open" for t in turns)
    assert bot.breaker.snapshot().state == "closed"


@pytest.mark.parametrize(
    "answer",
    [requests.ConnectionError("refused"), requests.Timeout(), Answer(500), Answer(503)],
)
def test_an_outage_opens_the_circuit_at_the_threshold(answer):
    session = StandInSession(answer, status=requests.ConnectionError("refused"))
    bot = bot_with(session, failure_threshold=3, down_after=0.0)

    errors = [bot.turn("k_c1", "hi").error for _ in range(5)]

    assert errors[3:] == ["circuit-open", "circuit-open"]
    assert len(session.posts) == 3


def test_rejected_messages_between_outages_show_the_bot_is_up():
    session = StandInSession(
        requests.Timeout(), requests.Timeout(), Answer(400, {"error": "message too long"}),
        requests.Timeout(), requests.Timeout(), channel_answer(),
    )  # fmt: skip
    bot = bot_with(session, failure_threshold=3, down_after=0.0)

    for _ in range(6):
        bot.turn("k_c1", "hi")

    assert bot.breaker.snapshot().state == "closed"


def test_a_timeout_while_rasa_answers_other_calls_is_slow_not_down():
    clock = Clock()
    session = StandInSession(channel_answer(PAYMENT_TEXT))
    bot = bot_with(session, timeout=2.5, failure_threshold=3, clock=clock)
    assert bot.turn("k_c1", "when is my pension paid").ok  # Rasa answered at 1000.0
    session.answers = [requests.Timeout()]
    clock.now += 9.9  # within 4 budgets (10 s) of that answer

    errors = [bot.turn("k_c1", "!!!???" * 50).error for _ in range(10)]

    assert errors == ["timeout"] * 10, "each slow turn fails; none is refused by the circuit"
    assert bot.breaker.closed and session.gets == []


def test_timeouts_after_rasa_went_silent_are_an_outage():
    clock = Clock()
    session = StandInSession(channel_answer(PAYMENT_TEXT))
    bot = bot_with(session, timeout=2.5, failure_threshold=3, clock=clock)
    bot.turn("k_c1", "when is my pension paid")
    session.answers = [requests.Timeout()]
    clock.now += 10.0  # nothing answered for 4 budgets: hung, not slow

    errors = [bot.turn("k_c1", "hi").error for _ in range(4)]

    assert errors == ["timeout", "timeout", "timeout", "circuit-open"]


def test_a_rasa_that_never_answered_is_down_once_the_silence_is_long_enough():
    clock = Clock()
    session = StandInSession(requests.Timeout())
    bot = bot_with(session, timeout=2.5, failure_threshold=3, clock=clock)
    assert [bot.turn("k_c1", "hi").error for _ in range(4)][-1] == "timeout", "slow, maybe"
    clock.now += 10.0

    assert [bot.turn("k_c1", "hi").error for _ in range(4)][-1] == "circuit-open"


def test_the_status_probe_closes_an_open_circuit_when_rasa_is_back():
    clock = Clock()
    session = StandInSession(requests.ConnectionError("refused"))
    bot = bot_with(session, failure_threshold=1, reset_after=10.0, clock=clock)
    bot.turn("k_c1", "hi")
    session.answers = [Answer(200, {"model_file": "models/kanal.tar.gz"})]

    bot.probe()
    assert bot.breaker.snapshot().state == "open", "no probe before the reset time"
    assert session.gets == []
    clock.now += 10.0
    bot.probe()

    assert bot.breaker.snapshot().state == "closed"
    assert session.gets == ["http://rasa.test:5005/status"]


def test_a_probe_of_a_bot_still_down_keeps_the_circuit_open():
    clock = Clock()
    session = StandInSession(requests.ConnectionError("refused"))
    bot = bot_with(session, failure_threshold=1, reset_after=10.0, clock=clock)
    bot.turn("k_c1", "hi")
    clock.now += 10.0

    status = bot.status()  # /readyz probes once it is due

    assert status["state"] == "circuit-open" and status["retry_in_s"] == 10.0
    assert len(session.gets) == 1


# -- the bulkhead ---------------------------------------------------------------------------


class BlockingSession(StandInSession):
    """Holds every post until released, counting how many are in flight at once."""

    def __init__(self) -> None:
        super().__init__(channel_answer(PAYMENT_TEXT))
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.in_flight = self.most = 0

    def post(self, url, json, timeout):
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        self.release.wait(5)
        with self.lock:
            self.in_flight -= 1
        return super().post(url, json, timeout)


def test_the_bulkhead_bounds_the_calls_at_once_and_a_turn_without_a_slot_is_busy_not_down():
    session = BlockingSession()
    bot = RasaBot(
        "http://rasa.test", timeout=0.4, concurrency=2, failure_threshold=1,
        session_factory=lambda: session, probe=False,
    )  # fmt: skip
    results: list = []
    threads = [
        threading.Thread(target=lambda: results.append(bot.turn("k_c1", "hi"))) for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    threads[0].join(0.6)  # the four without a slot give up after half the budget (0.2 s)
    session.release.set()
    for thread in threads:
        thread.join()

    assert session.most == 2
    assert sorted(t.error or "ok" for t in results) == ["busy"] * 4 + ["ok"] * 2
    assert bot.breaker.snapshot().state == "closed", "waiting for a slot is not an outage"


# -- what is sent ---------------------------------------------------------------------------


def test_control_characters_and_lone_surrogates_are_cleaned_and_the_text_capped():
    assert clean_text("a\x00b\x1bc\x7fd\x85e") == "a b c d e"
    assert clean_text("line one\nline\ttwo") == "line one\nline\ttwo"
    assert clean_text("half \ud83d pair 😀 ok") == "half  pair 😀 ok"
    assert clean_text("ø" * 5000) == "ø" * MAX_TEXT


def test_what_would_stall_the_bot_is_cut_short():
    assert clean_text("Really?!!!!!!!!!! 😀😀😀😀😀😀😀") == "Really?!!! 😀😀😀"
    assert clean_text("!!!???...,,,;;;" * 40) == "!!!???...,,,"
    assert clean_text("pension " * 300) == " ".join(["pension"] * MAX_WORDS)
    assert clean_text("When is my pension paid? It's late...") == (
        "When is my pension paid? It's late..."
    )


def test_the_cap_is_what_kanals_rasa_channel_accepts():
    channel = (ROOT / "bots" / "rasa" / "kanal_channel.py").read_text()

    assert re.search(r"^MAX_TEXT = (\d+)", channel, re.M).group(1) == str(MAX_TEXT)


@pytest.mark.parametrize(
    "sender", ["+4520001234", "4520001234", "Jens Hansen", "", "k_" + "a" * 80]
)
def test_only_a_pseudonymous_sender_id_is_sent(sender):
    with pytest.raises(NotAPseudonym):
        payload(sender, "hi", None)

    session = StandInSession(channel_answer(PAYMENT_TEXT))
    turn = bot_with(session).turn(sender, "hi")
    assert not turn.ok and session.posts == []


def test_the_language_is_sent_only_when_it_looks_like_one():
    assert payload("k_0a1b", "hej", "da")["metadata"] == {"language": "da"}
    assert "metadata" not in payload("k_0a1b", "hej", "da'; drop table")
    assert payload("k_0a1b", "a\x00" * 3000, None)["message"] == " ".join(["a"] * MAX_WORDS)


def test_the_bulkhead_halves_on_a_call_past_its_time_and_grows_back_with_answers():
    from bots.bulkhead import Bulkhead

    bulkhead = Bulkhead(4)
    for _ in range(3):
        assert bulkhead.enter(0)
        bulkhead.leave(slow=True)
    assert bulkhead.limit == 1
    assert bulkhead.enter(0) and not bulkhead.enter(0.01), "one call at a time now"
    bulkhead.leave(slow=False)
    for _ in range(1 + 2 + 3):
        assert bulkhead.enter(0)
        bulkhead.leave(slow=False)
    assert bulkhead.limit == 4
    bulkhead.enter(0)
    bulkhead.leave(slow=None)
    assert (bulkhead.limit, bulkhead.in_flight) == (4, 0)
