"""Every figure of a small day counted by hand from the story, against the report, its CSV
and the one-row-per-conversation CSV (docs/domain.md §4.1 defines each figure).

Monday 2 March 2026, Denmark's policy, always open; service level Y = 20 s, short abandons
under 5 s; prices: digital 0.15, phone and a person in writing 2.83.

| who  | group (age)          | story                                                         |
|------|----------------------|---------------------------------------------------------------|
| Anna | not exempt, 15_64    | 09:00 chat: pension date, bye: the bot answers and closes     |
| Bo   | not exempt, 65_79    | 09:10 chat: hello, then asks for a person; queued 09:10:00,   |
|      |                      | taken 09:10:12 (12 s), resolved 09:12:12 (handled 120 s)      |
| Eva  | exempt, 65_79        | 09:20 SMS: straight to a person (no bot); queued 09:20:00,    |
|      |                      | taken 09:20:45 (45 s), resolved 09:25:45 (handled 300 s)      |
| Carl | not exempt, 80_plus  | 09:30 chat: pension payment, then silence: closed 10:01 after |
|      |                      | the bot answered; 4 March he chats on the same need again     |
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from router.domain.commands import AgentReply, ClaimNext, Resolve
from router.entrypoints.auth import create_user
from router.service.housekeeping import close_inactive
from tests.integration.metrics_support import Citizen, Clock, clocked_app

pytestmark = pytest.mark.integration

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = {"from": "2026-03-02", "to": "2026-03-02"}


@pytest.fixture
def clock():
    return Clock(DAY)


@pytest.fixture
def app(app_config, bot, clock):
    yield from clocked_app(app_config, bot, clock)


def take_and_resolve(kanal, clock, agent: int, contact_id: int, taken: datetime, done: datetime):
    clock.at(taken)
    claimed = kanal.desk.claim_next(ClaimNext(agent_id=agent))
    assert claimed is not None and claimed.contact_id == contact_id
    kanal.desk.reply(AgentReply(agent, contact_id, "Here is the answer."))
    clock.at(done)
    kanal.desk.resolve(Resolve(agent, contact_id, "answered", completed=True))


@pytest.fixture
def day(kanal, clock, add_citizen):
    agent = create_user(kanal.uow, "agent1", "correct horse", "agent").id
    turns = kanal.turns
    anna = Citizen(turns, add_citizen(phone="+4521000001", birth_year=1990), "+4521000001")
    bo = Citizen(turns, add_citizen(phone="+4521000002", birth_year=1950), "+4521000002")
    eva = Citizen(
        turns,
        add_citizen(phone="+4521000003", birth_year=1950, exempt_ground="impairment"),
        "+4521000003",
    )
    carl = Citizen(turns, add_citizen(phone="+4521000004", birth_year=1940), "+4521000004")
    ids = {"anna": anna.chat("When is my pension paid?", "bye")}
    clock.at(DAY + timedelta(minutes=10))
    ids["bo"] = bo.chat("hello", "I want to talk to a person")
    at = DAY + timedelta(minutes=10)
    take_and_resolve(kanal, clock, agent, ids["bo"], at + timedelta(seconds=12),
                     at + timedelta(seconds=132))  # fmt: skip
    at = DAY + timedelta(minutes=20)
    clock.at(at)
    ids["eva"] = eva.text("sms", "I need help with my pension")
    take_and_resolve(kanal, clock, agent, ids["eva"], at + timedelta(seconds=45),
                     at + timedelta(seconds=345))  # fmt: skip
    clock.at(DAY + timedelta(minutes=30))
    ids["carl"] = carl.chat("pension payment?")
    clock.at(DAY + timedelta(minutes=61))
    assert close_inactive(kanal.uow, kanal.channels, clock()) == 1
    clock.at(DAY + timedelta(days=2))
    ids["carl_again"] = carl.chat("my payment is missing")
    clock.at(DAY + timedelta(days=10))  # every window of the day is final
    return ids


def report(client, headers, **params):
    query = {**WINDOW, "group_by": "none", **params}
    response = client.get("/api/v1/metrics/channel-shift", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_each_figure_of_the_day_as_counted_by_hand(client, day, manager):
    t = report(client, manager)["total"]
    assert t["contacts"] == 4  # Anna, Bo, Eva, Carl (Carl's second chat is on 4 March)
    # Bot conversations: Anna, Bo (hello first), Carl; Eva's SMS never reached the bot.
    assert t["bot_conversations"] == 3
    # Handed off: bot conversations passed to a person: Bo only (Eva was no bot conversation).
    assert t["handed_off"] == 1 and t["handoff_reasons"] == {"person-requested": 1}
    assert t["handoff_rate"] == 0.3333  # 1 / 3
    # Contained: ended without handoff and no repeat within 7 days: Anna. Carl came back.
    assert (t["bot_contained"], t["bot_repeat_contacts"]) == (1, 1)
    assert t["bot_containment"] == 0.3333  # 1 / 3 settled (Anna, Bo handed off, Carl)
    # Completed needs: Anna and Carl by the bot (digital), Bo and Eva by a person (other).
    assert (t["completed_needs"], t["completed_digital"], t["completed_other"]) == (4, 2, 2)
    assert t["digital_take_up"] == 0.5  # 2 / 4
    # Repeat contact: resolved contacts 4, of them Carl's followed by a repeat in 7 days.
    assert (t["resolved_contacts"], t["repeat_contacts"]) == (4, 1)
    assert t["repeat_rate"] == 0.25 and t["first_contact_resolution"] == 0.75
    # Service level 20 s: Bo answered in 12 s (in time), Eva in 45 s (late); none abandoned.
    assert (t["queued"], t["answered"], t["answered_in_time"], t["abandoned"]) == (2, 2, 1, 0)
    assert t["service_level"] == 0.5 and t["abandonment_rate"] == 0.0
    assert t["asa_seconds"] == 28.5  # (12 + 45) / 2
    assert (t["handled"], t["aht_seconds"]) == (2, 210.0)  # (120 + 300) / 2
    # Cost: two bot chats 2 × 0.15, two contacts served by a person in writing 2 × 2.83.
    assert t["cost"] == 5.96
    assert t["cost_per_contact"] == 1.49 and t["cost_per_transaction"] == 1.49  # 5.96 / 4
    assert t["phone_cost_same_demand"] == 11.32 and t["savings"] == 5.36  # 4 × 2.83 - 5.96
    # Exemption share: 4 citizens in contact, Eva exempt.
    assert (t["citizens"], t["exempt_citizens"], t["exemption_share"]) == (4, 1, 0.25)


def test_fairness_by_exemption_and_age_as_counted_by_hand(client, day, manager):
    rows = {r["group"]: r for r in report(client, manager, group_by="exempt")["rows"]}
    assert set(rows) == {"exempt", "not_exempt"}
    eva, others = rows["exempt"], rows["not_exempt"]
    assert (eva["contacts"], eva["bot_conversations"], eva["handed_off"]) == (1, 0, 0)
    assert eva["digital_take_up"] == 0.0 and eva["service_level"] == 0.0  # 0/1, 0/1
    assert eva["handoff_rate"] is None  # no bot conversation: no denominator
    assert (others["contacts"], others["bot_conversations"], others["handed_off"]) == (3, 3, 1)
    assert others["digital_take_up"] == 0.6667  # Anna, Carl of Anna, Bo, Carl
    assert others["service_level"] == 1.0  # Bo, 12 s
    assert others["cost"] == 3.13  # 0.15 + 2.83 + 0.15
    ages = {r["group"]: r for r in report(client, manager, group_by="age_band")["rows"]}
    assert {g: r["contacts"] for g, r in ages.items()} == {"15_64": 1, "65_79": 2, "80_plus": 1}
    assert ages["65_79"]["digital_take_up"] == 0.0 and ages["65_79"]["service_level"] == 0.5
    assert ages["80_plus"]["bot_containment"] == 0.0  # Carl came back


def test_the_csvs_handed_off_is_the_metric_of_the_same_name(client, day, manager):
    # The report's CSV: the same figure as the API.
    response = client.get(
        "/api/v1/metrics/export.csv", query_string={**WINDOW, "group_by": "exempt"},
        headers=manager,
    )  # fmt: skip
    rows = {r["group"]: r for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}
    assert (rows["exempt"]["handed_off"], rows["not_exempt"]["handed_off"]) == ("0", "1")
    # One row per conversation: handed_off counts bot conversations passed to a person, so the
    # column sums to the report's figure (1: Bo). Before, Eva's row said 1 too (sum 2 of 1).
    response = client.get("/api/v1/metrics/conversations.csv", query_string=WINDOW, headers=manager)
    text = response.get_data(as_text=True)
    by_id = {int(r["conversation"]): r for r in csv.DictReader(io.StringIO(text))}
    assert sum(int(r["handed_off"]) for r in by_id.values()) == 1
    bo, eva = by_id[day["bo"]], by_id[day["eva"]]
    assert (bo["handed_off"], bo["handoff_reason"], bo["to_person_rule"]) == (
        "1", "person-requested", "person-requested",
    )  # fmt: skip
    # Carl came back on 4 March, after the window: his chat is followed by a repeat.
    assert by_id[day["carl"]]["repeat"] == "1" and by_id[day["anna"]]["repeat"] == "0"
    # Eva reached a person by the exemption rule, before any bot: said in its own column.
    assert (eva["handed_off"], eva["handoff_reason"], eva["to_person_rule"]) == (
        "0", "", "exempt-to-person",
    )  # fmt: skip


def test_an_ineligible_outcome_counts_as_a_completed_need(
    client, kanal, clock, manager, add_citizen
):
    # DOMAIN: completion rate = completed ÷ started; an ineligible outcome counts as completed.
    # Two citizens ask for a person on SMS; one is told they are not entitled (ineligible),
    # the other is referred elsewhere: 2 needs started, 1 completed (by a person: other).
    agent = create_user(kanal.uow, "agent1", "correct horse", "agent").id
    ids = []
    for n, outcome in ((1, "ineligible"), (2, "referred")):
        phone = f"+452300000{n}"
        citizen = Citizen(kanal.turns, add_citizen(phone=phone), phone)
        clock.at(DAY + timedelta(minutes=n))
        ids.append(citizen.text("sms", "I want to talk to a person"))
        claimed = kanal.desk.claim_next(ClaimNext(agent_id=agent))
        kanal.desk.reply(AgentReply(agent, claimed.contact_id, "Let me look."))
        kanal.desk.resolve(Resolve(agent, claimed.contact_id, "answered", outcome=outcome))
    t = report(client, manager)["total"]
    assert (t["needs_started"], t["completed_needs"], t["completed_other"]) == (2, 1, 1)
    assert t["completion_rate"] == 0.5
