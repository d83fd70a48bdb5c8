"""The channel-shift figures a manager sees, from traffic through the real service.

One day of traffic (Monday 2 March 2026, Denmark's policy, always open) on web chat, SMS and
the phone, then follow-up contacts days later; the numbers below are counted by hand from
the story told in `traffic`.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from router.entrypoints.auth import create_token, create_user
from router.service.housekeeping import close_inactive
from tests.integration.metrics_support import Citizen, Clock, clocked_app, serve

pytestmark = pytest.mark.integration

DAY1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Copenhagen
URL = "/api/v1/metrics/channel-shift"


@pytest.fixture
def clock():
    return Clock(DAY1)


@pytest.fixture
def app(app_config, bot, clock):
    yield from clocked_app(app_config, bot, clock)


@pytest.fixture
def traffic(kanal, clock, bot, add_citizen):
    """Make one day of contacts and the follow-ups; return their ids by name."""
    turns, desk = kanal.turns, kanal.desk
    agent = create_user(kanal.uow, "agent1", "correct horse", "agent").id
    anna = Citizen(turns, add_citizen(phone="+4520000001", birth_year=1950), "+4520000001")
    bo = Citizen(turns, add_citizen(phone="+4520000002", birth_year=1990), "+4520000002")
    carl = Citizen(turns, add_citizen(phone="+4520000003", birth_year=1940), "+4520000003")
    eva = Citizen(
        turns, add_citizen(phone="+4520000004", exempt_ground="impairment"), "+4520000004"
    )
    anonymous = Citizen(turns)
    ids = {}
    # Anna asks the bot about her pension and says goodbye: the bot closes, need completed.
    ids["anna_chat"] = anna.chat("When is my pension paid?", "bye")
    # Someone anonymous greets the bot, then asks for a person; an agent answers.
    clock.at(DAY1 + timedelta(minutes=5))
    ids["anon_person"] = anonymous.chat("hello", "I want to talk to a person")
    assert serve(desk, agent) == ids["anon_person"]
    # Bo asks about his pension and leaves; the conversation times out.
    clock.at(DAY1 + timedelta(minutes=10))
    ids["bo_chat"] = bo.chat("pension payment date?")
    clock.at(DAY1 + timedelta(minutes=41))
    assert close_inactive(kanal.uow, kanal.channels, clock()) == 1
    # Eva is exempt: her call goes straight to a person, who completes her need.
    clock.at(DAY1 + timedelta(minutes=50))
    ids["eva_call"] = eva.text("voice", "I need help with my pension")
    assert serve(desk, agent) == ids["eva_call"]
    # Carl's texts are not understood twice: the policy hands him to a person (still waiting).
    clock.at(DAY1 + timedelta(minutes=60))
    ids["carl_sms"] = carl.text("sms", "xyzzy", "qwerty")
    # The bot is down for an anonymous chat: handed to a person (still waiting).
    clock.at(DAY1 + timedelta(minutes=70))
    bot.down = True
    ids["anon_bot_down"] = anonymous.chat("pension")
    bot.down = False
    # Three days later Anna texts about her payment again: a repeat of her chat.
    clock.at(DAY1 + timedelta(days=3))
    ids["anna_repeat"] = anna.text("sms", "my payment is missing")
    # Eight days later Bo asks again: outside the 7-day repeat window.
    clock.at(DAY1 + timedelta(days=8))
    ids["bo_later"] = bo.chat("pension?")
    return ids


def report(client, headers, **params):
    query = {"from": "2026-03-02", "to": "2026-03-02", "group_by": "channel", **params}
    response = client.get(URL, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def by_group(body) -> dict:
    return {row["group"]: row for row in body["rows"]}


def test_a_manager_sees_the_day_per_channel_as_counted_by_hand(client, traffic, manager):
    rows = by_group(report(client, manager))
    assert set(rows) == {"webchat", "sms", "voice"}
    chat = rows["webchat"]
    # Four chats; all four had the bot; only Bo's was contained (Anna came back, two handed off).
    assert chat["contacts"] == 4
    assert chat["bot_conversations"] == 4
    assert chat["bot_contained"] == 1
    assert chat["bot_repeat_contacts"] == 1
    assert chat["handed_off"] == 2
    assert chat["assisted"] == 2
    # The anonymous chat an agent answered completed a need, but not digitally (issue 17:
    # a person answering on web chat is not digital take-up; before, 3 of 3 were digital).
    assert chat["completed_needs"] == 3 and chat["completed_digital"] == 2
    assert chat["completed_other"] == 1
    assert chat["bot_containment"] == 0.25
    assert chat["handoff_rate"] == 0.5
    assert chat["digital_take_up"] == 0.6667
    assert chat["handoff_reasons"] == {"bot-down": 1, "person-requested": 1}
    sms = rows["sms"]
    assert (sms["contacts"], sms["bot_conversations"], sms["handed_off"], sms["assisted"]) == (
        1,
        1,
        1,
        1,
    )
    assert sms["bot_containment"] == 0.0 and sms["handoff_rate"] == 1.0
    assert sms["digital_take_up"] is None  # nothing completed: no denominator
    assert sms["handoff_reasons"] == {"bot-failed-twice": 1}
    voice = rows["voice"]
    assert (voice["contacts"], voice["bot_conversations"], voice["assisted"]) == (1, 0, 1)
    assert (voice["completed_needs"], voice["completed_digital"]) == (1, 0)
    assert voice["digital_take_up"] == 0.0
    assert voice["bot_containment"] is None and voice["handoff_rate"] is None


def test_the_total_combines_the_channels(client, traffic, manager):
    total = report(client, manager)["total"]
    assert total["contacts"] == 6 and total["bot_conversations"] == 5
    assert total["bot_contained"] == 1 and total["handed_off"] == 3 and total["assisted"] == 4
    # Anna's and Bo's chats were self-service; the anonymous chat and Eva's call were served
    # by a person (before issue 17: 0.75, the agent's chat counted as digital).
    assert total["digital_take_up"] == 0.5
    assert total["bot_containment"] == 0.2
    assert total["handoff_rate"] == 0.6


def test_a_repeat_contact_within_seven_days_takes_containment_away(client, traffic, manager):
    chat = by_group(report(client, manager, group_by="need"))["payment_date"]
    # Anna's and Bo's chats both ended without a person; only Anna came back within 7 days.
    assert chat["contacts"] == 2 and chat["bot_conversations"] == 2
    assert chat["bot_contained"] == 1 and chat["bot_repeat_contacts"] == 1
    assert chat["bot_containment"] == 0.5


def test_before_the_repeat_the_same_chat_counted_as_contained(
    client, kanal, clock, manager, add_citizen
):
    anna = Citizen(kanal.turns, add_citizen(phone="+4520000009"), "+4520000009")
    anna.chat("When is my pension paid?", "bye")
    assert report(client, manager, group_by="none")["rows"][0]["bot_contained"] == 1
    clock.at(DAY1 + timedelta(days=6, hours=23))
    anna.text("sms", "my payment has not come")
    row = report(client, manager, group_by="none")["rows"][0]
    assert row["bot_contained"] == 0 and row["bot_repeat_contacts"] == 1


def test_fairness_views_by_exemption_and_age(client, traffic, manager):
    exempt = by_group(report(client, manager, group_by="exempt"))
    assert {g: r["contacts"] for g, r in exempt.items()} == {
        "exempt": 1,
        "not_exempt": 3,
        "unidentified": 2,
    }
    assert exempt["exempt"]["assisted"] == 1 and exempt["exempt"]["bot_conversations"] == 0
    assert exempt["not_exempt"]["bot_containment"] == 0.3333  # Bo's of Anna, Bo, Carl
    ages = by_group(report(client, manager, group_by="age_band"))
    assert {g: r["contacts"] for g, r in ages.items()} == {
        "15_64": 1,
        "65_79": 2,
        "80_plus": 1,
        "unidentified": 2,
    }


def test_the_exempt_filter_takes_yes_and_no_as_documented(client, traffic, manager):
    # Counted by hand from `traffic`: Eva is exempt; Anna, Bo and Carl are not; two chats
    # are anonymous. Before, `exempt=yes` and `exempt=no` answered 200 with no contacts.
    def contacts(**narrowed):
        return report(client, manager, group_by="none", **narrowed)["total"]["contacts"]

    assert contacts(exempt="yes") == contacts(exempt="exempt") == 1
    assert contacts(exempt="no") == contacts(exempt="not_exempt") == 3
    assert contacts(exempt="unidentified") == 2
    assert contacts(age_band="65_79") == 2


def test_the_window_is_whole_days_in_the_agencys_time_zone(client, traffic, manager):
    body = report(client, manager, **{"from": "2026-03-03", "to": "2026-03-05"})
    assert body["window"]["start"] == "2026-03-02T23:00:00+00:00"
    assert body["window"]["end"] == "2026-03-05T23:00:00+00:00"
    (row,) = body["rows"]
    # Only Anna's repeat text falls in it; it is still open: in progress, neither contained
    # nor failed (before issue 17 its containment read 0.0).
    assert (row["group"], row["contacts"], row["bot_conversations"]) == ("sms", 1, 1)
    assert row["bot_contained"] == 0 and row["bot_containment"] is None
    assert row["bot_in_progress"] == 1 and row["in_progress"] == 1
    assert report(client, manager, **{"from": "2026-02-01", "to": "2026-02-28"})["rows"] == []


def test_the_answer_explains_each_number(client, traffic, manager):
    body = report(client, manager)
    for name in (
        "bot_conversations",
        "bot_contained",
        "handed_off",
        "assisted",
        "completed_needs",
        "digital_take_up",
        "bot_containment",
        "handoff_rate",
        "window",
        "exclusions",
    ):
        assert body["definitions"][name]
    assert "7 days" in body["definitions"]["repeat_contact"]
    assert body["window"]["provisional"] is False  # March 2026 is long past
    assert body["window"]["group_by"] == "channel"


def test_the_csv_export_has_one_row_per_group(client, traffic, manager):
    response = client.get(
        "/api/v1/metrics/export.csv",
        query_string={"from": "2026-03-02", "to": "2026-03-02"},
        headers=manager,
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert (
        "channel-shift_2026-03-02_2026-03-02_channel.csv" in response.headers["Content-Disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["group"] for r in rows] == ["sms", "voice", "webchat"]
    chat = rows[2]
    assert chat["contacts"] == "4" and chat["bot_containment"] == "0.25"
    assert chat["handoff_reasons"] == "bot-down=1; person-requested=1"
    assert rows[0]["digital_take_up"] == ""  # null ratio


# -- who may ask, and what they must ask ------------------------------------------------------


def test_without_a_token_the_answer_is_401(client):
    response = client.get(URL, query_string={"from": "2026-03-02", "to": "2026-03-02"})
    assert response.status_code == 401
    assert "token" in response.get_json()["error"]


def test_an_unknown_token_is_401(client):
    response = client.get(
        URL,
        query_string={"from": "2026-03-02", "to": "2026-03-02"},
        headers={"Authorization": "Bearer knl_not-a-real-token"},
    )
    assert response.status_code == 401


@pytest.mark.parametrize(("role", "status"), [("agent", 403), ("supervisor", 200), ("admin", 200)])
def test_managers_and_supervisors_may_read_agents_may_not(client, kanal, role, status):
    create_user(kanal.uow, "someone", "correct horse", role)
    headers = {"Authorization": "Bearer " + create_token(kanal.uow, "t", "someone")}
    for url in (URL, "/api/v1/metrics/export.csv"):
        response = client.get(
            url, query_string={"from": "2026-03-02", "to": "2026-03-02"}, headers=headers
        )
        assert response.status_code == status


@pytest.mark.parametrize(
    ("params", "parameter", "words"),
    [
        ({"to": "2026-03-02"}, "from", "missing"),
        ({"from": "2026-03-02"}, "to", "missing"),
        ({"from": "2/3/2026", "to": "2026-03-02"}, "from", "YYYY-MM-DD"),
        ({"from": "2026-02-30", "to": "2026-03-02"}, "from", "YYYY-MM-DD"),
        ({"from": "20260301", "to": "2026-03-02"}, "from", "YYYY-MM-DD"),
        ({"from": "2026-03-05", "to": "2026-03-02"}, "from", "after"),
        ({"from": "2026-03-01", "to": "2026-03-02", "group_by": "colour"}, "group_by", "need"),
    ],
)
def test_a_wrong_query_is_400_saying_what_is_wrong(client, manager, params, parameter, words):
    for url in (URL, "/api/v1/metrics/export.csv"):
        response = client.get(url, query_string=params, headers=manager)
        assert response.status_code == 400
        body = response.get_json()
        assert body["parameter"] == parameter
        assert words in body["error"]


# -- the managers' view (issue 17) ------------------------------------------------------------


def test_a_figure_for_today_says_what_is_settled_and_what_is_in_progress(client, kanal, manager):
    # The story: 14 chats today; the bot answers 7 (still open), 4 ask for a person,
    # 3 are not understood twice. Before issue 17 containment read 0 of 14 and said nothing of
    # the 7 still open.
    chats = Citizen(kanal.turns)
    for _ in range(7):
        chats.chat("When is my pension paid?")
    for _ in range(4):
        chats.chat("hello", "I want to talk to a person")
    for _ in range(3):
        chats.chat("xyzzy", "qwerty")
    total = report(client, manager, group_by="none")["total"]
    assert (total["contacts"], total["bot_conversations"], total["handed_off"]) == (14, 14, 7)
    assert total["handoff_reasons"] == {"bot-failed-twice": 3, "person-requested": 4}
    # The 7 answered are in progress: not contained yet, not failed either.
    assert total["bot_in_progress"] == 7 and total["in_progress"] == 14
    assert total["bot_contained"] == 0 and total["bot_containment"] == 0.0  # 0 of 7 settled
    assert total["queue_in_progress"] == 7 and total["service_level"] is None
    assert total["completed_needs"] == 0 and total["digital_take_up"] is None


def test_satisfaction_language_filters_and_the_queue_by_hand(
    client, kanal, clock, traffic, manager
):
    from router.domain import events as ev
    from router.domain.model import ContactEvent

    # Two answers to the satisfaction question: Anna's chat 5, Eva's call 2.
    with kanal.uow() as uow:
        for contact_id, score in ((traffic["anna_chat"], 5), (traffic["eva_call"], 2)):
            contact = uow.contacts.get(contact_id)
            uow.events.append(
                ContactEvent(type=ev.SATISFACTION, at=DAY1 + timedelta(hours=2),
                             channel=contact.channel, contact_id=contact_id, citizen=None,
                             need=contact.need, data={"score": score, "language": "en"})
            )  # fmt: skip
        uow.commit()
    body = report(client, manager, group_by="none")
    total = body["total"]
    assert (total["satisfaction_answers"], total["satisfied"]) == (2, 1)
    assert total["user_satisfaction"] == 0.5
    assert total["satisfaction_scores"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    # The queue: the anonymous chat and Eva's call were answered at once (the agent was free,
    # the test's clock still); Carl's SMS and the bot-down chat still wait.
    assert (total["queued"], total["answered"], total["queue_in_progress"]) == (2, 2, 2)
    assert total["service_level"] == 1.0 and total["asa_seconds"] == 0.0
    # Exemption share counts citizens: Eva of Anna, Bo, Carl, Eva.
    assert (total["citizens"], total["exempt_citizens"], total["exemption_share"]) == (4, 1, 0.25)
    # Cost: 2 self-service chats (£0.15), 2 chats and 1 SMS with a person (£2.83), 1 call.
    assert total["cost"] == round(2 * 0.15 + 4 * 2.83, 2)
    # Narrowed to the phone: Eva's call only.
    phone = report(client, manager, group_by="none", channel="voice")["total"]
    assert (phone["contacts"], phone["satisfaction_answers"], phone["user_satisfaction"]) == (
        1,
        1,
        0.0,
    )
    assert report(client, manager, channel="voice")["window"]["filters"] == {"channel": "voice"}
    # Every contact here is in English (the register's language) or unknown (anonymous).
    languages = by_group(report(client, manager, group_by="language"))
    assert sum(r["contacts"] for r in languages.values()) == 6


def test_channel_migration_between_two_periods(client, traffic, manager):
    # Anna chatted on 2 March and texted on 5 March; Bo chatted on 2 and on 10 March.
    body = report(
        client,
        manager,
        **{"from": "2026-03-03", "to": "2026-03-12", "compare_from": "2026-03-02",
           "compare_to": "2026-03-02"},
    )  # fmt: skip
    assert body["migration"]["matrix"] == {"webchat": {"sms": 1, "webchat": 1}}
    assert body["migration"]["citizens"] == 2


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"channel": ""}, "channel"),
        ({"exempt": "maybe"}, "exempt"),  # answered 200 with no contacts
        ({"age_band": "elderly"}, "age_band"),
        ({"compare_from": "2026-03-01"}, "compare_to"),
        ({"compare_from": "2026-03-05", "compare_to": "2026-03-01"}, "compare_from"),
    ],
)
def test_a_wrong_filter_or_comparison_is_400(client, manager, params, parameter):
    query = {"from": "2026-03-02", "to": "2026-03-02", **params}
    response = client.get(URL, query_string=query, headers=manager)
    assert response.status_code == 400 and response.get_json()["parameter"] == parameter


@pytest.mark.parametrize(
    "url",
    [
        URL,
        "/api/v1/metrics/export.csv",
        "/api/v1/metrics/conversations.csv",
        "/api/v1/metrics/surges",
        "/api/v1/metrics/surges.csv",
    ],
)
def test_a_channel_kanal_does_not_have_is_400_listing_the_channels(client, manager, url):
    # Before: 200 with no contacts, as if the channel had been quiet all day.
    query = {"from": "2026-03-02", "to": "2026-03-02", "channel": "fax"}
    response = client.get(url, query_string=query, headers=manager)
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == "channel"
    assert "'fax'" in body["error"]
    for name in ("webchat", "sms", "voice"):
        assert name in body["error"]


def test_a_channel_filter_names_the_running_kanals_channels(client, kanal, traffic, manager):
    # voice is registered by the test's kanal (metrics_support.clocked_app): it is accepted.
    assert "voice" in kanal.channels.names()
    assert report(client, manager, group_by="none", channel="voice")["total"]["contacts"] == 1
    assert report(client, manager, group_by="none", channel="sms")["total"]["contacts"] == 1


@pytest.mark.parametrize("language", ["english", "EN", "d", "da-DK"])
def test_a_language_that_is_not_a_two_letter_code_is_400(client, manager, language):
    query = {"from": "2026-03-02", "to": "2026-03-02", "language": language}
    response = client.get(URL, query_string=query, headers=manager)
    assert response.status_code == 400
    assert response.get_json()["parameter"] == "language"
    assert "two-letter code" in response.get_json()["error"]


def test_a_language_filter_takes_a_code_or_unknown(client, traffic, manager):
    # Counted by hand from `traffic`: Anna, Bo, Carl and Eva are registered in English (the
    # `add_citizen` default); the two anonymous chats have no language.
    assert report(client, manager, group_by="none", language="en")["total"]["contacts"] == 4
    assert report(client, manager, group_by="none", language="unknown")["total"]["contacts"] == 2
    assert report(client, manager, group_by="none", language="da")["rows"] == []


def conversations_csv(client, headers, **params):
    query = {"from": "2026-03-02", "to": "2026-03-02", **params}
    response = client.get("/api/v1/metrics/conversations.csv", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv" and response.is_streamed
    text = response.get_data(as_text=True)
    return text, {int(r["conversation"]): r for r in csv.DictReader(io.StringIO(text))}


def test_one_row_per_conversation_and_nothing_personal(client, traffic, manager):
    text, rows = conversations_csv(client, manager)
    assert list(rows) == [traffic[name] for name in (
        "anna_chat", "anon_person", "bo_chat", "eva_call", "carl_sms", "anon_bot_down"
    )]  # fmt: skip
    anna = rows[traffic["anna_chat"]]
    assert anna["citizen"].startswith("p") or len(anna["citizen"]) > 8  # a pseudonym
    assert (anna["channel"], anna["need"], anna["profile"]) == (
        "webchat",
        "payment_date",
        "denmark",
    )
    assert anna["outcome"] == "completed_digital" and anna["repeat"] == "1"  # she texted again
    assert anna["bot_turns"] == "2" and anna["cost"] == "0.15" and anna["handed_off"] == "0"
    assert anna["decisions"]  # each decision as rule:action
    eva = rows[traffic["eva_call"]]
    assert (eva["queue"], eva["queue_wait_seconds"]) == ("answered", "0")
    assert eva["outcome"] == "completed_other"
    assert eva["exempt"] == "exempt" and eva["wrap_up"] == "answered" and eva["cost"] == "2.83"
    carl = rows[traffic["carl_sms"]]
    assert (carl["handoff_reason"], carl["queue"], carl["outcome"]) == (
        "bot-failed-twice", "in_progress", "in_progress")  # fmt: skip
    assert carl["repeat"] == ""  # still open: not known yet
    anonymous = rows[traffic["anon_person"]]
    assert anonymous["citizen"] == "" and anonymous["outcome"] == "completed_other"
    # No phone number, name or anything a citizen wrote.
    for secret in ("+4520000001", "4520000003", "Test Citizen", "pension payment date",
                   "xyzzy", "When is my pension paid"):  # fmt: skip
        assert secret not in text


def test_conversations_take_the_reports_filters_and_guards(client, traffic, manager):
    _text, rows = conversations_csv(client, manager, channel="voice")
    assert list(rows) == [traffic["eva_call"]]
    url = "/api/v1/metrics/conversations.csv"
    bad = client.get(url, query_string={"from": "2026-03-02"}, headers=manager)
    assert bad.status_code == 400 and bad.get_json()["parameter"] == "to"
    assert (
        client.get(url, query_string={"from": "2026-03-02", "to": "2026-03-02"}).status_code == 401
    )
