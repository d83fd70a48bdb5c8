"""The policy simulator over traffic through the real service, by API and by `kanal simulate`.

One morning under Denmark's policy (always open): two bot conversations that end well, one
SMS the bot fails twice (Denmark hands it to a person, France offers digital support), one
exempt caller served by a person, one chat that asks for a person. Read from the event log,
and from the recordings the scheduler keeps (analytics/recordings.py), with the same answers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from analytics import recordings, simulation
from analytics.cli import simulate as simulate_command
from analytics.metrics import Window
from analytics.recorded import period_bounds, recorded_contacts
from analytics.simulator import simulate as replay
from router.entrypoints.auth import create_user
from router.entrypoints.jobs import JOBS, refresh_recorded_contacts
from router.policy import load_profile
from router.policy.profile import PROFILES_DIR
from tests.integration.metrics_support import Citizen, Clock, clocked_app, serve

pytestmark = pytest.mark.integration

DAY1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
URL = "/api/v1/simulate"


@pytest.fixture
def clock():
    return Clock(DAY1)


@pytest.fixture
def app(app_config, bot, clock):
    yield from clocked_app(app_config, bot, clock)


@pytest.fixture
def kept(kanal):
    """The recordings' tables, dropped afterwards (PostgreSQL's test database outlives a test)."""
    yield kanal
    recordings.drop_tables(kanal.engine)


@pytest.fixture
def traffic(kanal, clock, add_citizen):
    turns, desk = kanal.turns, kanal.desk
    agent = create_user(kanal.uow, "agent1", "correct horse", "agent").id
    anna = Citizen(turns, add_citizen(phone="+4520000001", birth_year=1950), "+4520000001")
    carl = Citizen(turns, add_citizen(phone="+4520000003", birth_year=1940), "+4520000003")
    eva = Citizen(
        turns, add_citizen(phone="+4520000004", exempt_ground="impairment"), "+4520000004"
    )
    anonymous = Citizen(turns)
    anna.chat("When is my pension paid?", "bye")
    clock.at(DAY1 + timedelta(minutes=5))
    anonymous.chat("pension payment date?", "bye")
    clock.at(DAY1 + timedelta(minutes=10))
    carl.text("sms", "xyzzy", "qwerty")  # the bot fails twice
    assert serve(desk, agent) is not None
    clock.at(DAY1 + timedelta(minutes=20))
    eva.text("voice", "I need help with my pension")
    assert serve(desk, agent) is not None
    clock.at(DAY1 + timedelta(minutes=30))
    anonymous.chat("hello", "I want to talk to a person")
    assert serve(desk, agent) is not None


def simulate(client, headers, profile: str):
    query = {"profile": profile, "from": "2026-03-02", "to": "2026-03-02"}
    response = client.get(URL, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_replaying_the_day_under_its_own_profile_gives_back_what_happened(client, traffic, manager):
    body = simulate(client, manager, "denmark")
    assert body["contacts"] == 5
    assert body["recorded_profiles"] == {"denmark": 5}
    assert body["not_replayable"] == 0
    # Every message was decided before the bot and again after it.
    assert body["decisions"]["replayed"] >= 2 * 5
    assert body["decisions"]["changed"] == 0 and body["contacts_rerouted"] == 0
    recorded = {k: v for k, v in body["recorded"].items() if k != "observed_service_level"}
    assert body["projected"] == recorded
    assert recorded["assisted"] == 3 and recorded["completed"] == 5
    # Needs completed as the report counts them (docs/domain.md §4.2), by hand: Anna's chat
    # and the anonymous chat, answered by the bot with no person: digital, 2; Carl's SMS and
    # the anonymous chat that asked for a person, answered by a person on a written channel,
    # and Eva's call: other, 3 (a person on chat or SMS is no digital take-up). Take-up
    # 2 ÷ 5 = 0.4, the report's; the simulator said 4 ÷ 5 = 0.8, counting Carl's SMS and the
    # person's chat as digital.
    assert (recorded["completed"], recorded["completed_digitally"]) == (5, 2)
    assert recorded["digital_take_up"] == round(2 / 5, 4) == 0.4
    report = client.get(
        "/api/v1/metrics/channel-shift",
        query_string={"from": "2026-03-02", "to": "2026-03-02", "group_by": "none"},
        headers=manager,
    ).get_json()
    assert report["total"]["digital_take_up"] == recorded["digital_take_up"]


def test_another_profile_reports_the_decisions_it_changes(client, traffic, manager):
    body = simulate(client, manager, "france")
    changes = {(c["recorded"], c["simulated"]): c["count"] for c in body["decisions"]["changes"]}
    # Carl's second failure: France offers digital support where Denmark handed him over.
    assert changes[("denmark:bot-failed-twice", "france:support-offered")] == 1
    # Eva's rule has another name in France, with the same action: not rerouted.
    assert changes[("denmark:exempt-to-person", "france:exempt-substitute-route")] == 1
    assert body["contacts_rerouted"] == 1
    assert body["projected"]["assisted"] < body["recorded"]["assisted"]
    exempt = {row["group"]: row for row in body["fairness"]["exempt"]}
    assert exempt["exempt"]["projected"]["assisted_share"] == 1.0
    assert body["assumptions"]


def test_a_bad_profile_or_day_is_a_clear_400(client, manager):
    for query, parameter in (
        ({"profile": "../../etc/passwd", "from": "2026-03-02", "to": "2026-03-02"}, "profile"),
        ({"profile": "france", "from": "2026-03-02"}, "to"),
        ({"profile": "france", "from": "2026-03-03", "to": "2026-03-02"}, "from"),
    ):
        response = client.get(URL, query_string=query, headers=manager)
        assert response.status_code == 400
        assert response.get_json()["parameter"] == parameter
    assert client.get(URL, query_string={"profile": "france"}).status_code == 401


def test_a_missing_profile_is_named_with_the_profiles_to_choose_from(client, manager):
    response = client.get(URL, query_string={"from": "2026-03-02", "to": "2026-03-02"},
                          headers=manager)  # fmt: skip
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "`profile` is missing: give one of australia, canada, denmark, france.",
        "parameter": "profile",
    }  # it said: give a day as YYYY-MM-DD


def test_kanal_simulate_prints_the_comparison(traffic, database_url, monkeypatch):
    monkeypatch.setenv("KANAL_DATABASE_URL", database_url)
    runner = CliRunner()
    args = ["--profile", "france", "--from", "2026-03-02", "--to", "2026-03-02"]
    result = runner.invoke(simulate_command, args)
    assert result.exit_code == 0, result.output
    assert "replayed under france" in result.output
    assert "denmark:bot-failed-twice -> france:support-offered: 1" in result.output
    assert "assumptions:" in result.output
    wrong = runner.invoke(simulate_command, ["--profile", "nowhere", *args[2:]])
    assert wrong.exit_code == 2 and "unknown policy profile" in wrong.output
    assert "warning" not in result.output


def test_kanal_simulate_warns_that_kanal_would_not_run_a_profile_that_traps(
    traffic, database_url, monkeypatch, tmp_path
):
    monkeypatch.setenv("KANAL_DATABASE_URL", database_url)
    trap = tmp_path / "trap.toml"
    denmark = (PROFILES_DIR / "denmark.toml").read_text(encoding="utf-8")
    rule = '[[rule]]\nid = "exempt-to-person"'
    trap.write_text(denmark.replace(rule, rule + '\nskill = "nowhere"', 1), encoding="utf-8")
    args = ["--profile", str(trap), "--from", "2026-03-02", "--to", "2026-03-02"]
    result = CliRunner().invoke(simulate_command, args)
    assert result.exit_code == 0, result.output  # the comparison is still shown
    assert "warning: kanal would refuse to run this profile" in result.stderr
    assert "rule 'exempt-to-person' sends citizens to skill 'nowhere'" in result.stderr
    assert "replayed under denmark" in result.stdout


def from_the_log(kanal, profile: str) -> dict:
    """The simulation of the day with every contact folded from the event log, its needs
    completed as the report counts them."""
    start, end = period_bounds(DAY1.date(), DAY1.date(), "Europe/Copenhagen")
    window = Window(DAY1.date(), DAY1.date(), "Europe/Copenhagen")
    with kanal.analytics_engine.connect() as conn:
        kinds = simulation.need_completions(conn, window)
        contacts = [
            simulation.as_counted(c, kinds[c.contact_id])
            for c in recorded_contacts(conn, start, end)
        ]
    return replay(contacts, load_profile(profile))


def read_from(kanal) -> str:
    start, end = period_bounds(DAY1.date(), DAY1.date(), "Europe/Copenhagen")
    with kanal.analytics_engine.connect() as conn:
        return simulation.period_contacts(conn, start, end, 20)[2]


def test_the_recordings_answer_as_the_event_log_does_and_keep_up_with_it(
    client, traffic, manager, kept, clock, kanal
):
    assert ("recorded_contacts", refresh_recorded_contacts, 60) in JOBS
    refresh_recorded_contacts(kanal)  # the scheduler's job
    assert read_from(kanal) == "recordings"
    for profile in ("denmark", "france"):
        body = simulate(client, manager, profile)
        assert {k: v for k, v in body.items() if k != "window"} == from_the_log(kanal, profile)
    # A contact after the job's last run is folded from the log: the answer is never stale.
    clock.at(DAY1 + timedelta(minutes=40))
    Citizen(kanal.turns).chat("hello", "I want to talk to a person")
    body = simulate(client, manager, "france")
    assert body["contacts"] == 6 and body["recorded"]["assisted"] == 4
    assert {k: v for k, v in body.items() if k != "window"} == from_the_log(kanal, "france")
    assert recordings.refresh(kanal.analytics_engine, kanal.engine)["contacts"] >= 1
    assert simulate(client, manager, "france") == body
    # Recordings of another log (as if the log were restored from an older backup) are not
    # read, and the job builds them again.
    with kanal.engine.begin() as conn:
        conn.execute(recordings.marks.update().values(event_id=10**9))
    assert read_from(kanal) == "events"
    assert simulate(client, manager, "france") == body
    assert recordings.refresh(kanal.analytics_engine, kanal.engine)["built"]
    assert read_from(kanal) == "recordings"


def test_recordings_of_an_older_fold_are_folded_again_with_exact_waits(client, kept, clock, kanal):
    # Fold version 1 kept the agent_assigned event's whole seconds (20 for 20.9 s); its
    # recordings are not read, and the job folds them again from the events' times.
    agent = create_user(kanal.uow, "agent1", "correct horse", "agent").id
    contact_id = Citizen(kanal.turns).chat("hello", "I want to talk to a person")
    clock.at(DAY1 + timedelta(seconds=20.9))
    assert serve(kanal.desk, agent) == contact_id
    assert recordings.refresh(kanal.analytics_engine, kanal.engine)["built"]

    def wait() -> float:
        table = recordings.contacts_table
        with kanal.engine.connect() as conn:
            return conn.execute(
                select(table.c.wait_seconds).where(table.c.contact_id == contact_id)
            ).scalar_one()

    assert wait() == 20.9
    with kanal.engine.begin() as conn:  # as version 1 left them
        conn.execute(recordings.contacts_table.update().values(wait_seconds=20))
        conn.execute(recordings.marks.update().values(name="contacts"))
    assert read_from(kanal) == "events"
    assert recordings.refresh(kanal.analytics_engine, kanal.engine)["built"]
    assert read_from(kanal) == "recordings" and wait() == 20.9
