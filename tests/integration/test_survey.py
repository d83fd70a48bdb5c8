"""The satisfaction survey end to end, on SQLite and PostgreSQL: the chat widget's question
and its one answer, and the SMS question through the Twilio sandbox answered with a digit."""

from __future__ import annotations

import pytest

from router import create_app
from router.domain import events as ev
from router.entrypoints.bootstrap import kanal_of
from tests.integration import sms_support
from tests.integration.sms_support import new_number, wait_for

pytestmark = pytest.mark.integration

live = sms_support.live  # the running kanal these tests text


def start(client, **body):
    response = client.post("/api/v1/chat/sessions", json=body or None)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    return data["session_id"], {"Authorization": f"Bearer {data['token']}"}


def say(client, session_id, headers, text):
    response = client.post(
        f"/api/v1/chat/sessions/{session_id}/messages", json={"text": text}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def survey_of(client, session_id, headers):
    return client.get(f"/api/v1/chat/sessions/{session_id}/survey", headers=headers)


def answer(client, session_id, headers, score):
    return client.post(
        f"/api/v1/chat/sessions/{session_id}/survey", json={"score": score}, headers=headers
    )


def events_of(kanal, contact_id, type_):
    with kanal.uow() as uow:
        return [e for e in uow.events.for_contact(contact_id) if e.type == type_]


def test_a_chat_that_ended_asks_once_and_a_second_click_does_not_count(client, kanal):
    sid, auth = start(client)
    say(client, sid, auth, "When is my pension paid?")
    assert survey_of(client, sid, auth).get_json() == {"state": "none"}, "not while open"
    assert say(client, sid, auth, "bye")["state"] == "closed"

    asked = survey_of(client, sid, auth).get_json()
    assert asked["state"] == "asked"
    assert asked["question"] == "Overall, how did you feel about the service you received today?"
    assert [(o["score"], o["label"]) for o in asked["options"]] == [
        (5, "Very satisfied"),
        (4, "Satisfied"),
        (3, "Neither satisfied or dissatisfied"),
        (2, "Dissatisfied"),
        (1, "Very dissatisfied"),
    ]
    assert survey_of(client, sid, auth).get_json()["state"] == "asked"

    first = answer(client, sid, auth, 4)
    assert first.status_code == 200
    assert first.get_json()["state"] == "answered" and first.get_json()["score"] == 4
    second = answer(client, sid, auth, 1)
    assert second.status_code == 409
    assert "answered already" in second.get_json()["error"]

    contact = kanal.views.contact_on("webchat", sid)
    [answered] = events_of(kanal, contact.id, ev.SATISFACTION)
    assert answered.data == {
        "score": 4, "channel": "webchat", "need": "payment_date", "language": "en",
    }  # fmt: skip
    assert answered.need == "payment_date" and answered.channel == "webchat"
    assert len(events_of(kanal, contact.id, ev.SURVEY_ASKED)) == 1
    assert survey_of(client, sid, auth).get_json()["state"] == "answered"


def test_a_chat_survey_can_be_declined_and_bad_answers_are_refused(client, kanal):
    sid, auth = start(client)
    say(client, sid, auth, "bye")
    assert survey_of(client, sid, auth).get_json()["state"] == "asked"
    for bad in ({"score": 6}, {"score": "4"}, {"score": True}, {}, []):
        response = client.post(f"/api/v1/chat/sessions/{sid}/survey", json=bad, headers=auth)
        assert response.status_code == 400, bad
    assert client.get(f"/api/v1/chat/sessions/{sid}/survey").status_code == 401
    declined = answer(client, sid, auth, None)
    assert declined.get_json()["state"] == "declined"
    contact = kanal.views.contact_on("webchat", sid)
    assert len(events_of(kanal, contact.id, ev.SURVEY_DECLINED)) == 1
    assert events_of(kanal, contact.id, ev.SATISFACTION) == []


def test_a_danish_chat_is_asked_in_danish(client):
    sid, auth = start(client, language="da")
    say(client, sid, auth, "bye")
    asked = survey_of(client, sid, auth).get_json()
    assert asked["language"] == "da"
    assert asked["question"] == "Hvordan oplevede du samlet set den service, du fik i dag?"
    assert asked["options"][0]["label"] == "Meget tilfreds"
    assert asked["decline"] == "Nej tak"
    thanks = answer(client, sid, auth, 5).get_json()["thanks"]
    assert thanks.startswith("Tak for dit svar")


@pytest.fixture
def nobody_asked(app_config, bot):
    app = create_app({**app_config, "KANAL_SURVEY_SHARE": "0"}, bot=bot)
    yield app
    kanal_of(app).close()


def test_a_share_of_zero_asks_no_chat(nobody_asked):
    client = nobody_asked.test_client()
    sid, auth = start(client)
    say(client, sid, auth, "bye")
    assert survey_of(client, sid, auth).get_json() == {"state": "none"}
    assert answer(client, sid, auth, 5).status_code == 409


# -- SMS, through the sandbox ------------------------------------------------------------


def closed_by_sms(live, number):
    live.text(number, "When is my pension paid?")
    live.text(number, "bye")
    live.settle()
    contact = live.kanal.views.contact_on("sms", number)
    assert contact.state == "closed"
    return contact


def test_an_sms_contact_that_closed_is_asked_and_a_4_is_recorded(live, bot):
    number = new_number()
    contact = closed_by_sms(live, number)
    before = len(live.outbox(number))

    assert live.kanal.surveys.ask_closed() >= 1
    wait_for(lambda: len(live.outbox(number)) == before + 1, what="the question")
    question = live.outbox(number)[-1]["body"]
    assert question.startswith("Overall, how did you feel")
    assert "Reply with one number" in question
    bot_turns = len(bot.turns)

    live.text(number, "4")
    live.settle()
    wait_for(lambda: len(live.outbox(number)) == before + 2, what="the thanks")
    assert live.outbox(number)[-1]["body"].startswith("Thank you for your answer")
    assert len(bot.turns) == bot_turns, "the digit never reached the bot"
    assert live.kanal.views.contact_on("sms", number).id == contact.id, "no new contact"
    [answered] = events_of(live.kanal, contact.id, ev.SATISFACTION)
    assert answered.data["score"] == 4 and answered.data["channel"] == "sms"
    assert live.kanal.surveys.ask_closed() == 0 or all(
        r["body"] != question for r in live.outbox(number)[before + 2 :]
    ), "asked once per contact"


def test_an_opted_out_number_never_gets_the_question(live):
    number = new_number()
    contact = closed_by_sms(live, number)
    live.text(number, "STOP")
    live.settle()
    before = len(live.outbox(number))
    live.kanal.surveys.ask_closed()
    live.kanal.delivery.dispatch_due()
    live.settle()
    assert len(live.outbox(number)) == before
    assert len(events_of(live.kanal, contact.id, ev.SURVEY_NOT_SENT)) == 1
    assert events_of(live.kanal, contact.id, ev.SURVEY_ASKED) == []


def test_chat_answers_feed_the_satisfaction_metric_by_channel_and_need(client, kanal):
    from zoneinfo import ZoneInfo

    from router.entrypoints.auth import create_token, create_user

    for score in (5, 4, 2):
        sid, auth = start(client)
        say(client, sid, auth, "When is my pension paid?")
        say(client, sid, auth, "bye")
        assert survey_of(client, sid, auth).get_json()["state"] == "asked"
        assert answer(client, sid, auth, score).status_code == 200
    sid, auth = start(client)
    say(client, sid, auth, "bye")
    answer(client, sid, auth, None)  # declined: not an answer

    create_user(kanal.uow, "boss", "correct horse", "manager")
    manager = {"Authorization": "Bearer " + create_token(kanal.uow, "dashboard", "boss")}
    today = kanal.clock().astimezone(ZoneInfo("Europe/Copenhagen")).date().isoformat()
    for group_by, group in (("channel", "webchat"), ("need", "payment_date")):
        response = client.get(
            "/api/v1/metrics/channel-shift",
            query_string={"from": today, "to": today, "group_by": group_by},
            headers=manager,
        )
        assert response.status_code == 200, response.get_json()
        [row] = [r for r in response.get_json()["rows"] if r["group"] == group]
        assert row["satisfaction_answers"] == 3
        assert row["satisfied"] == 2
        assert row["user_satisfaction"] == round(2 / 3, 4)
