"""The Rasa bot client: what a turn means, what counts as failure, what is sent, the bulkhead.

The breaker's own rules are in test_bot_breaker.py."""

from __future__ import annotations

import threading

import pytest
import requests

from bots.client import WEBHOOK_PATH, RasaBot

pytestmark = pytest.mark.unit


class Answer:
    """A stand-in for requests.Response."""

    def __init__(self, status: int = 200, body: object = None) -> None:
        self.status_code = status
        self._body = body

    def json(self) -> object:
        if isinstance(self._body, Exception):
            raise self._body
        return self._body


class StandInSession:
    """A stand-in for requests.Session: answers from a script and records what it was sent."""

    def __init__(self, *answers: object, status: object = None) -> None:
        self.answers = list(answers)
        self.status = status  # what GET /status answers, when not the next scripted answer
        self.posts: list[tuple[str, dict, object]] = []
        self.gets: list[str] = []

    def _next(self) -> Answer:
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def post(self, url: str, json: dict, timeout: object) -> Answer:
        self.posts.append((url, json, timeout))
        return self._next()

    def get(self, url: str, timeout: object) -> Answer:
        self.gets.append(url)
        if self.status is not None:
            if isinstance(self.status, Exception):
                raise self.status
            return self.status
        return self._next()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def channel_answer(*messages: dict, intent: str = "payment_date", confidence: float = 0.93):
    return Answer(
        200,
        {
            "messages": list(messages),
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": intent, "confidence": confidence}],
        },
    )


def bot_with(session: StandInSession, **kwargs) -> RasaBot:
    kwargs.setdefault("probe", False)  # no timer thread: the tests move the clock themselves
    kwargs.setdefault("down_after", 0.0)  # every timeout counts (slow vs down: test_bot_breaker)
    return RasaBot("http://rasa.test:5005/", session_factory=lambda: session, **kwargs)


PAYMENT_TEXT = {"text": "You can see the dates at https://example.gov/payments/dates."}


def test_an_answered_turn_carries_the_bot_text_intent_and_confidence():
    session = StandInSession(channel_answer(PAYMENT_TEXT))

    turn = bot_with(session).turn("c-7f3a", "when will my pension be paid")

    assert turn.ok and turn.error is None
    assert turn.messages == ("You can see the dates at https://example.gov/payments/dates.",)
    assert (turn.intent, turn.confidence, turn.handoff) == ("payment_date", 0.93, False)


def test_the_bot_is_asked_once_under_the_opaque_id_with_the_language():
    session = StandInSession(channel_answer(PAYMENT_TEXT))

    bot_with(session, timeout=1.5).turn("c-7f3a", "hej", language="da")

    assert len(session.posts) == 1
    url, body, timeout = session.posts[0]
    assert url == "http://rasa.test:5005" + WEBHOOK_PATH
    assert body == {"sender": "c-7f3a", "message": "hej", "metadata": {"language": "da"}}
    assert 0.75 <= timeout <= 1.5, "the call gets what is left of the turn's budget"


def test_a_handoff_payload_marks_the_turn_as_a_handoff():
    session = StandInSession(
        channel_answer(
            {"text": "I will pass you to a person."},
            {"custom": {"handoff": True, "reason": "asked_for_person"}},
            intent="request_person",
        )
    )

    turn = bot_with(session).turn("c-1", "I want to talk to a person")

    assert turn.ok and turn.handoff
    assert turn.messages == ("I will pass you to a person.",)


def test_a_custom_payload_without_handoff_is_not_a_handoff():
    session = StandInSession(channel_answer({"text": "Hello"}, {"custom": {"handoff": "no"}}))

    assert bot_with(session).turn("c-1", "hi").handoff is False


def test_an_empty_answer_is_a_failed_turn_that_keeps_what_was_understood():
    session = StandInSession(channel_answer(intent="payment_date", confidence=0.8))

    turn = bot_with(session).turn("c-1", "when will my pension be paid")

    assert not turn.ok and turn.error == "no answer"
    assert turn.messages == () and turn.intent == "payment_date"


def test_blank_text_only_counts_as_no_answer():
    session = StandInSession(channel_answer({"text": "   "}))

    assert bot_with(session).turn("c-1", "hi").ok is False


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (requests.Timeout("read timed out"), "timeout"),
        (requests.ConnectionError("refused"), "unreachable: ConnectionError"),
        (Answer(500, {"error": "boom"}), "http 500"),
        (Answer(503, {"error": "no model loaded"}), "http 503"),
        (Answer(200, ValueError("not json")), "invalid answer"),
        (Answer(200, ["not", "an", "object"]), "invalid answer"),
    ],
)
def test_a_down_slow_or_broken_bot_gives_a_failed_turn(answer, error):
    turn = bot_with(StandInSession(answer)).turn("c-1", "when will my pension be paid")

    assert not turn.ok
    assert turn.error == error
    assert turn.messages == ()


def test_an_unexpected_error_is_a_failed_turn_not_a_crash():
    session = StandInSession(RuntimeError("bug in a library"))

    turn = bot_with(session).turn("c-1", "hi")

    assert not turn.ok and turn.error == "unexpected: RuntimeError"


def test_after_three_failures_in_a_row_the_bot_is_not_asked_until_the_reset_time():
    clock = Clock()
    session = StandInSession(requests.ConnectionError("refused"))
    bot = bot_with(session, failure_threshold=3, reset_after=30.0, clock=clock)

    for _ in range(3):
        assert bot.turn("c-1", "hi").error == "unreachable: ConnectionError"
    clock.now += 29.0
    fast = bot.turn("c-1", "hi")

    assert fast.ok is False and fast.error == "circuit-open"
    assert len(session.posts) == 3, "an open circuit does not call Rasa"
    status = bot.status()
    assert status["state"] == "circuit-open" and status["retry_in_s"] == 1.0
    assert session.gets == []


def test_after_the_reset_time_one_good_trial_closes_the_circuit():
    clock = Clock()
    session = StandInSession(
        requests.Timeout(),
        requests.Timeout(),
        requests.Timeout(),
        channel_answer(PAYMENT_TEXT),
        status=requests.Timeout(),  # Rasa hangs: its /status does not answer either
    )
    bot = bot_with(session, failure_threshold=3, reset_after=30.0, clock=clock)
    for _ in range(3):
        bot.turn("c-1", "hi")

    clock.now += 30.0
    trial = bot.turn("c-1", "when will my pension be paid")
    after = bot.turn("c-1", "when will my pension be paid")

    assert trial.ok and after.ok
    assert len(session.posts) == 5
    assert bot.breaker.snapshot().state == "closed"


def test_a_failed_trial_opens_the_circuit_again_for_the_full_reset_time():
    clock = Clock()
    session = StandInSession(requests.Timeout(), status=requests.Timeout())
    bot = bot_with(session, failure_threshold=3, reset_after=30.0, clock=clock)
    for _ in range(3):
        bot.turn("c-1", "hi")

    clock.now += 30.0
    assert bot.turn("c-1", "hi").error == "timeout"
    clock.now += 29.0
    assert bot.turn("c-1", "hi").error == "circuit-open"
    assert len(session.posts) == 4


def test_failures_must_be_consecutive_to_open_the_circuit():
    session = StandInSession(
        requests.Timeout(), requests.Timeout(), channel_answer(PAYMENT_TEXT),
        requests.Timeout(), requests.Timeout(), channel_answer(PAYMENT_TEXT),
    )  # fmt: skip
    bot = bot_with(session, failure_threshold=3)

    outcomes = [bot.turn("c-1", "hi").ok for _ in range(6)]

    assert outcomes == [False, False, True, False, False, True]
    assert bot.breaker.snapshot().state == "closed"


def test_each_thread_talks_through_its_own_session():
    made: list[StandInSession] = []

    def factory() -> StandInSession:
        made.append(StandInSession(channel_answer(PAYMENT_TEXT)))
        return made[-1]

    bot = RasaBot("http://rasa.test", session_factory=factory, probe=False)
    threads = [threading.Thread(target=bot.turn, args=(f"c-{i}", "hi")) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bot.turn("c-main", "hi")
    bot.turn("c-main", "hi")

    assert len(made) == 5
    assert sorted(len(s.posts) for s in made) == [1, 1, 1, 1, 2]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            Answer(200, {"model_file": "models/kanal.tar.gz"}),
            {"state": "up", "model": "kanal.tar.gz"},
        ),
        (
            Answer(409, {"message": "No agent loaded"}),
            {"state": "down", "error": "no model loaded"},
        ),
        (requests.ConnectionError(), {"state": "down", "error": "unreachable: ConnectionError"}),
        (requests.Timeout(), {"state": "down", "error": "timeout"}),
    ],
)
def test_status_tells_whether_the_bot_can_answer(answer, expected):
    session = StandInSession(answer)

    status = bot_with(session).status()

    assert {k: status[k] for k in expected} == expected
    assert session.gets == ["http://rasa.test:5005/status"]


class HeldSession(StandInSession):
    """A session whose first call is held until `release` is set (Rasa busy on one message)."""

    def __init__(self) -> None:
        super().__init__(channel_answer(PAYMENT_TEXT))
        self.release = threading.Event()
        self.entered = threading.Event()
        self._first = True
        self._lock = threading.Lock()

    def post(self, url: str, json: dict, timeout: object) -> Answer:
        with self._lock:
            first, self._first = self._first, False
        if first:
            self.entered.set()
            self.release.wait(5)
        return super().post(url, json, timeout)


def _one_slot_busy(**kwargs):
    session = HeldSession()
    bot = bot_with(session, concurrency=1, timeout=0.4, **kwargs)
    holder = threading.Thread(target=bot.turn, args=("k_held", "when is my pension paid"))
    holder.start()
    assert session.entered.wait(2)
    return bot, session, holder


def test_a_spoken_turn_that_finds_the_bot_busy_fails_within_half_its_budget():
    bot, session, holder = _one_slot_busy()
    try:
        assert bot.turn("k_caller", "when is my pension paid").error == "busy"
    finally:
        session.release.set()
        holder.join(2)


def test_a_written_turn_waits_its_longer_wait_for_the_bot_and_gets_the_whole_budget():
    bot, session, holder = _one_slot_busy()
    threading.Timer(0.6, session.release.set).start()  # past the spoken turn's 0.2 s
    turn = bot.turn("k_writer", "when is my pension paid", wait=3.0)
    holder.join(2)
    assert turn.ok and turn.intent == "payment_date"
    assert session.posts[-1][2] == 0.4  # the call's timeout: the whole budget, not what was left


def test_turns_waiting_for_the_bot_get_it_in_the_order_they_came():
    bot, session, holder = _one_slot_busy()
    order: list[str] = []
    waiters = []
    for name in ("first", "second", "third"):
        waiter = threading.Thread(
            target=lambda n=name: order.append(n) if bot.turn(f"k_{n}", "hi", wait=3).ok else 0
        )
        waiter.start()
        waiters.append(waiter)
        threading.Event().wait(0.05)  # they ask one after another
    session.release.set()
    for waiter in [holder, *waiters]:
        waiter.join(3)
    assert order == ["first", "second", "third"]
