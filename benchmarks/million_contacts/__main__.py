"""A million contacts: the managers' API p95 and the policy simulator's rate, SQLite and PostgreSQL.

    python -m benchmarks.million_contacts [--quick] [--sqlite-only] [--contacts=N]
        [--sqlite-path=FILE] [--postgres-only]

--sqlite-path: a SQLite database load.py filled with N contacts (not loaded again).

A month of contacts (benchmarks/million_contacts/history.py) is written by the fast loader
(load.py: straight into `contact_events`, never through the channels) into a fresh database,
then, through the real app (`create_app`, a manager's API token, Flask's test client):

- the API: each of the dashboard's requests (REQUESTS) is sent repeatedly and its p50/p95
  taken; the baseline is the same requests on a small history (BASELINE_CONTACTS) loaded the
  same way in the same command, so the ratio is what the volume costs;
- the simulator: the month replayed under France's profile, `analytics.recorded` reading and
  `analytics.simulator` replaying (with decide()'s memo, and without it: every decision made
  afresh); the baseline is the same statement's rows fetched and thrown away (the I/O floor).

A request slower than its budget is not repeated past it (the samples are reported), and past
TOTAL_BUDGET_S per database the remaining requests are skipped (and reported as skipped).
Targets (issue 17): API p95 <= 250 ms, 1 M contacts replayed in <= 60 s.
Results: benchmarks/results/million_contacts.json (not written by --quick).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

from analytics.reader import reader_engine
from analytics.recorded import events_of_period, period_bounds, recorded_contacts
from analytics.simulator import simulate
from benchmarks.million_contacts.history import History
from benchmarks.million_contacts.load import load
from router.policy import load_profile

RESULTS = Path(__file__).resolve().parents[1] / "results" / "million_contacts.json"
TZ = "Europe/Copenhagen"
FIRST, LAST = date(2026, 3, 1), date(2026, 3, 30)
BASELINE_CONTACTS = 10_000  # quick: a fifth of the contacts
TARGET_P95_MS = 250
TOTAL_BUDGET_S = 240.0  # per database and history: later requests are skipped past it
TARGET_REPLAY_S = 60  # for a million contacts
REQUESTS = (
    ("month by channel", "/api/v1/metrics/channel-shift?from=2026-03-01&to=2026-03-30"),
    ("month by need", "/api/v1/metrics/channel-shift?from=2026-03-01&to=2026-03-30&group_by=need"),
    (
        "week by exemption",
        "/api/v1/metrics/channel-shift?from=2026-03-23&to=2026-03-29&group_by=exempt",
    ),
    (
        "day by age band",
        "/api/v1/metrics/channel-shift?from=2026-03-16&to=2026-03-16&group_by=age_band",
    ),
    ("month as CSV", "/api/v1/metrics/export.csv?from=2026-03-01&to=2026-03-30"),
)  # fmt: skip
DASHBOARD = ("dashboard page, month", "/dashboard?from=2026-03-01&to=2026-03-30")


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


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def api_times(url: str, samples: int, budget_s: float) -> dict:
    """Send each request `samples` times (within `budget_s` each) through the real app."""
    from router import create_app
    from router.entrypoints.auth import create_token, create_user
    from router.entrypoints.bootstrap import kanal_of

    with tempfile.TemporaryDirectory() as instance:
        config = {
            "SECRET_KEY": "bench",
            "KANAL_DATABASE_URL": url,
            "KANAL_INSTANCE_PATH": instance,
            "KANAL_TIMEZONE": TZ,
            "KANAL_PUBLIC_URL": "http://127.0.0.1:9",
            "WTF_CSRF_ENABLED": False,  # the dashboard's manager signs in with a plain POST
        }
        app = create_app(config)
        try:
            kanal = kanal_of(app)
            with kanal.uow() as uow:
                known = uow.users.by_username("bench-manager") is not None
            if not known:  # a reused database has its manager from the run before
                create_user(kanal.uow, "bench-manager", "correct horse", "manager")
            token = create_token(kanal.uow, "bench", "bench-manager")
            client = app.test_client()
            headers = {"Authorization": f"Bearer {token}"}
            # The dashboard is a page for a signed-in manager (a session, not a token).
            signed_in = client.post(
                "/login", data={"username": "bench-manager", "password": "correct horse"}
            )
            assert signed_in.status_code in (302, 303), signed_in.status_code
            served = {rule.rule for rule in app.url_map.iter_rules()}
            requests = [*REQUESTS, *([DASHBOARD] if "/dashboard" in served else [])]
            out: dict = {}
            everything: list[float] = []
            spent = 0.0
            for name, path in requests:
                times: list[float] = []
                if spent > TOTAL_BUDGET_S:  # a slow API: the rest is not measured
                    out[name] = {"path": path, "samples": 0, "skipped": "over the time budget"}
                    print(f"  {name}: skipped (over the time budget)", flush=True)
                    continue
                while len(times) < samples and sum(times) < budget_s:
                    started = time.perf_counter()
                    response = client.get(path, headers=headers)
                    times.append(time.perf_counter() - started)
                    assert response.status_code == 200, (path, response.status_code)
                everything += times
                spent += sum(times)
                print(f"  {name}: {len(times)} sample(s), p95 {_percentile(times, 0.95):.3f} s",
                      flush=True)  # fmt: skip
                out[name] = {
                    "path": path,
                    "samples": len(times),
                    "p50_ms": round(statistics.median(times) * 1000, 1),
                    "p95_ms": round(_percentile(times, 0.95) * 1000, 1),
                }
            out["all"] = {
                "samples": len(everything),
                "p95_ms": round(_percentile(everything, 0.95) * 1000, 1),
                "worst_p95_ms": max(v.get("p95_ms", 0) for v in out.values()),
                "skipped": sorted(k for k, v in out.items() if v.get("skipped")),
            }
            return out
        finally:
            kanal_of(app).close()


def simulator_times(url: str) -> dict:
    """Replay the month under France's profile; time the read, the replay and the I/O floor."""
    engine = reader_engine(create_engine(url))
    start, end = period_bounds(FIRST, LAST, TZ)
    try:
        with engine.connect() as conn:
            started = time.perf_counter()
            rows = sum(1 for stmt in events_of_period(start, end) for _ in conn.execute(stmt))
            floor = time.perf_counter() - started
        with engine.connect() as conn:
            started, cpu = time.perf_counter(), time.process_time()
            contacts = recorded_contacts(conn, start, end)
            read = time.perf_counter() - started
        france = load_profile("france")
        started = time.perf_counter()
        result = simulate(contacts, france)
        replay = time.perf_counter() - started
        cpu = time.process_time() - cpu
        started = time.perf_counter()
        simulate(contacts, france, memo=False)
        cold = time.perf_counter() - started
    finally:
        engine.dispose()
    n = len(contacts)
    total = read + replay
    return {
        "contacts": n,
        "events_read": rows,
        "decisions": result["decisions"]["replayed"],
        "distinct_contexts": len({t.context for c in contacts for t in c.turns}),
        "rerouted": result["contacts_rerouted"],
        "baseline_fetch_s": round(floor, 2),
        "read_s": round(read, 2),
        "replay_s": round(replay, 2),
        "replay_without_memo_s": round(cold, 2),
        "total_s": round(total, 2),
        # This process's CPU time for reading and replaying: on a shared machine the wall
        # clock also counts the time other processes had the cores.
        "total_cpu_s": round(cpu, 2),
        "contacts_per_cpu_s": round(n / cpu),
        "contacts_per_s": round(n / total),
        "contacts_per_s_without_memo": round(n / (read + cold)),
        "ratio_to_baseline": round(total / floor, 2),
        "projected_1m_s": round(1_000_000 / (n / total), 1),
        "digital_take_up": [
            result["recorded"]["digital_take_up"], result["projected"]["digital_take_up"]
        ],
    }  # fmt: skip


def run(database: str, contacts: int, samples: int, budget_s: float, url_of, reuse=None) -> dict:  # noqa: ANN001, E501
    """Load (or reuse) each history, replay the big one, then time the API within budget."""
    out: dict = {}
    for label, n in (("baseline", baseline_size(contacts)), ("kanal", contacts)):
        url = url_of(f"bench_million_{label}_{os.getpid()}")
        try:
            if reuse and label == "kanal":
                url, loaded = reuse, {"reused": reuse}
            else:
                loaded = load(url, History(n).rows())
            print(f"{database} {label}: {n:,} contacts loaded {loaded}", flush=True)
            out[label] = {"contacts": n, "load": loaded}
            if label == "kanal":
                out[label]["simulator"] = simulator_times(url)
                print(f"{database} simulator: {out[label]['simulator']}", flush=True)
            api = api_times(url, samples, budget_s)
            print(f"{database} {label}: API {api['all']}", flush=True)
            out[label]["api"] = api
        finally:
            url_of(None)
    base, big = out["baseline"]["api"]["all"], out["kanal"]["api"]["all"]
    out["api_p95_ratio"] = round(big["p95_ms"] / base["p95_ms"], 2)
    out["api_p95_meets_target"] = big["worst_p95_ms"] <= TARGET_P95_MS
    return out


def baseline_size(contacts: int) -> int:
    return min(BASELINE_CONTACTS, max(1, contacts // 5))


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    contacts = 5_000 if quick else 1_000_000
    for a in argv:
        if a.startswith("--contacts="):
            contacts = int(a.split("=", 1)[1])
    samples, budget = (3, 2.0) if quick else (20, 20.0)
    out: dict = {
        "about": {
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg()[0],
            "python": platform.python_version(),
            "contacts": contacts,
            "baseline_contacts": baseline_size(contacts),
            "window": f"{FIRST}..{LAST} ({TZ})",
            "quick": quick,
            "targets": {"api_p95_ms": TARGET_P95_MS, "replay_1m_s": TARGET_REPLAY_S},
        }
    }
    with tempfile.TemporaryDirectory() as tmp:
        if "--postgres-only" in argv:
            tmp = None

        def sqlite_url(name):  # noqa: ANN001, ANN202
            return f"sqlite:///{tmp}/{name}.db" if name else None

        reuse = next((a.split("=", 1)[1] for a in argv if a.startswith("--sqlite-path=")), None)
        reuse = f"sqlite:///{reuse}" if reuse else None
        if tmp is not None:
            out["sqlite"] = run("sqlite", contacts, samples, budget, sqlite_url, reuse)
    if not quick:  # written after each database, so a long run keeps what it measured
        _write(out)
    admin = _postgres_admin()
    if admin and "--sqlite-only" not in argv:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        made: list[str] = []

        def postgres_url(name):  # noqa: ANN001, ANN202
            with engine.connect() as conn:
                for old in made:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)'))
                made.clear()
                if name is None:
                    return None
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            made.append(name)
            return admin.rsplit("/", 1)[0] + "/" + name

        try:
            out["postgresql"] = run("postgresql", contacts, samples, budget, postgres_url)
        finally:
            postgres_url(None)
            engine.dispose()
    if not quick:
        _write(out)
    return 0


def _write(out: dict) -> None:
    """Write the results, keeping a database's figures from an earlier run that skipped it."""
    kept = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for database in ("sqlite", "postgresql"):
        if database not in out and database in kept:
            out[database] = kept[database]
    RESULTS.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
