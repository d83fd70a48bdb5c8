"""Claim latency with many agents taking work at once, on PostgreSQL and SQLite.

    .venv/bin/python -m benchmarks.claims [--claimers 16] [--items 800] [--quick]

Each claimer is a process of its own (as several web processes are), with its own engine,
and claims through `Assignments.claim` (router/service/assignments.py: the agent's presence
row locked, their match computed, the best-ranked waiting item taken with `FOR UPDATE SKIP
LOCKED` on PostgreSQL, SQLite's single writer) until nothing is left. It reports claim
latency p50/p99 and double assignments (a contact given to two agents, counted from what the
claimers got and from the database), beside a baseline run in the same command: the same
claimers taking rows of a plain table with one `SELECT … FOR UPDATE SKIP LOCKED` and an
`UPDATE` per claim. Target: p99 ≤ 25 ms and 0 double assignments on PostgreSQL.

Each claimer also counts its statements and transactions and times them by kind (where a
claim's time goes: the database's answers and lock waits, the commit, and the rest, Python),
and the report keeps the counts measured before (`ROUND_TRIPS_BEFORE`).

What bounds the latency (`cpu_per_claim_ms`): each claimer measures the CPU its own process
spent (Python, the driver) and, on PostgreSQL, the CPU of its server backend (from
/proc/<pid>/stat), per claim. The claimers claim back to back, so the machine's cores are
the queue: at N claimers on C cores, a claim's mean latency is at least
N x (claimer + database CPU per claim) / C (`cpu_floor_mean_ms`), whatever the locks.
Both sides' tables are analyzed once loaded (`_analyze`), as a running database's are.
Writes benchmarks/results/claims.json.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from benchmarks import results

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# One scratch database per run: two runs at once (make bench beside a developer's) must not
# drop each other's.
SCRATCH = f"kanal_bench_claims_{os.getpid()}"
RESULTS = Path(__file__).resolve().parents[1] / "results" / "claims.json"
CAPACITY = {"webchat": 100_000, "sms": 100_000, "voice": 100_000}
CHANNELS = ("webchat", "sms", "voice")
# Per claim at 6b29e99, counted as below: the presence locked, open offers, holdings and
# profile read, the item locked and locked again, the contact locked; three writes. At
# 73401e3: the two reads, then the item, the contact and the log written one statement each
# (the ORM's flush); PostgreSQL's 4.94 were 7 round trips with BEGIN and COMMIT (8 with the
# pool's ping). Now on PostgreSQL the writes are one statement.
ROUND_TRIPS_BEFORE = {
    "postgresql": {
        "statements_per_claim": 10.0,
        "transactions_per_claim": 1.0,
        "statements_per_claim_at_73401e3": 4.94,
    },
    "sqlite": {
        "statements_per_claim": 11.0,
        "transactions_per_claim": 1.0,
        "statements_per_claim_at_73401e3": 5.94,
    },
}


class Tally:
    """Statements and commits of one claimer's engine, counted and timed by kind."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        from sqlalchemy import event

        self.ms: dict[str, float] = {}
        self.count: dict[str, int] = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        commit = engine.dialect.do_commit

        def timed_commit(dbapi_connection) -> None:  # noqa: ANN001
            t0 = time.perf_counter()
            commit(dbapi_connection)
            self._add("COMMIT", time.perf_counter() - t0)

        engine.dialect.do_commit = timed_commit

    def _before(self, conn, cursor, statement, params, context, many) -> None:  # noqa: ANN001
        conn.info["tally_t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, params, context, many) -> None:  # noqa: ANN001
        self._add(_kind(statement), time.perf_counter() - conn.info.pop("tally_t0"))

    def _add(self, kind: str, seconds: float) -> None:
        self.ms[kind] = self.ms.get(kind, 0.0) + 1000 * seconds
        self.count[kind] = self.count.get(kind, 0) + 1

    def reset(self) -> None:
        self.ms.clear()
        self.count.clear()


def _kind(statement: str) -> str:
    """A statement's kind: its verb and first table ("SELECT presence", "UPDATE contacts")."""
    words = statement.split()
    verb = words[0].upper() if words else "?"
    if verb == "SELECT":  # the table of its first column, else of its first FROM
        table = re.match(r"SELECT\s+(\w+)\.", statement) or re.search(r"FROM\s+(\w+)", statement)
        return f"SELECT {table.group(1) if table else ''}".strip()
    if verb == "UPDATE" and len(words) > 1:
        return f"UPDATE {words[1]}"
    if verb == "INSERT" and len(words) > 2:
        return f"INSERT {words[2]}"
    return " ".join(words[:2])


def _cpu_seconds() -> float:
    """CPU this process has spent (user and system)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def _backend_seconds(pids: set[int]) -> float:
    """CPU the PostgreSQL backends `pids` have spent (the server on this machine)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # another machine's server: not measured
            return float("nan")
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _backends(engine) -> set[int]:  # noqa: ANN001
    """The server processes of this engine's connections, as they are made (PostgreSQL)."""
    from sqlalchemy import event

    pids: set[int] = set()
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", lambda conn, _record: pids.add(conn.info.backend_pid))
    return pids


def _routing():
    from router.domain.routing import Routing

    return Routing(capacity=tuple(CAPACITY.items()))


def _load(url: str, items: int, claimers: int) -> list[int]:
    """Build kanal's tables with `items` contacts waiting and `claimers` agents; their ids."""
    from router.adapters.db import create_all, make_engine, make_session_factory
    from router.adapters.uow import SqlUnitOfWork
    from router.domain.model import User
    from router.service import contacts

    engine = make_engine(url)
    create_all(engine)
    sessions = make_session_factory(engine)
    start = datetime.now(UTC) - timedelta(hours=1)
    routing = _routing()
    with SqlUnitOfWork(sessions) as uow:
        agents = [
            uow.users.add(User(f"agent{n}", "-", "agent", created_at=start)).id
            for n in range(claimers)
        ]
        for n in range(items):
            at = start + timedelta(seconds=n)
            contact = contacts.open_contact(uow, CHANNELS[n % 3], f"+45{n:08d}", at)
            contacts.enqueue(uow, contact, "general", n % 3 == 0, at, None, routing=routing)
        uow.commit()
    _analyze(engine)
    engine.dispose()
    return agents


def _kanal_claimer(url: str, agent_id: int, start, out) -> None:  # noqa: ANN001
    from router.adapters.db import make_engine, make_session_factory
    from router.adapters.uow import SqlUnitOfWork
    from router.service.assignments import Assignments
    from router.service.errors import Busy

    engine = make_engine(url)
    backends = _backends(engine)
    sessions = make_session_factory(engine)
    assignments = Assignments(
        lambda: SqlUnitOfWork(sessions), _routing(), lambda: datetime.now(UTC)
    )
    assignments.claim(agent_id, queues=("nothing",))  # warm the connection and the mappers
    tally = Tally(engine)
    got, times = [], []
    start.wait()
    cpu = (_cpu_seconds(), _backend_seconds(backends))
    while True:
        t0 = time.perf_counter()
        try:
            claimed = assignments.claim(agent_id)
        except Busy:  # others' claims kept this one from finishing: work may wait, ask again
            times.append(time.perf_counter() - t0)
            continue
        times.append(time.perf_counter() - t0)
        if claimed is None:
            break
        got.append(claimed.contact_id)
    cpu = (_cpu_seconds() - cpu[0], _backend_seconds(backends) - cpu[1])
    engine.dispose()
    out.put((got, times, tally.count, tally.ms, cpu))


def _baseline_claimer(url: str, agent_id: int, start, out) -> None:  # noqa: ANN001
    engine = _plain_engine(url)
    postgres = engine.dialect.name == "postgresql"
    pick = "SELECT id FROM bench_jobs WHERE state = 'waiting' ORDER BY id LIMIT 1" + (
        " FOR UPDATE SKIP LOCKED" if postgres else ""
    )
    take = "UPDATE bench_jobs SET state = 'taken', taken_by = :agent WHERE id = :id"
    backends = _backends(engine)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar()
        conn.rollback()
        tally = Tally(engine)
        got, times = [], []
        start.wait()
        cpu = (_cpu_seconds(), _backend_seconds(backends))
        while True:
            t0 = time.perf_counter()
            with conn.begin():
                row = conn.execute(text(pick)).first()
                if row is not None:
                    conn.execute(text(take), {"agent": agent_id, "id": row[0]})
            times.append(time.perf_counter() - t0)
            if row is None:
                break
            got.append(row[0])
        cpu = (_cpu_seconds() - cpu[0], _backend_seconds(backends) - cpu[1])
    engine.dispose()
    out.put((got, times, tally.count, tally.ms, cpu))


def _plain_engine(url: str):  # noqa: ANN202
    """An engine as kanal's: SQLite takes its write lock at BEGIN (the single writer)."""
    from router.adapters.db import make_engine

    return make_engine(url)


def _load_baseline(url: str, items: int) -> None:
    engine = _plain_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_jobs"))
        conn.execute(
            text(
                "CREATE TABLE bench_jobs (id INTEGER PRIMARY KEY, state VARCHAR(16) NOT NULL, "
                "taken_by INTEGER)"
            )
        )
        conn.execute(
            text("INSERT INTO bench_jobs (id, state) VALUES (:id, 'waiting')"),
            [{"id": n + 1} for n in range(items)],
        )
    _analyze(engine)
    engine.dispose()


def _analyze(engine) -> None:  # noqa: ANN001
    """Give the planner its statistics, as a running database has them (autovacuum): the
    tables were empty when made, and a plan for an empty table sorts what it could read in
    order from an index."""
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _race(target, url: str, agents: list[int]) -> dict:  # noqa: ANN001
    ctx = mp.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=target, args=(url, a, start, out)) for a in agents]
    for p in procs:
        p.start()
    time.sleep(1.0)  # every claimer connected and warm
    t0 = time.perf_counter()
    start.set()
    results = [out.get(timeout=600) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    got = [c for claimed, *_ in results for c in claimed]
    # Each claimer's last claim found nothing: its time counts in the means, not the claims'.
    times = sorted(t for _, ts, *_ in results for t in ts[:-1])
    calls = sum(len(ts) for _, ts, *_ in results)
    counts: dict[str, int] = {}
    spent: dict[str, float] = {}
    for *_, count, ms, _cpu in results:
        for kind, n in count.items():
            counts[kind] = counts.get(kind, 0) + n
            spent[kind] = spent.get(kind, 0.0) + ms[kind]
    commits = counts.get("COMMIT", 0)
    in_database = sum(spent.values()) / calls
    mean_ms = 1000 * sum(t for _, ts, *_ in results for t in ts) / calls
    claimer_ms = 1000 * sum(cpu[0] for *_, cpu in results) / calls
    database_ms = 1000 * sum(cpu[1] for *_, cpu in results) / calls
    database_ms = 0.0 if math.isnan(database_ms) else database_ms  # a server elsewhere
    cpus = os.cpu_count() or 1
    return {
        "claims": len(got),
        "double_assignments": len(got) - len(set(got)),
        "p50_ms": round(1000 * statistics.median(times), 2),
        "p99_ms": round(1000 * times[int(0.99 * (len(times) - 1))], 2),
        "claims_per_second": round(len(got) / wall, 1),
        "statements_per_claim": round((sum(counts.values()) - commits) / calls, 2),
        "transactions_per_claim": round(commits / calls, 2),
        # Mean milliseconds per claim: waiting on each kind of statement (its lock waits
        # included), on the commit, and the rest of a claim (Python, the CPU queue).
        "time_per_claim_ms": {
            **{k: round(v / calls, 3) for k, v in sorted(spent.items(), key=lambda kv: -kv[1])},
            "rest": round(max(0.0, mean_ms - in_database), 3),
        },
        "mean_ms": round(mean_ms, 2),
        # What bounds it: the CPU one claim costs, in the claimer (Python and the driver) and
        # in its database backend (PostgreSQL on this machine; SQLite runs in the claimer).
        "cpu_per_claim_ms": {"claimer": round(claimer_ms, 3), "database": round(database_ms, 3)},
        # With every claimer claiming back to back, the cores are the queue: the mean latency
        # cannot be below claimers x CPU per claim / cores.
        "cpu_floor_mean_ms": round(len(results) * (claimer_ms + database_ms) / cpus, 2),
    }


def _doubles_in_database(url: str) -> int:
    """Contacts given to more than one agent, or items claimed twice, as stored."""
    engine = create_engine(url)
    with engine.connect() as conn:
        twice = conn.execute(
            text(
                "SELECT COUNT(*) FROM (SELECT contact_id FROM queue_items "
                "WHERE agent_id IS NOT NULL GROUP BY contact_id HAVING COUNT(*) > 1) t"
            )
        ).scalar()
        mismatched = conn.execute(
            text(
                "SELECT COUNT(*) FROM queue_items q JOIN contacts c ON c.id = q.contact_id "
                "WHERE q.agent_id IS NOT NULL AND (c.agent_id IS NULL OR c.agent_id <> q.agent_id)"
            )
        ).scalar()
    engine.dispose()
    return int(twice) + int(mismatched)


def run(url: str, items: int, claimers: int) -> dict:
    agents = _load(url, items, claimers)
    claims = _race(_kanal_claimer, url, agents)
    claims["double_assignments"] += _doubles_in_database(url)
    _load_baseline(url, items)
    baseline = _race(_baseline_claimer, url, agents)
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    return {
        "claims": claims,
        "baseline": baseline,
        "round_trips_before": ROUND_TRIPS_BEFORE[dialect],
        "ratio_p50": round(claims["p50_ms"] / baseline["p50_ms"], 2),
        "ratio_p99": round(claims["p99_ms"] / baseline["p99_ms"], 2),
    }


@contextmanager
def _postgres():  # noqa: ANN202
    """A scratch database on KANAL_TEST_POSTGRES_URL's server (default: the local one)."""
    admin_url = os.environ.get("KANAL_TEST_POSTGRES_URL") or POSTGRES
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{SCRATCH}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + SCRATCH
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claimers", type=int, default=16)
    parser.add_argument("--items", type=int, default=800)
    parser.add_argument("--quick", action="store_true", help="160 items")
    args = parser.parse_args(argv)
    items = 160 if args.quick else args.items
    report = {
        "what": "claim latency, agents claiming at once, each a process of its own",
        "claimers": args.claimers,
        "items": items,
        "target": {"postgresql_p99_ms": 25, "double_assignments": 0},
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": [round(n, 2) for n in os.getloadavg()],
    }
    try:
        with _postgres() as url:
            report["postgresql"] = run(url, items, args.claimers)
    except Exception as exc:  # noqa: BLE001 - no PostgreSQL here: say so, run SQLite
        report["postgresql"] = {"skipped": str(exc)[:200]}
    with tempfile.TemporaryDirectory() as folder:
        report["sqlite"] = run(f"sqlite:///{folder}/claims.db", items, args.claimers)
    results.write("claims", report, quick=args.quick)
    print(json.dumps(report, indent=2))
    pg = report["postgresql"].get("claims", {})
    failed = report["sqlite"]["claims"]["double_assignments"] or pg.get("double_assignments")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
