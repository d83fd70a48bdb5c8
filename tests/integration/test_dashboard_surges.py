"""The managers' dashboard charts surge mode: when it was on and how long (per surge and per
day), the waits at its peak, and the callbacks its rules offered, booked and made, all from
the event log, on SQLite and PostgreSQL.

Scripted traffic through the service on a clock the test moves (Copenhagen is UTC+1 in
March), with the Danish profile (a surge starts at a wait of 900 s and ends at 300 s or
less once it has lasted 600 s):

Monday 2 March 2026
  09:00 UTC  Anna (phone registered) asks for a person: queued.
  09:16      the watch sees a wait of 960 s (Anna's 16 min): surge 1 starts.
  09:17      Bo (phone registered) asks for a person: the digital route first; asks again:
             the surge books him a callback (offered 1, booked 1).
  09:18      an anonymous chat asks twice: the surge's callback is offered, but it has no
             phone number: it waits (offered 2, booked 1).
  09:20      an agent takes Anna: waited 1,200 s.
  09:21      the dialler rings Bo; 09:22 he answers: assigned after 300 s, the callback made.
  09:26      the agent takes the anonymous chat: waited 480 s.
  09:30      the queue is empty and the surge has lasted 840 s: surge 1 ends.
  22:40      Carl asks for a person: queued.
  22:56      the watch sees 960 s: surge 2 starts (23:56 in Copenhagen).
Tuesday 3 March (Copenhagen)
  23:10 UTC  the agent takes Carl (00:10 Tuesday): waited 1,800 s.
  23:12      surge 2 ends (lasted 960 s: 240 s on Monday, 720 s on Tuesday).

By hand: Monday: 2 surges started, 840 + 240 = 1,080 s in surge, 3 answered (1,200, 300,
480 s: longest 1,200, mean 660), 2 callbacks offered, 1 booked, 1 made. Tuesday: none
started, 720 s, 1 answered (1,800 s), no callbacks. Whole: 2 surges, 1,800 s, 4 answered,
longest 1,800, mean (1,200 + 300 + 480 + 1,800) / 4 = 945 s.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from router.domain.commands import ClaimNext, Resolve
from router.entrypoints.auth import create_token, create_user
from tests.fakes import RecordingCaller
from tests.integration.metrics_support import Citizen, Clock, clocked_app
from tests.integration.test_dashboard import PASSWORD, Page, dashboard, sign_in, value

pytestmark = pytest.mark.integration

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock():
    return Clock(MONDAY)


@pytest.fixture
def app(app_config, bot, clock):
    yield from clocked_app(app_config, bot, clock)


@pytest.fixture
def surges(kanal, clock, add_citizen):
    """The scripted traffic of the module's docstring; returns Bo's callback id."""
    kanal.dialling.dialler.caller = RecordingCaller()
    turns, desk = kanal.turns, kanal.desk
    agent = create_user(kanal.uow, "agent1", PASSWORD, "agent").id
    with kanal.uow() as uow:
        uow.users.get(agent).available_for_calls = True
        uow.commit()
    create_user(kanal.uow, "manager", PASSWORD, "manager")
    anna = Citizen(turns, add_citizen(phone="+4520009001"))
    bo = Citizen(turns, add_citizen(phone="+4520009002"))
    carl = Citizen(turns, add_citizen(phone="+4520009003"))
    anonymous = Citizen(turns)
    watch = kanal.surge_watch

    def serve(now):
        clock.at(now)
        claimed = desk.claim_next(ClaimNext(agent_id=agent))
        desk.resolve(Resolve(agent, claimed.contact_id, "answered", completed=True))
        return claimed

    clock.at(at(2, 9, 0))
    anna.chat("I want to talk to a person")
    clock.at(at(2, 9, 16))
    assert watch.check().active
    clock.at(at(2, 9, 17))
    bo_contact = bo.chat("I want to talk to a person", "person")
    clock.at(at(2, 9, 18))
    anonymous.chat("I want to talk to a person", "person")
    assert serve(at(2, 9, 20)).wait_seconds == 1200
    with kanal.uow() as uow:
        (callback,) = uow.callbacks.for_contact(bo_contact)
    assert callback.reason == "surge"
    clock.at(at(2, 9, 21))
    assert kanal.dialling.run(callback.id) == "placed"
    clock.at(at(2, 9, 22))
    assert kanal.dialling.answered(callback.id, "CA" + "b" * 32).agent_endpoint
    clock.at(at(2, 9, 24))
    desk.resolve(Resolve(agent, bo_contact, "answered", completed=True))
    assert serve(at(2, 9, 26)).wait_seconds == 480
    clock.at(at(2, 9, 30))
    assert not watch.check().active
    clock.at(at(2, 22, 40))
    carl.chat("I want to talk to a person")
    clock.at(at(2, 22, 56))
    assert watch.check().active
    assert serve(at(2, 23, 10)).wait_seconds == 1800
    clock.at(at(2, 23, 12))
    assert not watch.check().active
    clock.at(at(5, 9, 0))
    return callback.id


def rows(page: Page, table: str) -> dict:
    return {
        group: {field: value(v) for field, v in cells.items() if field != "ended_at"}
        for group, cells in page.tables[table].items()
    }


COUNTS = ("answered", "longest_wait_seconds", "mean_wait_seconds", "callbacks_offered",
          "callbacks_booked", "callbacks_made")  # fmt: skip


def test_the_dashboard_shows_each_surge_and_each_day_with_the_figures_counted_by_hand(
    client, surges
):
    assert sign_in(client, "manager").status_code == 302
    page = dashboard(client, **{"from": "2026-03-01", "to": "2026-03-04"})

    periods = rows(page, "surges-table")
    assert list(periods) == ["2026-03-02T10:16:00+01:00", "2026-03-02T23:56:00+01:00"]
    first, second = periods.values()
    assert page.tables["surges-table"]["2026-03-02T10:16:00+01:00"]["ended_at"] == (
        "2026-03-02T10:30:00+01:00"
    )
    assert page.tables["surges-table"]["2026-03-02T23:56:00+01:00"]["ended_at"] == (
        "2026-03-03T00:12:00+01:00"
    )
    assert {k: first[k] for k in ("lasted_seconds", "started_wait_seconds", *COUNTS)} == {
        "lasted_seconds": 840, "started_wait_seconds": 960, "answered": 3,
        "longest_wait_seconds": 1200, "mean_wait_seconds": 660, "callbacks_offered": 2,
        "callbacks_booked": 1, "callbacks_made": 1,
    }  # fmt: skip
    assert {k: second[k] for k in ("lasted_seconds", "started_wait_seconds", *COUNTS)} == {
        "lasted_seconds": 960, "started_wait_seconds": 960, "answered": 1,
        "longest_wait_seconds": 1800, "mean_wait_seconds": 1800, "callbacks_offered": 0,
        "callbacks_booked": 0, "callbacks_made": 0,
    }  # fmt: skip

    days = rows(page, "surge-days-table")
    assert days["2026-03-02"] == {
        "surges_started": 2, "seconds": 1080, "answered": 3, "longest_wait_seconds": 1200,
        "mean_wait_seconds": 660, "callbacks_offered": 2, "callbacks_booked": 1,
        "callbacks_made": 1,
    }  # fmt: skip
    assert days["2026-03-03"] == {
        "surges_started": 0, "seconds": 720, "answered": 1, "longest_wait_seconds": 1800,
        "mean_wait_seconds": 1800, "callbacks_offered": 0, "callbacks_booked": 0,
        "callbacks_made": 0,
    }  # fmt: skip
    assert days["all"] == {
        "surges": 2, "seconds": 1800, "answered": 4, "longest_wait_seconds": 1800,
        "mean_wait_seconds": 945, "callbacks_offered": 2, "callbacks_booked": 1,
        "callbacks_made": 1,
    }  # fmt: skip
    assert set(days) == {"2026-03-02", "2026-03-03", "all"}  # no surge on the other days
    # The chart draws the table's minutes.
    assert page.charts["surges"]["labels"] == ["2026-03-02", "2026-03-03"]
    assert page.charts["surges"]["series"][0]["values"] == [18.0, 12.0]


def test_a_callback_booked_in_a_surge_and_made_after_it_counts_as_made(
    client, kanal, clock, surges, add_citizen
):
    """Dana's surge callback is answered on Wednesday, long after the surge ended."""
    assert sign_in(client, "manager").status_code == 302
    # A third surge on Tuesday afternoon books Dana a callback; nobody calls her that day.
    dana = Citizen(kanal.turns, add_citizen(phone="+4520009004"))
    waiting = Citizen(kanal.turns, add_citizen(phone="+4520009005"))
    clock.at(at(3, 16, 0))
    waiting.chat("I want to talk to a person")
    clock.at(at(3, 16, 20))
    assert kanal.surge_watch.check().active
    clock.at(at(3, 16, 21))
    contact = dana.chat("I want to talk to a person", "person")
    with kanal.uow() as uow:
        (callback,) = uow.callbacks.for_contact(contact)
    before = rows(dashboard(client, **{"from": "2026-03-03", "to": "2026-03-03"}),
                  "surge-days-table")  # fmt: skip
    assert (before["all"]["callbacks_booked"], before["all"]["callbacks_made"]) == (1, 0)

    clock.at(at(4, 8, 0))  # Wednesday: the agent who takes calls is free
    with kanal.uow() as uow:
        (agent,) = [u.id for u in uow.users.available_for_calls()]
    claimed = kanal.desk.claim_next(ClaimNext(agent_id=agent))  # the one who waited first
    kanal.desk.resolve(Resolve(agent, claimed.contact_id, "answered", completed=True))
    assert kanal.dialling.run(callback.id) == "placed"
    assert kanal.dialling.answered(callback.id, "CA" + "d" * 32).agent_endpoint

    after = dashboard(client, **{"from": "2026-03-03", "to": "2026-03-03"})
    made = rows(after, "surge-days-table")["all"]
    assert (made["callbacks_booked"], made["callbacks_made"]) == (1, 1)
    third = rows(after, "surges-table")["2026-03-03T17:20:00+01:00"]
    assert after.tables["surges-table"]["2026-03-03T17:20:00+01:00"]["ended_at"] == ""  # on
    assert (third["callbacks_booked"], third["callbacks_made"]) == (1, 1)


def test_the_surge_section_speaks_danish(client, surges):
    assert sign_in(client, "manager").status_code == 302
    response = client.get("/dashboard", query_string={"from": "2026-03-02", "to": "2026-03-03",
                                                       "lang": "da"})  # fmt: skip
    text = response.get_data(as_text=True)

    assert '<h2 id="surges-h">Spidsbelastning</h2>' in text
    assert "Minutter med spidsbelastning pr. dag" in text
    assert "14 min" in text and "16 min" in text  # how long each surge lasted
    assert "Tilbageringninger foretaget" in text


def test_without_a_surge_the_section_says_so(client, kanal):
    create_user(kanal.uow, "manager", PASSWORD, "manager")
    assert sign_in(client, "manager").status_code == 302
    page = client.get("/dashboard", query_string={"from": "2026-03-01", "to": "2026-03-04"})

    text = page.get_data(as_text=True)
    assert "Surge mode was not on in this period." in text
    assert 'id="surges-table"' not in text


def test_the_surges_waits_are_exact(client, kanal, clock, add_citizen):
    # Dora waits 1,200.4 s, an anonymous chat 300.9 s while surge mode is on: the longest
    # wait is 1,201 s in whole seconds rounded up (never understated), the mean (1,200.4 +
    # 300.9) ÷ 2 = 750.65 s, 751 to the second (whole seconds rounded down said 1,200, 750).
    agent = create_user(kanal.uow, "agent1", PASSWORD, "agent").id
    create_user(kanal.uow, "boss", PASSWORD, "manager")
    token = {"Authorization": "Bearer " + create_token(kanal.uow, "reports", "boss")}
    dora = Citizen(kanal.turns, add_citizen(phone="+4520009011"))
    anonymous = Citizen(kanal.turns)  # no phone: the surge's callback cannot be booked
    clock.at(at(2, 9, 0))
    dora.chat("I want to talk to a person")
    clock.at(at(2, 9, 16))
    assert kanal.surge_watch.check().active
    clock.at(at(2, 9, 15) + timedelta(seconds=59.1))
    anonymous.chat("I want to talk to a person", "person")
    for waited in (at(2, 9, 20) + timedelta(seconds=0.4), at(2, 9, 21)):
        clock.at(waited)
        claimed = kanal.desk.claim_next(ClaimNext(agent_id=agent))
        kanal.desk.resolve(Resolve(agent, claimed.contact_id, "answered", completed=True))
    clock.at(at(2, 9, 30))
    assert not kanal.surge_watch.check().active
    window = {"from": "2026-03-02", "to": "2026-03-02"}

    answer = client.get("/api/v1/metrics/surges", query_string=window, headers=token)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    total = answer.get_json()["total"]
    assert total["answered"] == 2
    assert (total["longest_wait_seconds"], total["mean_wait_seconds"]) == (1201, 751)


def test_the_metrics_api_answers_the_same_surges_as_the_dashboard(client, kanal, surges):
    create_user(kanal.uow, "boss", PASSWORD, "manager")
    token = {"Authorization": "Bearer " + create_token(kanal.uow, "reports", "boss")}
    window = {"from": "2026-03-01", "to": "2026-03-04"}

    answer = client.get("/api/v1/metrics/surges", query_string=window, headers=token)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["window"]["from"] == "2026-03-01" and body["window"]["to"] == "2026-03-04"
    first, second = body["periods"]
    assert (first["started_at"], first["ended_at"]) == (
        "2026-03-02T10:16:00+01:00", "2026-03-02T10:30:00+01:00"
    )  # fmt: skip
    assert {k: first[k] for k in ("lasted_seconds", "started_wait_seconds", *COUNTS)} == {
        "lasted_seconds": 840, "started_wait_seconds": 960, "answered": 3,
        "longest_wait_seconds": 1200, "mean_wait_seconds": 660, "callbacks_offered": 2,
        "callbacks_booked": 1, "callbacks_made": 1,
    }  # fmt: skip
    assert second["ended_at"] == "2026-03-03T00:12:00+01:00" and second["answered"] == 1
    days = {d["day"]: d for d in body["days"]}
    assert set(days) == {"2026-03-02", "2026-03-03"}
    assert (days["2026-03-02"]["surges_started"], days["2026-03-02"]["seconds"]) == (2, 1080)
    assert (days["2026-03-03"]["surges_started"], days["2026-03-03"]["seconds"]) == (0, 720)
    total = body["total"]
    assert (total["surges"], total["seconds"], total["answered"]) == (2, 1800, 4)
    assert (total["mean_wait_seconds"], total["callbacks_made"]) == (945, 1)
    # The dashboard's section is the same reading.
    assert sign_in(client, "manager").status_code == 302
    page = dashboard(client, **window)
    assert list(rows(page, "surges-table")) == [p["started_at"] for p in body["periods"]]
    # A role that sees conversations only is refused.
    create_user(kanal.uow, "ann", PASSWORD, "agent")
    agent = {"Authorization": "Bearer " + create_token(kanal.uow, "mine", "ann")}
    refused = client.get("/api/v1/metrics/surges", query_string=window, headers=agent)
    assert refused.status_code == 403


def test_the_surges_csv_holds_the_figures_counted_by_hand_as_the_api_does(client, kanal, surges):
    import csv
    import io

    create_user(kanal.uow, "boss", PASSWORD, "manager")
    token = {"Authorization": "Bearer " + create_token(kanal.uow, "reports", "boss")}
    window = {"from": "2026-03-01", "to": "2026-03-04"}

    answer = client.get("/api/v1/metrics/surges.csv", query_string=window, headers=token)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "text/csv"
    assert 'filename="surges_2026-03-01_2026-03-04.csv"' in answer.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [(r["row"], r["started_at"] or r["day"]) for r in table] == [
        ("surge", "2026-03-02T10:16:00+01:00"), ("surge", "2026-03-02T23:56:00+01:00"),
        ("day", "2026-03-02"), ("day", "2026-03-03"), ("total", ""),
    ]  # fmt: skip
    first, second, monday, tuesday, whole = table
    assert first["ended_at"] == "2026-03-02T10:30:00+01:00"
    assert {k: first[k] for k in ("lasted_seconds", "started_wait_seconds", *COUNTS)} == {
        "lasted_seconds": "840", "started_wait_seconds": "960", "answered": "3",
        "longest_wait_seconds": "1200", "mean_wait_seconds": "660", "callbacks_offered": "2",
        "callbacks_booked": "1", "callbacks_made": "1",
    }  # fmt: skip
    assert (second["ended_at"], second["lasted_seconds"], second["answered"]) == (
        "2026-03-03T00:12:00+01:00", "960", "1",
    )  # fmt: skip
    assert (monday["surges"], monday["seconds"], monday["answered"]) == ("2", "1080", "3")
    assert (monday["longest_wait_seconds"], monday["mean_wait_seconds"]) == ("1200", "660")
    assert (monday["callbacks_offered"], monday["callbacks_booked"]) == ("2", "1")
    assert (tuesday["surges"], tuesday["seconds"], tuesday["answered"]) == ("0", "720", "1")
    assert (tuesday["callbacks_offered"], tuesday["longest_wait_seconds"]) == ("0", "1800")
    assert (whole["surges"], whole["seconds"], whole["answered"]) == ("2", "1800", "4")
    assert (whole["longest_wait_seconds"], whole["mean_wait_seconds"]) == ("1800", "945")
    assert (whole["callbacks_booked"], whole["callbacks_made"]) == ("1", "1")
    # The same figures as the API's, cell for cell.
    body = client.get("/api/v1/metrics/surges", query_string=window, headers=token).get_json()
    for row, figures in zip(table, [*body["periods"], *body["days"], body["total"]], strict=True):
        for name, cell in row.items():
            if name in figures:
                assert cell == ("" if figures[name] is None else str(figures[name])), name
    # The dashboard's section links it; an agent's token is refused.
    assert sign_in(client, "manager").status_code == 302
    page = client.get("/dashboard", query_string=window).get_data(as_text=True)
    assert (
        'id="surges-csv" href="/api/v1/metrics/surges.csv?from=2026-03-01&amp;to=2026-03-04"'
        in page
    )
    create_user(kanal.uow, "ann", PASSWORD, "agent")
    agent = {"Authorization": "Bearer " + create_token(kanal.uow, "mine", "ann")}
    refused = client.get("/api/v1/metrics/surges.csv", query_string=window, headers=agent)
    assert refused.status_code == 403
