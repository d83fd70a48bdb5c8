"""A surge: 10x the normal inbound rate across chat, SMS and voice against a small desk.

    python -m benchmarks.surge [--quick]

Two runs in one command, each against a fresh kanal (SQLite, gunicorn, the turn worker and
the scheduler as their own processes, the Twilio sandbox in its own process, the scripted
bot): the baseline at the normal rate (1x), then 10x the same rate. Contacts come in through
kanal's real entry points (signed SMS webhooks, the chat API, the voice webhooks); a small
desk of agents answers through the desk's API, calling back the citizens of the callbacks it
takes, and works on after the load until surge mode has ended by itself and every callback is
made (at most `--drain` s). The profile is Denmark's with its surge
thresholds scaled down to the benchmark's minutes (enter at a 10 s wait, leave at 4 s after
10 s at least).

Reported, per run, in benchmarks/results/surge.json with the machine's facts: contacts
refused (an entry point answering an error, or not at all) and dropped (an inbound message
never processed, a queued contact abandoned), target 0 both; the share of contacts served by
each route (bot, digital route, agent, callback booked, still waiting at the end); callbacks
booked and completed (answered by the citizen, or settled because an agent served them
first); when surge mode started and ended after the load began; the peak wait; and the
surge's callbacks (reason surge) made, failed or still pending (target 0 pending).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from benchmarks import results
from benchmarks.sms_webhook import servers
from benchmarks.surge.traffic import Citizen, Desk, Traffic, run_load

RESULTS = Path(__file__).resolve().parent.parent / "results" / "surge.json"
SCRIPTED = "benchmarks.sms_webhook.scripted:create_app()"
SECRET = "benchmark-surge-secret-key-0123456789"
SURGE = "[surge]\nenter_wait_seconds = 10\nexit_wait_seconds = 4\nmin_seconds = 10\n"


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.surge", description=__doc__)
    p.add_argument("--quick", action="store_true", help="shorter runs (20 s of load each)")
    p.add_argument("--rate", type=float, default=0.5, help="normal contacts per second (1x)")
    p.add_argument("--surge", type=float, default=10.0, help="the surge's multiple of --rate")
    p.add_argument("--seconds", type=float, help="seconds of load per run (30; quick 20)")
    p.add_argument(
        "--drain",
        type=float,
        help="at most this many seconds after the load, "
        "until surge mode has ended and every callback is made (150; quick 120)",
    )
    p.add_argument("--agents", type=int, default=2)
    p.add_argument("--handle", type=float, default=2.0, help="seconds an agent holds a contact")
    p.add_argument("--person-share", type=float, default=0.3)
    p.add_argument("--output", type=Path, help="default: benchmarks/results/surge.json")
    args, _ = p.parse_known_args(argv)
    args.seconds = args.seconds or (20.0 if args.quick else 30.0)
    args.drain = args.drain or (120.0 if args.quick else 150.0)
    return args


def profile_file(work: Path) -> Path:
    """Denmark's profile with surge thresholds fit for a two-minute benchmark."""
    from router.policy.profile import PROFILES_DIR

    denmark = (PROFILES_DIR / "denmark.toml").read_text(encoding="utf-8")
    scaled = re.sub(r"\[surge\]\n(?:[a-z_]+ = \d+\n)+", SURGE, denmark, count=1)
    assert scaled != denmark, "Denmark's [surge] section was not found"
    path = work / "denmark-surge-bench.toml"
    path.write_text(scaled, encoding="utf-8")
    return path


def prepare(env: dict, citizens: int, agents: int) -> tuple[list[Citizen], list[tuple[str, int]]]:
    """Register the citizens (a tenth exempt) and the agents (API tokens and ids)."""
    from datetime import date

    import router
    from router.config import from_env
    from router.domain.citizens import pseudonym_for
    from router.domain.model import Citizen as Registered
    from router.domain.model import Exemption
    from router.entrypoints.auth import create_token, create_user
    from router.entrypoints.bootstrap import kanal_of

    app = router.create_app(from_env(env))
    kanal = kanal_of(app)
    people: list[Citizen] = []
    try:
        with kanal.uow() as uow:
            for i in range(citizens):
                phone = f"+4540{i:06d}"
                pseudonym = pseudonym_for(SECRET, phone)
                c = uow.citizens.add(
                    Registered(pseudonym=pseudonym, phone=phone, name=f"Citizen {i}",
                               language="en", birth_year=1960, created_at=datetime.now(UTC))
                )  # fmt: skip
                exempt = i % 10 == 0
                if exempt:
                    uow.citizens.add_exemption(
                        Exemption(citizen_id=c.id, ground="no_computer",
                                  valid_from=date(2020, 1, 1), valid_until=None,
                                  registered_by="benchmark")
                    )  # fmt: skip
                people.append(Citizen(phone, pseudonym, exempt))
            uow.commit()
        tokens = []
        for a in range(agents):
            user = create_user(kanal.uow, f"agent{a}", "benchmark password", "agent")
            with kanal.uow() as uow:
                uow.users.get(user.id).available_for_calls = True
                uow.commit()
            tokens.append((create_token(kanal.uow, f"bench{a}", f"agent{a}"), user.id))
    finally:
        kanal.close()
    return people, tokens


ROUTES = """
SELECT c.id,
  max(CASE WHEN e.type = 'callback_booked' THEN 1 ELSE 0 END),
  max(CASE WHEN e.type = 'agent_assigned' THEN 1 ELSE 0 END),
  max(CASE WHEN e.type IN ('digital_offered', 'deflection_offered') THEN 1 ELSE 0 END),
  max(CASE WHEN e.type = 'queued' THEN 1 ELSE 0 END)
FROM contacts c LEFT JOIN contact_events e ON e.contact_id = c.id
GROUP BY c.id
"""


def account(database_url: str) -> dict:
    """Read what happened from kanal's database once the load and the drain are over."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as db:
            one = lambda q: int(db.execute(text(q)).scalar() or 0)  # noqa: E731
            routes = {"callback": 0, "agent": 0, "digital": 0, "waiting": 0, "bot": 0}
            for _cid, callback, agent, digital, queued in db.execute(text(ROUTES)):
                if callback:
                    routes["callback"] += 1
                elif agent:
                    routes["agent"] += 1
                elif queued:
                    routes["waiting"] += 1
                elif digital:
                    routes["digital"] += 1
                else:
                    routes["bot"] += 1
            contacts = sum(routes.values())
            surges = [
                {"type": t, "at": str(at), "data": d}
                for t, at, d in db.execute(
                    text(
                        "SELECT type, at, data FROM contact_events WHERE type IN "
                        "('surge_started', 'surge_ended') ORDER BY at"
                    )
                )
            ]
            return {
                "contacts": contacts,
                "by_channel": dict(
                    db.execute(text("SELECT channel, count(*) FROM contacts GROUP BY channel"))
                    .tuples()
                    .all()
                ),
                "routes": routes,
                "route_shares": {
                    k: round(v / contacts, 3) if contacts else None for k, v in routes.items()
                },  # fmt: skip
                "dropped": {
                    "inbound_not_processed": one(
                        "SELECT count(*) FROM messages WHERE direction = 'in' AND NOT processed"
                    ),
                    "queue_abandoned": one(
                        "SELECT count(*) FROM queue_items WHERE state = 'abandoned'"
                    ),
                },
                "callbacks": {
                    "booked": one("SELECT count(*) FROM callbacks"),
                    # Answered by the citizen, or settled because an agent served them first.
                    "completed": one(
                        "SELECT count(*) FROM callbacks WHERE state IN ('answered', 'closed')"
                    ),
                    "answered": one(
                        "SELECT count(DISTINCT contact_id) FROM contact_events "
                        "WHERE type = 'callback_answered'"
                    ),
                    "by_state": dict(
                        db.execute(text("SELECT state, count(*) FROM callbacks GROUP BY state"))
                        .tuples()
                        .all()
                    ),
                },
                "surge": surges,
                "surge_callbacks": surge_callbacks(db),
                "surge_mode": surge_mode(db),
            }
    finally:
        engine.dispose()


def surge_callbacks(db) -> dict:  # noqa: ANN001 - a Connection
    """The callbacks booked for the surge (reason surge) and what became of them: made (the
    citizen answered), failed (attempts used up), settled (closed unanswered: the contact was
    resolved first), and still pending (booked or ringing): booked and forgotten."""
    by_state = dict(
        db.execute(
            text("SELECT state, count(*) FROM callbacks WHERE reason = 'surge' GROUP BY state")
        )
        .tuples()
        .all()
    )
    booked = sum(by_state.values())
    return {
        "booked": booked,
        "made": by_state.get("answered", 0),
        "failed": by_state.get("failed", 0),
        "settled": by_state.get("closed", 0),
        "pending": by_state.get("booked", 0) + by_state.get("calling", 0),
        "by_state": by_state,
    }


def surge_mode(db) -> dict:  # noqa: ANN001 - a Connection
    """The managers' dashboard's surge figures for the run's day (analytics/surge_log.py)."""
    from analytics import surge_log

    now = datetime.now(UTC)
    return surge_log.section(db, [now.date()], "UTC", now)


class Watch:
    """Samples kanal's database every second while a run lasts: the longest wait in the
    queue (its peak, and when), and whether the run is over: surge mode ended (or never
    started), nobody waiting, no callback still to be made."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url)
        self.peak_wait_seconds = 0
        self.peak_at: datetime | None = None

    def close(self) -> None:
        self.engine.dispose()

    def assigned(self, agent_id: int) -> list[int]:
        """The conversations assigned to an agent (what their desk lists)."""
        with self.engine.connect() as db:
            return list(
                db.execute(
                    text("SELECT id FROM contacts WHERE agent_id = :a AND state = 'assigned'"),
                    {"a": agent_id},
                ).scalars()
            )

    def sample(self) -> bool:
        """Take one sample; return True when the run is over."""
        now = datetime.now(UTC)
        with self.engine.connect() as db:
            one = lambda q: db.execute(text(q)).one()  # noqa: E731
            waiting, oldest = one(
                "SELECT count(*), min(enqueued_at) FROM queue_items WHERE state = 'waiting'"
            )
            (pending,) = one("SELECT count(*) FROM callbacks WHERE state IN ('booked', 'calling')")
            last = db.execute(
                text(
                    "SELECT type FROM contact_events WHERE type IN ('surge_started', "
                    "'surge_ended') ORDER BY at DESC, id DESC LIMIT 1"
                )
            ).scalar()
        if oldest is not None:
            since = datetime.fromisoformat(str(oldest))
            since = since if since.tzinfo else since.replace(tzinfo=UTC)
            longest = int((now - since).total_seconds())
            if longest > self.peak_wait_seconds:
                self.peak_wait_seconds, self.peak_at = longest, now
        return waiting == 0 and pending == 0 and last != "surge_started"


def one_run(name: str, rate: float, work: Path, base: dict, args, citizens: int) -> dict:
    """Serve a fresh kanal, drive `rate` contacts a second, let the desk drain until surge
    mode has ended and every callback is made (at most `--drain` s), account."""
    db = work / f"{name}.db"
    env = {
        **base,
        "KANAL_DATABASE_URL": f"sqlite:///{db}",
        "KANAL_SECRET_KEY": SECRET,
        "KANAL_POLICY": str(profile_file(work)),
        "KANAL_TURN_WORKER": "process",
        # A booked callback looks for a free agent every 2 s (20 s by default).
        "KANAL_CALLBACK_RECHECK_SECONDS": "2",
    }
    kanal_cli = str(Path(sys.executable).parent / "kanal")
    import subprocess

    subprocess.run([kanal_cli, "db", "upgrade"], env=env, check=True, capture_output=True,
                   cwd=servers.ROOT)  # fmt: skip
    people, tokens = prepare(env, citizens, args.agents)
    port = servers.free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**env, "KANAL_PORT": str(port), "KANAL_PUBLIC_URL": url}
    with ExitStack() as stack:
        stack.enter_context(servers.gunicorn(SCRIPTED, env, work / f"{name}.log", port=port))
        for what, cmd in (
            ("worker", [sys.executable, "-m", "benchmarks.sms_webhook.scripted"]),
            ("scheduler", [kanal_cli, "scheduler"]),
        ):
            process = servers.spawn(cmd, env, work / f"{name}-{what}.log")
            stack.callback(servers.stop, process)
        traffic = Traffic(url, servers.TOKEN, SECRET, people)
        watch = Watch(f"sqlite:///{db}")
        sampling = threading.Event()

        def sampler() -> None:
            while not sampling.wait(1.0):
                watch.sample()

        with Desk(url, tokens, args.handle, watch.assigned) as desk:
            load_at = datetime.now(UTC)
            started = time.monotonic()
            threading.Thread(target=sampler, daemon=True).start()
            took = run_load(traffic, rate, args.seconds, args.person_share)
            time.sleep(max(0.0, args.seconds - (time.monotonic() - started)))
            drained = time.monotonic()
            over = False
            while not over and time.monotonic() - drained < args.drain:
                time.sleep(1.0)
                over = watch.sample()
            drain_took = time.monotonic() - drained
            sampling.set()
        result = account(f"sqlite:///{db}")
        watch.close()
    result.update(
        {
            "rate_per_s": rate,
            "load_seconds": args.seconds,
            "load_started_in_s": round(took, 1),
            "drain_cap_seconds": args.drain,
            "drain_seconds": round(drain_took, 1),
            "drained": over,
            "peak_wait_seconds": watch.peak_wait_seconds,
            "peak_wait_after_load_start_s": (
                round((watch.peak_at - load_at).total_seconds(), 1) if watch.peak_at else None
            ),
            "surge_timeline": [
                {
                    "type": e["type"],
                    "after_load_start_s": round((_utc(e["at"]) - load_at).total_seconds(), 1),
                }
                for e in result["surge"]
            ],  # fmt: skip
            "refused": traffic.tally.counts["refused"],
            "refused_examples": traffic.tally.refused,
            "started_by_channel": {
                k: v for k, v in traffic.tally.counts.items() if k.startswith("contacts_")
            },  # fmt: skip
            "desk": {
                "agents": args.agents,
                "handle_s": args.handle,
                "answered": dict(desk.answered),
                "called_back": desk.called_back,
                "put_through_by_the_scheduler": desk.swept,
                "api_errors": desk.errors,
            },  # fmt: skip
        }
    )
    result["dropped_total"] = sum(result["dropped"].values())
    return result


def _utc(at: str) -> datetime:
    moment = datetime.fromisoformat(at)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: list[str]) -> int:
    args = parse(argv)
    work = Path(tempfile.mkdtemp(prefix="kanal-bench-surge-"))
    print(f"work dir (logs, databases): {work}", flush=True)
    citizens = 400
    result: dict = {
        "what": "a surge of 10x the normal inbound rate across chat, SMS and voice through "
        "kanal's real HTTP entry points against a small desk, and the same at 1x (baseline)",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "setup": {
            "database": "SQLite (WAL), a fresh file per run",
            "web": f"gunicorn {servers.WORKERS} workers x {servers.THREADS} threads",
            "turns": "KANAL_TURN_WORKER=process, scripted bot (benchmarks.sms_webhook.scripted)",
            "profile": "denmark, surge thresholds scaled: " + SURGE.replace("\n", " ").strip(),
            "citizens": citizens,
            "exempt_share": 0.1,
            "person_share": args.person_share,
            "quick": args.quick,
        },
        "target": {"refused": 0, "dropped": 0, "surge_callbacks_pending": 0},
    }
    base = servers.base_env(work)
    with servers.sandbox(work, 0.2) as sandbox_url:
        base["KANAL_TWILIO_SANDBOX_URL"] = sandbox_url
        for name, multiple in (("baseline_1x", 1.0), ("surge", args.surge)):
            rate = args.rate * multiple
            print(f"-- {name}: {rate:g} contacts/s for {args.seconds:g} s", flush=True)
            result[name] = one_run(name, rate, work, base, args, citizens)
            print(json.dumps(result[name], default=str), flush=True)
    result["machine"]["load_average_after"] = os.getloadavg()
    surge = result["surge"]
    result["surge_started"] = any(e["type"] == "surge_started" for e in surge["surge"])
    result["surge_ended"] = bool(surge["surge"]) and surge["surge"][-1]["type"] == "surge_ended"
    result["ok"] = (
        surge["refused"] == 0 and surge["dropped_total"] == 0
        and result["surge_ended"] and surge["surge_callbacks"]["pending"] == 0
    )  # fmt: skip
    written = results.write("surge", result, quick=args.quick, to=args.output)
    print(f"refused {surge['refused']}, dropped {surge['dropped_total']} (target 0); "
          f"routes {surge['route_shares']}; surge {surge['surge_timeline']}; peak wait "
          f"{surge['peak_wait_seconds']} s; surge callbacks {surge['surge_callbacks']}; "
          f"written to {written}")  # fmt: skip
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
