"""The phone's figures a manager sees: the deflection funnel, callbacks and abandonment.

Calls go through the phone's service (`kanal.calls`: answer, turn, text the link, queue,
hang up), callbacks through the callbacks service with a scripted caller, and completions
through the integration API the agency's self-service calls, so the events are the ones the
service writes. One day (Monday 2 March 2026, always open); the numbers are counted by hand
from the story each test tells.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from router import create_app
from router.domain.commands import AgentReply, ClaimNext, Resolve
from router.entrypoints.auth import create_token, create_user
from router.entrypoints.bootstrap import kanal_of
from router.service.calls import Input
from tests.fakes import FakeJobs, RecordingCaller, RecordingSender

pytestmark = pytest.mark.integration

DAY1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Copenhagen
URL = "/api/v1/metrics/channel-shift"
LINK_TEXT = "Here is the link: {link}"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def later(self, **delta) -> None:  # noqa: ANN003
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    return Clock(DAY1)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "KANAL_CALLBACK_ATTEMPTS": 2, "KANAL_DEFLECTION_FOLLOWUP_HOURS": 48}


@pytest.fixture
def app(app_config, bot, clock):
    app = create_app(
        app_config,
        bot=bot,
        clock=clock,
        caller=RecordingCaller(),
        jobs=FakeJobs(),
        senders={"sms": RecordingSender()},
    )
    yield app
    kanal_of(app).close()


@pytest.fixture
def portal(kanal):
    """The agency's self-service, reporting completed needs."""
    create_user(kanal.uow, "portal", "correct horse", "integration")
    return {"Authorization": "Bearer " + create_token(kanal.uow, "portal", "portal")}


@pytest.fixture
def agent(kanal):
    user = create_user(kanal.uow, "agent1", "correct horse", "agent")
    with kanal.uow() as uow:
        uow.users.get(user.id).available_for_calls = True
        uow.commit()
    return user.id


class Caller:
    """A citizen on the phone, through the phone's service as the webhooks drive it."""

    count = 0

    def __init__(self, kanal, number: str) -> None:
        Caller.count += 1
        self.kanal, self.number = kanal, number
        self.sid = f"CA{Caller.count:032d}"
        self.contact_id = kanal.calls.answer(self.sid, number).contact_id
        self.turns = 0

    def say(self, text: str):  # noqa: ANN201
        self.turns += 1
        return self.kanal.calls.turn(
            self.contact_id, self.number, Input(self.sid, self.turns), text,
            confidence=0.9, input="speech", language="en",
        ).result  # fmt: skip

    def take_the_link(self) -> None:
        result = self.say("when is my pension paid")
        assert str(result.decision.action) == "offer_digital"
        assert self.kanal.calls.text_link(self.contact_id, self.sid, LINK_TEXT) == "sent"
        self.kanal.calls.ended(self.sid, "completed", 40)

    def ask_for_a_person(self) -> None:
        self.say("I want to talk to a person")
        self.kanal.calls.enqueued(self.sid, self.contact_id)

    def hang_up_waiting(self) -> None:
        self.kanal.calls.wait_ended(self.sid, "hangup")
        self.kanal.calls.ended(self.sid, "completed", 60)


def report(client, headers, **params) -> dict:
    query = {"from": "2026-03-02", "to": "2026-03-02", "group_by": "channel", **params}
    response = client.get(URL, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def phone_row(client, headers, **params) -> dict:
    rows = {r["group"]: r for r in report(client, headers, **params)["rows"]}
    return rows["voice"]


def complete(client, portal, **who) -> None:
    answer = client.post(
        "/api/v1/events/digital-completion", json={"need": "payment_date", **who}, headers=portal
    )
    assert answer.status_code == 200, answer.get_json()


# -- the deflection funnel ---------------------------------------------------------------------


def test_the_deflection_funnel_counts_offered_accepted_and_completed(
    client, kanal, clock, manager, portal, add_citizen
):
    anna = add_citizen(phone="+4520005001")
    bo = add_citizen(phone="+4520005002")
    add_citizen(phone="+4520005003")
    add_citizen(phone="+4520005004")
    # Anna takes the link and completes online the next day: a completed deflection.
    Caller(kanal, "+4520005001").take_the_link()
    # Bo takes the link but completes only three days later: past the 48-hour window.
    clock.later(minutes=5)
    Caller(kanal, "+4520005002").take_the_link()
    # Carl is offered the link and asks for a person instead: offered, not accepted.
    clock.later(minutes=5)
    carl = Caller(kanal, "+4520005003")
    assert str(carl.say("when is my pension paid").decision.action) == "offer_digital"
    carl.say("I want to talk to a person")
    # An anonymous caller takes the link; the self-service names the deflected contact.
    clock.later(minutes=5)
    anonymous = Caller(kanal, "+4520005999")
    anonymous.take_the_link()
    clock.later(hours=20)
    complete(client, portal, citizen=anna)
    complete(client, portal, contact_id=anonymous.contact_id)
    clock.later(days=3)
    complete(client, portal, citizen=bo)

    row = phone_row(client, manager)
    assert row["deflection_offered"] == 4
    assert row["deflection_accepted"] == 3
    assert row["deflection_completed"] == 2  # Anna and the anonymous caller; Bo too late
    assert row["deflection_acceptance_rate"] == 0.75
    assert row["deflection_completion_rate"] == 0.6667
    total = report(client, manager, group_by="none")["total"]
    assert (total["deflection_offered"], total["deflection_completed"]) == (4, 2)


def test_another_assisted_contact_on_the_need_within_the_window_means_not_completed(
    client, kanal, clock, manager, portal, add_citizen
):
    eva = add_citizen(phone="+4520005011")
    Caller(kanal, "+4520005011").take_the_link()
    assert phone_row(client, manager)["deflection_completed"] == 0  # nothing reported yet
    clock.later(hours=2)
    complete(client, portal, citizen=eva)
    assert phone_row(client, manager)["deflection_completed"] == 1
    # A day later Eva calls again about the same need and asks for a person: the digital
    # route did not do the job, so the deflection is no longer completed.
    clock.later(days=1)
    again = Caller(kanal, "+4520005011")
    again.say("when is my pension paid")
    again.say("I want to talk to a person")
    row = phone_row(client, manager)
    assert row["deflection_accepted"] == 1 and row["deflection_completed"] == 0
    assert row["deflection_completion_rate"] == 0.0


def test_a_bot_only_contact_on_the_same_need_does_not_undo_a_completed_deflection(
    client, kanal, clock, manager, portal, add_citizen
):
    frida = add_citizen(phone="+4520005021")
    Caller(kanal, "+4520005021").take_the_link()
    clock.later(hours=1)
    complete(client, portal, citizen=frida)
    clock.later(hours=3)  # she calls back, hears the offer again and hangs up: no person
    again = Caller(kanal, "+4520005021")
    assert str(again.say("when is my pension paid").decision.action) == "offer_digital"
    kanal.calls.ended(again.sid, "completed", 20)
    row = phone_row(client, manager)
    assert (row["deflection_offered"], row["deflection_accepted"]) == (2, 1)
    assert row["deflection_completed"] == 1 and row["deflection_completion_rate"] == 1.0
    assert row["phone_queued"] == 0


# -- callbacks ---------------------------------------------------------------------------------


def waiting_caller(kanal, number: str) -> Caller:
    caller = Caller(kanal, number)
    caller.ask_for_a_person()
    return caller


def test_callbacks_booked_placed_answered_and_failed(client, kanal, clock, manager, agent):
    kanal.dialling.dialler.caller = RecordingCaller()
    # Gustav waits too long and books a callback: busy once, then answered. It counts once.
    gustav = waiting_caller(kanal, "+4520005031")
    clock.later(minutes=3)
    assert kanal.calls.book(gustav.contact_id, gustav.sid, "waited_too_long").ok
    kanal.calls.ended(gustav.sid, "completed", 200)
    [callback] = kanal.callbacks.for_contact(gustav.contact_id)
    assert kanal.dialling.run(callback.id) == "placed"
    sid = kanal.callbacks.for_contact(gustav.contact_id)[0].call_sid
    assert kanal.dialling.call_status(callback.id, sid, "busy") == "booked"
    clock.later(minutes=11)
    assert kanal.dialling.run(callback.id) == "placed"
    sid = kanal.callbacks.for_contact(gustav.contact_id)[0].call_sid
    assert kanal.dialling.answered(callback.id, sid).agent_endpoint
    kanal.desk.resolve(Resolve(agent, gustav.contact_id, "answered", completed=True))
    # Hanne asks for a callback: no answer twice, the attempts are used up.
    clock.later(minutes=1)
    hanne = waiting_caller(kanal, "+4520005032")
    assert kanal.calls.book(hanne.contact_id, hanne.sid, "asked").ok
    kanal.calls.ended(hanne.sid, "completed", 30)
    [failing] = kanal.callbacks.for_contact(hanne.contact_id)
    for _ in range(2):
        assert kanal.dialling.run(failing.id) == "placed"
        sid = kanal.callbacks.for_contact(hanne.contact_id)[0].call_sid
        kanal.dialling.call_status(failing.id, sid, "no-answer")
        clock.later(minutes=11)
    assert kanal.callbacks.for_contact(hanne.contact_id)[0].state == "failed"
    # Ib books one and is still waiting for it.
    ib = waiting_caller(kanal, "+4520005033")
    assert kanal.calls.book(ib.contact_id, ib.sid, "waited_too_long").ok

    row = phone_row(client, manager)
    assert row["callbacks_booked"] == 3
    assert row["callbacks_placed"] == 2 and row["callback_calls"] == 4
    assert row["callbacks_answered"] == 1  # Gustav's, retried then answered: once
    assert row["callbacks_failed"] == 1 and row["callback_failures"] == {"no-answer": 1}
    assert row["callbacks_pending"] == 1 and row["callbacks_settled"] == 0
    assert row["callback_answer_rate"] == 0.3333
    assert row["callback_reasons"] == {"waited_too_long": 2, "asked": 1}
    # Staff call Hanne again and she answers: answered now, no longer failed.
    kanal.callback_desk.call_again(failing.id, by=agent)
    assert kanal.dialling.run(failing.id) == "placed"
    sid = kanal.callbacks.for_contact(hanne.contact_id)[0].call_sid
    kanal.dialling.answered(failing.id, sid)
    row = phone_row(client, manager)
    assert (row["callbacks_booked"], row["callbacks_answered"], row["callbacks_failed"]) == (
        3,
        2,
        0,
    )
    assert row["callback_calls"] == 5


def test_a_follow_up_callback_after_the_link_counts_and_undoes_the_deflection(
    client, kanal, clock, manager, add_citizen
):
    add_citizen(phone="+4520005041")
    Caller(kanal, "+4520005041").take_the_link()
    clock.later(hours=48, seconds=1)
    [followup_job] = [arg for job, _at, arg in kanal.jobs.jobs.values() if job == "run_followup"]
    assert kanal.followups.run(followup_job) == "offered"
    assert kanal.followups.accept_reply("+4520005041", "CALL", "SMfollowup1")
    # The callback was booked two days later, on a phone contact opened for it: another window.
    day3 = report(client, manager, **{"from": "2026-03-04", "to": "2026-03-04"})
    [row] = day3["rows"]
    assert row["callbacks_booked"] == 1
    assert row["callback_reasons"] == {"digital_not_completed": 1}
    assert row["phone_queued"] == 0  # a contact opened to call back is not a queued caller
    first = phone_row(client, manager)
    assert (first["deflection_accepted"], first["deflection_completed"]) == (1, 0)


# -- abandonment -------------------------------------------------------------------------------


def test_abandonment_counts_callers_who_hung_up_while_queued(client, kanal, clock, manager, agent):
    # Jens waits a minute and hangs up: abandoned.
    jens = waiting_caller(kanal, "+4520005051")
    clock.later(minutes=1)
    jens.hang_up_waiting()
    # Karen hangs up after 3 seconds: a short abandon, left out of the rate.
    karen = waiting_caller(kanal, "+4520005052")
    clock.later(seconds=3)
    karen.hang_up_waiting()
    # Lars is answered by the agent.
    lars = waiting_caller(kanal, "+4520005053")
    clock.later(seconds=30)
    claimed = kanal.desk.claim_next(ClaimNext(agent_id=agent))
    assert claimed.contact_id == lars.contact_id
    kanal.desk.reply(AgentReply(agent, lars.contact_id, "Hello"))
    kanal.calls.wait_ended(lars.sid, "bridged")
    kanal.calls.ended(lars.sid, "completed", 300)
    # Mette books a callback from the queue and hangs up: not abandoned.
    mette = waiting_caller(kanal, "+4520005054")
    clock.later(minutes=2)
    assert kanal.calls.book(mette.contact_id, mette.sid, "waited_too_long").ok
    kanal.calls.wait_ended(mette.sid, "leave")
    kanal.calls.ended(mette.sid, "completed", 150)
    # Niels is still waiting.
    waiting_caller(kanal, "+4520005055")
    # Ole hangs up before the Enqueue action is heard: abandoned too.
    ole = waiting_caller(kanal, "+4520005056")
    clock.later(seconds=40)
    kanal.calls.ended(ole.sid, "completed", 40)

    row = phone_row(client, manager)
    assert row["phone_queued"] == 6
    assert row["phone_abandoned"] == 3 and row["phone_short_abandons"] == 1
    assert row["phone_abandonment_rate"] == 0.4  # (3 - 1) ÷ (6 - 1)
    body = report(client, manager)
    assert body["window"]["short_abandon_seconds"] == 5
    assert "5 seconds" in body["definitions"]["phone_short_abandons"]
    chat = {r["group"]: r for r in body["rows"]}.get("webchat")
    assert chat is None  # nothing but calls today


def test_waits_are_exact_to_the_tenth_of_a_second(client, kanal, clock, manager, agent):
    # Hand-computed: four callers answered after 19.9, 20.0, 20.4 and 20.9 s; five hang up
    # after 4.2, 4.9, 5.0, 5.1 and 5.5 s. Service level 20 s, short abandons under 5 s.
    answered, abandoned = (19.9, 20.0, 20.4, 20.9), (4.2, 4.9, 5.0, 5.1, 5.5)
    waits = {}
    for n, wait in enumerate(answered):
        caller = waiting_caller(kanal, f"+452000508{n}")
        clock.later(seconds=wait)
        claimed = kanal.desk.claim_next(ClaimNext(agent_id=agent))
        assert claimed.contact_id == caller.contact_id
        kanal.desk.reply(AgentReply(agent, caller.contact_id, "Hello"))
        kanal.calls.wait_ended(caller.sid, "bridged")
        kanal.calls.ended(caller.sid, "completed", 120)
        kanal.desk.resolve(Resolve(agent, caller.contact_id, "answered", completed=True))
        waits[caller.contact_id] = wait
        clock.later(minutes=5)
    for n, wait in enumerate(abandoned):
        caller = waiting_caller(kanal, f"+452000509{n}")
        clock.later(seconds=wait)
        caller.hang_up_waiting()
        waits[caller.contact_id] = wait
        clock.later(minutes=5)
    clock.later(days=1)

    def check(row: dict) -> None:
        # Within 20 s: 19.9 and 20.0 (20.4 and 20.9 are not). Short: 4.2 and 4.9 (5.0 is not).
        assert (row["queued"], row["answered"], row["answered_in_time"]) == (9, 4, 2)
        assert (row["abandoned"], row["short_abandons"]) == (3, 2)
        assert row["service_level"] == 0.2857  # 2 ÷ (9 − 2)
        assert row["abandonment_rate"] == 0.4286  # 3 ÷ (9 − 2)
        assert row["asa_seconds"] == 20.3  # (19.9 + 20.0 + 20.4 + 20.9) ÷ 4 = 81.2 ÷ 4
        # p50: the 2nd of 4 (20.0 s); p90: the 4th (20.9 s), in whole seconds rounded up.
        assert (row["answer_p50_seconds"], row["answer_p90_seconds"]) == (20, 21)
        assert (row["phone_queued"], row["phone_abandoned"], row["phone_short_abandons"]) == (
            9, 5, 2,
        )  # fmt: skip
        assert row["phone_abandonment_rate"] == 0.4286  # (5 − 2) ÷ (9 − 2)

    body = report(client, manager)
    assert body["window"]["source"] == "events"
    check(phone_row(client, manager))
    response = client.get(
        "/api/v1/metrics/conversations.csv",
        query_string={"from": "2026-03-02", "to": "2026-03-02"},
        headers=manager,
    )
    rows = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    written = {int(r["conversation"]): r["queue_wait_seconds"] for r in rows}
    assert written == {cid: f"{wait:g}" for cid, wait in waits.items()}  # 19.9, 20, 20.4...
    # The daily rollup the dashboard reads answers the same.
    from analytics import rollup_tables
    from router.entrypoints.jobs import refresh_metric_rollups

    try:
        refresh_metric_rollups(kanal)
        assert report(client, manager)["window"]["source"] == "rollup"
        check(phone_row(client, manager))
    finally:
        rollup_tables.drop_tables(kanal.engine)


# -- every grouping, the CSV, and what the answer says -----------------------------------------


@pytest.mark.parametrize("group_by", ["channel", "need", "exempt", "age_band", "none"])
def test_every_grouping_adds_up_to_the_total(client, kanal, clock, manager, portal, add_citizen,
                                             group_by):  # fmt: skip
    pia = add_citizen(phone="+4520005061", birth_year=1950)
    Caller(kanal, "+4520005061").take_the_link()
    clock.later(hours=1)
    complete(client, portal, citizen=pia)
    quitter = waiting_caller(kanal, "+4520005062")
    clock.later(minutes=1)
    quitter.hang_up_waiting()
    body = report(client, manager, group_by=group_by)
    for name in ("deflection_offered", "deflection_accepted", "deflection_completed",
                 "phone_queued", "phone_abandoned", "callbacks_booked"):  # fmt: skip
        assert sum(r[name] for r in body["rows"]) == body["total"][name], name
    total = body["total"]
    assert (total["deflection_completed"], total["phone_abandoned"]) == (1, 1)


def test_the_csv_and_the_definitions_carry_the_phone_figures(
    client, kanal, clock, manager, add_citizen
):
    add_citizen(phone="+4520005071")
    Caller(kanal, "+4520005071").take_the_link()
    gone = waiting_caller(kanal, "+4520005072")
    assert kanal.calls.book(gone.contact_id, gone.sid, "asked").ok
    response = client.get(
        "/api/v1/metrics/export.csv",
        query_string={"from": "2026-03-02", "to": "2026-03-02"},
        headers=manager,
    )
    [voice] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert voice["group"] == "voice"
    assert (voice["deflection_offered"], voice["deflection_accepted"]) == ("1", "1")
    assert voice["deflection_completion_rate"] == "0.0"
    assert voice["callback_reasons"] == "asked=1" and voice["callbacks_pending"] == "1"
    assert voice["phone_abandonment_rate"] == "0.0"
    body = report(client, manager)
    for name in ("deflection_offered", "deflection_accepted", "deflection_completed",
                 "callbacks_booked", "callbacks_answered", "callbacks_failed",
                 "phone_abandonment_rate"):  # fmt: skip
        assert body["definitions"][name]
    assert "48 hours" in body["definitions"]["deflection_completed"]
    assert "cannot see whether the link was opened" in body["definitions"]["deflection_accepted"]
    assert body["window"]["followup_window_hours"] == 48
