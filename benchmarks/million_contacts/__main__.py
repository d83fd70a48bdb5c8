"""A million contacts: the managers' dashboard, API and CSV at 1 M contacts, SQLite and PostgreSQL.

    python -m benchmarks.million_contacts [--quick] [--contacts=N] [--sqlite-only]
        [--postgres-only] [--fresh] [--rebuild] [--sqlite-path=FILE]

A month of contacts (benchmarks/million_contacts/history.py) is written by the fast loader
(load.py: straight into `contact_events`, never through the channels) and kept between runs
(cache.py: a SQLite file and a PostgreSQL database named after the history's version; `--fresh`
loads again; --quick and --contacts other than 1 M load into a scratch database). Then, on each
database:

- the daily rollups are refreshed as the scheduler's `metric_rollups` job refreshes them
  (`--rebuild` drops them first, so the refresh is timed from scratch), then once more with
  nothing new (the job's steady state);
- through the real app (`create_app`, a manager's API token and signed-in session, Flask's
  test client), each request of REQUESTS (the dashboard page, the JSON API and the CSV export,
  for the month and for the quarter) is sent repeatedly and its p50/p95 taken; the baseline is
  `/healthz` of the same app in the same run, and each p95 is also given as a ratio to it.

A request slower than its budget is not repeated past it (the samples are reported), and past
TOTAL_BUDGET_S per database the remaining requests are skipped (and reported as skipped).
Target (issue 17): dashboard/API p95 <= 250 ms (the simulator's is benchmarks.simulator's).
Results: benchmarks/results/million_contacts.json (--quick: million_contacts.quick.json).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from analytics import occupancy_rollup, rollup_kept, rollup_tables, rollups
from analytics.reader import reader_engine
from benchmarks import results
from benchmarks.million_contacts import cache
from benchmarks.million_contacts.history import History
from benchmarks.million_contacts.incremental import incremental
from benchmarks.million_contacts.load import load

RESULTS = Path(__file__).resolve().parents[1] / "results" / "million_contacts.json"
TZ = "Europe/Copenhagen"
TARGET_P95_MS = 250
TOTAL_BUDGET_S = 150.0  # per database: later requests are skipped past it
MONTH = "from=2026-03-01&to=2026-03-31"
QUARTER = "from=2026-01-01&to=2026-03-31"
BASELINE = ("baseline: /healthz", "/healthz")
# "nothing cached": what is kept between requests until the rollup job moves the mark (the
# channel migration's matrix, rollup_kept.migration; the periods' rows read and joined,
# rollup_kept.period) is forgotten before each.
UNCACHED = "dashboard, month, nothing cached"
API_UNCACHED = "API, month, nothing cached"
REQUESTS = (
    (UNCACHED, f"/dashboard?{MONTH}"),
    ("dashboard, month", f"/dashboard?{MONTH}"),
    ("dashboard, quarter", f"/dashboard?{QUARTER}"),
    (API_UNCACHED, f"/api/v1/metrics/channel-shift?{MONTH}"),
    ("API, month", f"/api/v1/metrics/channel-shift?{MONTH}"),
    ("API, quarter", f"/api/v1/metrics/channel-shift?{QUARTER}"),
    ("API, month by need", f"/api/v1/metrics/channel-shift?{MONTH}&group_by=need"),
    ("API, month, exempt only, by age band",
     f"/api/v1/metrics/channel-shift?{MONTH}&group_by=age_band&exempt=exempt"),
    ("CSV, month", f"/api/v1/metrics/export.csv?{MONTH}"),
    ("CSV, quarter", f"/api/v1/metrics/export.csv?{QUARTER}"),
)  # fmt: skip


FIXTURE = (
    "The history (history.py) is written by the fast loader (load.py) straight into "
    "contact_events, never through the channels; the rollups are then built by the scheduler's "
    "own job (analytics.rollups.refresh). One copy per database, size and version of the "
    "history is kept (cache.py) and shared with benchmarks.simulator. A million contacts "
    "cannot be built in a few minutes on a shared 2-core machine (the load takes 4-6 min per "
    "database, the rollups' first build longer: see each database's load and "
    "rollups.refresh): `make bench` runs --quick (5,000 contacts, a scratch database; "
    "--contacts=N for another size), and the figures at a million are those of the last full "
    "run (million_contacts.json), which reuses the cached copies."
)


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


def refresh_times(url: str, rebuild: bool) -> dict:
    """Refresh the daily rollups as the scheduler's job does (from scratch with `rebuild`),
    then once more with nothing new; return what each did and how long it took."""
    writer = create_engine(url)
    reader = reader_engine(writer)
    try:
        if rebuild:
            rollup_tables.clear(writer)
        out = {}
        for label in ("refresh", "refresh_again"):
            started, cpu = time.perf_counter(), time.process_time()
            done = rollups.refresh(reader, writer, TZ)
            out[label] = {
                **done,
                "seconds": round(time.perf_counter() - started, 2),
                # This process's CPU: on SQLite the queries too, on PostgreSQL not the server's.
                "cpu_s": round(time.process_time() - cpu, 2),
            }
            print(f"  {label}: {out[label]}", flush=True)
        # The job refreshes the occupancy's rollup too (one row a day).
        started, cpu = time.perf_counter(), time.process_time()
        done = occupancy_rollup.refresh(reader, writer, TZ)
        out["occupancy"] = {
            **done,
            "seconds": round(time.perf_counter() - started, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
        }
        print(f"  occupancy: {out['occupancy']}", flush=True)
        return out
    finally:
        if reader is not writer:
            reader.dispose()
        writer.dispose()


def _timed(
    client, path: str, headers: dict, samples: int, budget_s: float, forget=None
) -> list[float]:  # noqa: ANN001, E501
    """Return the wall-clock seconds of each request, and (as `_timed.cpu`) this process's
    CPU seconds of each: on a shared machine the wall clock also counts the others' turns.
    `forget` is called before each request (untimed)."""
    times: list[float] = []
    _timed.cpu = []
    while len(times) < samples and sum(times) < budget_s:
        if forget is not None:
            forget()
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(path, headers=headers)
        response.get_data()
        times.append(time.perf_counter() - started)
        _timed.cpu.append(time.process_time() - cpu)
        assert response.status_code == 200, (path, response.status_code)
    return times


def _summary(path: str, times: list[float], baseline_p95: float | None = None) -> dict:
    p95 = _percentile(times, 0.95)
    out = {
        "path": path,
        "samples": len(times),
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        # This process's CPU (on SQLite the queries' too; on PostgreSQL not the server's).
        "cpu_p50_ms": round(statistics.median(_timed.cpu) * 1000, 1),
        "cpu_p95_ms": round(_percentile(_timed.cpu, 0.95) * 1000, 1),
    }
    if baseline_p95:
        out["p95_ratio_to_baseline"] = round(p95 / baseline_p95, 1)
    return out


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
            name, path = BASELINE
            base = _timed(client, path, headers, max(samples, 50), budget_s)
            out: dict = {name: _summary(path, base)}
            base_p95 = _percentile(base, 0.95)
            everything: list[float] = []
            spent = 0.0
            for name, path in REQUESTS:
                if spent > TOTAL_BUDGET_S:  # a slow API: the rest is not measured
                    out[name] = {"path": path, "samples": 0, "skipped": "over the time budget"}
                    print(f"  {name}: skipped (over the time budget)", flush=True)
                    continue
                client.get(path, headers=headers)  # the first request warms the caches
                forget = rollup_kept.forget if name in (UNCACHED, API_UNCACHED) else None
                times = _timed(client, path, headers, samples, budget_s, forget)
                everything += times
                spent += sum(times)
                out[name] = _summary(path, times, base_p95)
                print(f"  {name}: {out[name]}", flush=True)
            measured = [v for k, v in out.items() if "p95_ms" in v and k != BASELINE[0]]
            worst = max((v["p95_ms"] for v in measured), default=None)
            out["all"] = {
                "samples": len(everything),
                "p95_ms": round(_percentile(everything, 0.95) * 1000, 1) if everything else None,
                "worst_p95_ms": worst,
                "worst_p95_ratio_to_baseline": round(worst / (base_p95 * 1000), 1)
                if worst
                else None,
                "meets_target": worst is not None
                and worst <= TARGET_P95_MS
                and not any(v.get("skipped") for v in out.values()),
                "skipped": sorted(k for k, v in out.items() if v.get("skipped")),
            }
            return out
        finally:
            kanal_of(app).close()


def measure(database: str, url: str, loaded: dict, options: dict) -> dict:
    """Refresh the rollups, then time the requests (and the simulator when asked)."""
    contacts = options["contacts"]
    print(f"{database}: {contacts:,} contacts {loaded}", flush=True)
    out: dict = {"contacts": contacts, "load": loaded}
    out["rollups"] = refresh_times(url, options["rebuild"])
    # The job's steady state: the last contacts' events arrive (again), and only the contacts
    # they can change are recomputed. Not at a small size (--quick): the 5,000 events the job
    # re-reads before its mark would be a tenth of the log, and `make bench` has little time.
    if contacts >= 100_000:
        out["rollups"]["incremental"] = incremental(url, min(1_000, contacts // 1_000))
        print(f"  incremental: {out['rollups']['incremental']}", flush=True)
    out["api"] = api_times(url, options["samples"], options["budget_s"])
    print(f"{database}: API {out['api']['all']}", flush=True)
    return out


def sqlite_run(options: dict) -> dict:
    contacts, reuse = options["contacts"], options["sqlite_path"]
    if reuse:
        return measure("sqlite", f"sqlite:///{reuse}", {"reused": reuse}, options)
    if options["cached"]:
        url, loaded = cache.sqlite(contacts, options["fresh"])
        return measure("sqlite", url, loaded, options)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/million.db"
        return measure("sqlite", url, load(url, History(contacts).rows()), options)


def postgres_run(admin: str, options: dict) -> dict:
    contacts = options["contacts"]
    if options["cached"]:
        url, loaded = cache.postgres(admin, contacts, options["fresh"])
        return measure("postgresql", url, loaded, options)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    name = f"bench_million_{os.getpid()}"
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.rsplit("/", 1)[0] + "/" + name
        return measure("postgresql", url, load(url, History(contacts).rows()), options)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    contacts = 5_000 if quick else 1_000_000
    for a in argv:
        if a.startswith("--contacts="):
            contacts = int(a.split("=", 1)[1])
    samples, budget = (3, 2.0) if quick else (15, 15.0)
    options = {
        "contacts": contacts,
        "samples": samples,
        "budget_s": budget,
        "cached": not quick and contacts == 1_000_000,
        "fresh": "--fresh" in argv,
        "rebuild": "--rebuild" in argv,
        "sqlite_path": next((a.split("=", 1)[1] for a in argv if a.startswith("--sqlite-path=")),
                            None),
    }  # fmt: skip
    out: dict = {
        "about": {
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg()[0],
            "python": platform.python_version(),
            "contacts": contacts,
            "month": MONTH,
            "quarter": QUARTER,
            "timezone": TZ,
            "quick": quick,
            "options": [a for a in argv if a.startswith("--")],
            "cache": str(cache.folder()) if options["cached"] else None,
            "targets": {"p95_ms": TARGET_P95_MS},
            "fixture": FIXTURE,
            "at_a_million": contacts == 1_000_000,
        }
    }
    if "--postgres-only" not in argv:
        out["sqlite"] = sqlite_run(options)
        if not quick:  # written after each database, so a long run keeps what it measured
            _write(out)
    admin = _postgres_admin()
    if admin and "--sqlite-only" not in argv:
        out["postgresql"] = postgres_run(admin, options)
    _write(out, quick)
    return 0


def _write(out: dict, quick: bool = False) -> None:
    """Write the results, keeping a database's figures from an earlier run that skipped it."""
    path = results.path("million_contacts", quick)
    kept = json.loads(path.read_text()) if path.exists() else {}
    for database in ("sqlite", "postgresql"):
        if database not in out and database in kept:
            out[database] = kept[database]
    results.write("million_contacts", out, quick=quick)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
