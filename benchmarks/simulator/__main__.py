"""The policy simulator at a million contacts, on SQLite and PostgreSQL.

    python -m benchmarks.simulator [--quick] [--contacts=N] [--sqlite-only] [--postgres-only]
        [--fresh] [--from-events]

A month of contacts (benchmarks/million_contacts/history.py, decided by Denmark's profile) is
written by the fast loader (benchmarks/million_contacts/load.py: straight into
`contact_events`, never through the channels), and the scheduler's `recorded_contacts` job
(`analytics.recordings.refresh`) folds it into the simulator's one row per contact. Both are
CACHED between runs, because loading a million contacts takes 5-10 minutes: the load is the
one benchmarks.million_contacts uses (benchmarks/million_contacts/cache.py: one SQLite file
and one PostgreSQL database per size and version of the history, in $KANAL_BENCH_CACHE,
default ~/.cache/kanal-bench, shared by both benchmarks), and the recordings are folded into
it once per version of analytics/recorded.py and recordings.FOLD_VERSION; --fresh loads and
folds again. The results say whether each was reused, and how long the load and the first
fold took.

Then the month is replayed as `kanal simulate` does (`analytics.simulation.simulate_period`)
under Denmark's profile (its own: every decision must come back unchanged) and France's, and
timed in wall-clock and CPU seconds (this process; on PostgreSQL also the server process's,
read from /proc). The baselines, in the same run: the same statement's rows merely fetched
(the floor of reading), and decide() alone on every distinct recorded context (the floor of
replaying). The dashboard's simulator page for the month is requested once, through the real
app as a signed-in manager, and timed. --from-events also times the simulator folding the
month from the event log (the way it read before the recordings; minutes at a million).
Target (issue 17): 1 M contacts replayed in <= 60 s.
Results: benchmarks/results/simulator.json (--quick: simulator.quick.json).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

from analytics import simulation
from analytics.metrics import Window
from analytics.reader import reader_engine
from analytics.recorded import period_bounds, recorded_contacts
from analytics.simulator import simulate
from benchmarks import results
from benchmarks.million_contacts import cache
from benchmarks.simulator.prepared import TZ, prepare
from router.policy import decide, load_profile

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RESULTS = HERE.parent / "results" / "simulator.json"
FIRST, LAST = date(2026, 3, 1), date(2026, 3, 30)
PROFILES = ("denmark", "france")
TARGET_S = 60  # for a million contacts


def _server_cpu(engine) -> dict[int, float] | None:  # noqa: ANN001
    """Return the CPU seconds so far of each PostgreSQL backend serving this database (None
    on SQLite, or when /proc cannot be read: the server on another machine)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        pids = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).scalars()
        out = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return out


class Timer:
    """Wall, this process's CPU and (PostgreSQL) the server's CPU of a block."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        self.engine = engine

    def __enter__(self) -> Timer:
        self.before = _server_cpu(self.engine)
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        after = _server_cpu(self.engine)
        self.server = None
        if after is not None and self.before is not None:
            self.server = sum(v - self.before.get(pid, 0.0) for pid, v in after.items())

    def figures(self, contacts: int) -> dict:
        out = {"wall_s": round(self.wall, 2), "cpu_s": round(self.cpu, 2)}
        if self.server is not None:
            out["server_cpu_s"] = round(self.server, 2)
        out["contacts_per_s"] = round(contacts / self.wall) if self.wall else None
        return out


def measure(url: str, from_events: bool) -> dict:
    """Time the baselines and each profile's replay on one database."""
    engine = reader_engine(create_engine(url))
    start, end = period_bounds(FIRST, LAST, TZ)
    out: dict = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "load_average": os.getloadavg()[0]}
    try:
        statement = simulation.classes_statement(start, end, 20, tail=False)
        with Timer(engine) as fetched, engine.connect() as conn:
            rows = conn.execute(statement).all()
        with engine.connect() as conn:
            contacts = sum(row[13] for row in rows)
            out["contacts"] = contacts
            out["classes"] = len(rows)
            out["baseline_fetch"] = fetched.figures(contacts)
            paths, _staffing, source = simulation.period_contacts(conn, start, end, 20)
            assert source == "recordings", source
        contexts = {t.context for c in paths for t in c.turns if t.context is not None}
        out["distinct_contexts"] = len(contexts)
        for name in PROFILES:
            profile = load_profile(name)
            started, cpu = time.perf_counter(), time.process_time()
            for context in contexts:
                decide(context, profile)
            out[f"baseline_decide_{name}"] = {
                "wall_s": round(time.perf_counter() - started, 2),
                "cpu_s": round(time.process_time() - cpu, 2),
            }
        with Timer(engine) as needs, engine.connect() as conn:  # the recorded needs alone
            kinds = simulation.need_completions(conn, Window(FIRST, LAST, TZ))
        out["need_completions"] = needs.figures(contacts)
        out["need_completions"]["completed"] = sum(k is not None for k in kinds.values())
        for name in PROFILES:
            with Timer(engine) as timed:  # what `kanal simulate` runs
                result = simulation.simulate_period(engine, load_profile(name), FIRST, LAST, TZ)
            figures = timed.figures(result["contacts"])
            figures["ratio_to_baseline_fetch"] = round(timed.wall / fetched.wall, 2)
            figures["decisions_replayed"] = result["decisions"]["replayed"]
            figures["decisions_changed"] = result["decisions"]["changed"]
            figures["contacts_rerouted"] = result["contacts_rerouted"]
            figures["digital_take_up"] = [
                result["recorded"]["digital_take_up"], result["projected"]["digital_take_up"]
            ]  # fmt: skip
            if name == "denmark":  # the history's own profile: nothing may change
                assert figures["decisions_changed"] == 0 and figures["contacts_rerouted"] == 0
            out[name] = figures
            print(f"  {name}: {figures}", flush=True)
        out["dashboard_page"] = dashboard_page(url)
        print(f"  dashboard page: {out['dashboard_page']}", flush=True)
        if from_events:
            with Timer(engine) as timed, engine.connect() as conn:
                folded = recorded_contacts(conn, start, end)
                before = simulate(folded, load_profile("france"))
            out["france_from_events"] = timed.figures(before["contacts"])
            print(f"  france from the events: {out['france_from_events']}", flush=True)
    finally:
        engine.dispose()
    out["load_average_after"] = os.getloadavg()[0]
    return out


PAGE = "/dashboard/simulate?from=2026-03-01&to=2026-03-30&profile=france&lang=da"


def dashboard_page(url: str) -> dict:
    """Time the dashboard's simulator page for the month (a signed-in manager, Danish)."""
    import tempfile

    from router import create_app
    from router.entrypoints.auth import create_user
    from router.entrypoints.bootstrap import kanal_of

    with tempfile.TemporaryDirectory() as instance:
        config = {
            "SECRET_KEY": "bench",
            "KANAL_DATABASE_URL": url,
            "KANAL_INSTANCE_PATH": instance,
            "KANAL_TIMEZONE": TZ,
            "KANAL_PUBLIC_URL": "http://127.0.0.1:9",
            "WTF_CSRF_ENABLED": False,  # the manager signs in with a plain POST
        }
        app = create_app(config)
        try:
            kanal = kanal_of(app)
            with kanal.uow() as uow:
                known = uow.users.by_username("bench-manager") is not None
            if not known:  # a cached database keeps its manager from the run before
                create_user(kanal.uow, "bench-manager", "correct horse", "manager")
            client = app.test_client()
            signed_in = client.post(
                "/login", data={"username": "bench-manager", "password": "correct horse"}
            )
            assert signed_in.status_code in (302, 303), signed_in.status_code
            started, cpu = time.perf_counter(), time.process_time()
            response = client.get(PAGE)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            assert response.status_code == 200, response.status_code
            assert 'id="sim-assumptions"' in response.get_data(as_text=True)
        finally:
            kanal_of(app).close()
    return {"path": PAGE, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}


def _postgres_admin() -> str | None:
    url = os.environ.get("KANAL_TEST_POSTGRES_URL")
    if url:
        return url
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    except OSError:
        return None


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    contacts = 5_000 if quick else 1_000_000
    for a in argv:
        if a.startswith("--contacts="):
            contacts = int(a.split("=", 1)[1])
    fresh, from_events = "--fresh" in argv, "--from-events" in argv
    out: dict = {
        "about": {
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg()[0],
            "python": platform.python_version(),
            "contacts": contacts,
            "window": f"{FIRST}..{LAST} ({TZ})",
            "profiles": PROFILES,
            "target_s": TARGET_S,
            "cache": str(cache.folder()),
            "notes": (
                "server_cpu_s: the PostgreSQL backends' CPU read from /proc before and after; "
                "a parallel worker that starts and ends within a query is not counted. "
                "france_from_events: the month folded from the events, as the simulator read "
                "before the recordings (timed with --from-events; its own 'when')."
            ),
        }
    }
    if "--postgres-only" not in argv:
        print(f"sqlite, {contacts:,} contacts", flush=True)
        url, prepared = prepare("sqlite", contacts, fresh)
        out["sqlite"] = {"prepared": prepared, **measure(url, from_events)}
    admin = _postgres_admin()
    if admin and "--sqlite-only" not in argv:
        print(f"postgresql, {contacts:,} contacts", flush=True)
        url, prepared = prepare(admin, contacts, fresh)
        out["postgresql"] = {"prepared": prepared, **measure(url, from_events)}
    out["about"]["load_average_after"] = os.getloadavg()[0]
    path = results.path("simulator", quick)
    kept = json.loads(path.read_text()) if path.exists() else {}
    for database in ("sqlite", "postgresql"):
        if database not in out and database in kept:
            out[database] = kept[database]  # from an earlier run (its own "when")
        earlier = kept.get(database, {})
        before = earlier.get("france_from_events")
        if database in out and "france_from_events" not in out[database] and before:
            # The slow way is not timed every run: the last time it was, and when.
            out[database]["france_from_events"] = {"when": earlier.get("when"), **before}
    results.write("simulator", out, quick=quick)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
