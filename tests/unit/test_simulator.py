"""The policy simulator on a hand-built history: the same profile gives back what happened,
another profile reports the differences (expected values counted by hand below)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from analytics.simulator import Hour, Recorded, Turn, erlang_c, service, simulate
from router.policy import PolicyContext, decide, load_profile

DENMARK = load_profile("denmark")
FRANCE = load_profile("france")
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def turn(stage: str, context: PolicyContext, profile=DENMARK) -> Turn:
    """A decision as the service recorded it: decided by the period's profile."""
    d = decide(context, profile)
    return Turn(stage, d.rule_id, str(d.action), profile.name, context)


def chat(n: int, failures: int = 0, **outcome) -> Recorded:
    before = PolicyContext(channel="webchat", bot_failures=max(0, failures - 1))
    after = PolicyContext(
        channel="webchat", need="payment_date", confidence=0.9, bot_failures=failures
    )
    return Recorded(
        contact_id=n,
        channel="webchat",
        opened_at=AT + timedelta(minutes=n),
        turns=(turn("before_bot", before), turn("after_bot", after)),
        need="payment_date",
        exempt=False,
        age_band="15_64",
        **outcome,
    )


def history() -> list[Recorded]:
    contained = [chat(i, completed=True, digital=True) for i in range(4)]
    # The bot failed twice: Denmark hands them to a person (rule bot-failed-twice).
    failed = [
        chat(i, failures=2, assisted=True, agent_id=7, wait_seconds=10, handle_seconds=600,
             completed=True)
        for i in (4, 5)
    ]  # fmt: skip
    exempt_call = Recorded(
        contact_id=6,
        channel="voice",
        opened_at=AT + timedelta(minutes=6),
        turns=(turn("before_bot", PolicyContext(channel="voice", exemptions=("impairment",))),),
        exempt=True,
        age_band="80_plus",
        assisted=True,
        agent_id=8,
        wait_seconds=60,
        handle_seconds=300,
        completed=True,
    )
    return [*contained, *failed, exempt_call]


def test_the_periods_own_profile_reproduces_every_decision_and_figure():
    contacts = history()
    assert [t.rule_id for t in contacts[4].turns] == ["default", "bot-failed-twice"]
    result = simulate(contacts, DENMARK)
    assert result["decisions"] == {"replayed": 13, "changed": 0, "changes": []}
    assert result["contacts_rerouted"] == 0
    assert result["projected"] == {
        k: v for k, v in result["recorded"].items() if k != "observed_service_level"
    }
    assert result["recorded"]["assisted"] == 3
    assert result["recorded"]["digital_take_up"] == round(4 / 7, 4)
    assert result["flags"] == []


def test_another_profile_reports_the_changed_decisions_and_projects_their_outcome():
    result = simulate(history(), FRANCE)
    # France offers digital support after two failures where Denmark hands over to a person;
    # its exempt rule has another name but the same action, so that caller is not rerouted.
    assert result["decisions"]["changed"] == 3
    assert result["decisions"]["changes"] == [
        {"recorded": "denmark:bot-failed-twice", "simulated": "france:support-offered", "count": 2},
        {"recorded": "denmark:exempt-to-person", "simulated": "france:exempt-substitute-route",
         "count": 1},
    ]  # fmt: skip
    assert result["contacts_rerouted"] == 2
    # No offer was ever recorded: acceptance 0.3 by default (and said so); a citizen who
    # declines on a written channel stays with the bot, contained at the observed 4 of 6.
    assert result["defaults_used"] == ["acceptance", "accepted_outcome"]
    assisted_each = 0.7 * (2 / 6)
    digital_each = 0.3 + 0.7 * (4 / 6)
    projected = result["projected"]
    assert projected["assisted"] == round(1 + 2 * assisted_each, 1)
    assert projected["digital_take_up"] == round((4 + 2 * digital_each) / 7, 4)
    # An assisted contact costs the period's agent time per assisted contact: 1500 s / 3.
    assert projected["agent_hours"] == round((300 + 2 * assisted_each * 500) / 3600, 1)
    assert result["recorded"]["agent_hours"] == round(1500 / 3600, 1)
    assert projected["cost"] < result["recorded"]["cost"]
    assert result["difference"]["assisted"] == pytest.approx(projected["assisted"] - 3)
    # The exempt caller is served by a person under both: the fairness panel shows it.
    exempt = {row["group"]: row for row in result["fairness"]["exempt"]}
    assert exempt["exempt"]["projected"]["assisted_share"] == 1.0
    assert exempt["not_exempt"]["projected"]["assisted_share"] < 2 / 6
    assert any(f.startswith("exempt=not_exempt: assisted_share") for f in result["flags"])


def test_a_contact_recorded_without_its_context_keeps_what_happened():
    old = Recorded(
        contact_id=99,
        channel="webchat",
        opened_at=AT,
        turns=(Turn("after_bot", "bot-failed-twice", "assisted", "denmark", None),),
        assisted=True,
        completed=True,
    )
    result = simulate([*history(), old], FRANCE)
    assert result["not_replayable"] == 1
    assert result["contacts_rerouted"] == 2


def test_erlang_c_matches_the_textbook_values():
    # Two agents, one erlang: Erlang B = 0.2, so the chance to wait is 0.4 / 1.2.
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)
    assert erlang_c(3, 3.0) == 1.0
    # More load on the same agents never answers sooner.
    light = service([Hour(10, 10 * 300, 2)], 300)
    heavy = service([Hour(30, 30 * 300, 2)], 300)
    assert light["service_level"] > heavy["service_level"]
    assert heavy["overloaded_hours"] == 1 and heavy["service_level"] == 0


def test_alike_contacts_counted_as_one_class_give_the_same_answer():
    # Storage reads a period as classes of alike contacts (analytics.simulation): three
    # contacts the bot failed twice, as three rows or as one row that counts three.
    def failed(n: int, count: int = 1) -> Recorded:
        return replace(
            chat(n, failures=2, assisted=True, agent_id=7, wait_seconds=10, handle_seconds=600,
                 completed=True),
            opened_at=AT,
            count=count,
        )  # fmt: skip

    contained = [replace(chat(i, completed=True, digital=True), opened_at=AT) for i in range(4)]
    staffing = {AT: 1}
    one_by_one = simulate([*contained, *(failed(n) for n in (4, 5, 6))], FRANCE)
    as_a_class = simulate([*contained, failed(4, count=3)], FRANCE, staffing=staffing)
    assert as_a_class == one_by_one
    assert as_a_class["contacts"] == 7 and as_a_class["contacts_rerouted"] == 3
