"""What the fault tests share: a Twilio that misbehaves on cue, kanal processes to kill, a
private PostgreSQL cluster to restart, and the lost/duplicated tally each test prints."""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from glob import glob
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KANAL = ROOT / ".venv" / "bin" / "kanal"
REPORT: list[str] = []  # one line per fault test, printed at the end of the session


def report(line: str) -> None:
    """Keep a fault test's tally for the session's summary (and print it with -s)."""
    REPORT.append(line)
    print(line)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], object], timeout: float, what: str, every: float = 0.05):
    """Poll `check` until it returns something truthy; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"waited {timeout} s for {what}")


@dataclass
class Tally:
    """What a fault test counts: each item's copies where it should be exactly once."""

    name: str
    copies: Counter = field(default_factory=Counter)
    expected: set = field(default_factory=set)
    held: set = field(default_factory=set)  # kept for a person to settle: not lost

    @property
    def lost(self) -> int:
        return sum(1 for key in self.expected if self.copies[key] == 0 and key not in self.held)

    @property
    def duplicated(self) -> int:
        return sum(n - 1 for n in self.copies.values() if n > 1)

    def check(self, extra: str = "") -> None:
        report(
            f"{self.name}: {len(self.expected)} expected, lost = {self.lost}, "
            f"duplicated = {self.duplicated}, held for review = {len(self.held)}"
            + (f"; {extra}" if extra else "")
        )
        assert (self.lost, self.duplicated) == (0, 0)


# -- Twilio that misbehaves ----------------------------------------------------------------


class LocalServer(ThreadingHTTPServer):
    """A stand-in peer on loopback, served from a thread of its own once `serving()`."""

    daemon_threads = True
    allow_reuse_address = True

    def serving(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(5)


class FakeTwilio(LocalServer):
    """Twilio's Messages and Calls API, answering each request as `behaviour` says.

    Behaviours: "ok" (201), "429" (nothing created), "500" (nothing created), "500-created"
    (created, then a 500: the worst case of an unknown outcome), "slow-created" (created,
    then an answer after the client gave up). `created` lists what Twilio would have sent.
    """

    def __init__(self, port: int = 0, *, after: FakeTwilio | None = None) -> None:
        super().__init__(("127.0.0.1", port), _TwilioHandler)
        self.behaviour = "ok"
        self.slow_seconds = 1.5
        self.delay = 0.0  # seconds before every answer (a Twilio under load)
        # Twilio back on the same address after an outage (`after`) remembers what it created.
        self.created: list[dict[str, str]] = after.created if after else []
        self.answers: Counter = after.answers if after else Counter()
        self.lock = threading.Lock()
        self.serving()

    def created_for(self, message_id: int) -> int:
        """How many times Twilio created the message kanal stored as `message_id`."""
        suffix = f"?m={message_id}"
        return sum(1 for c in self.created if c.get("StatusCallback", "").endswith(suffix))


class _JsonHandler(BaseHTTPRequestHandler):
    """A quiet handler that answers JSON, whether or not the client still listens."""

    def log_message(self, format, *args) -> None:  # noqa: A002
        pass

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (a slow answer)


class _TwilioHandler(_JsonHandler):
    server: FakeTwilio

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        kind = "CA" if self.path.endswith("/Calls.json") else "SM"
        server = self.server
        time.sleep(server.delay)
        with server.lock:
            behaviour = server.behaviour
            server.answers[behaviour] += 1
            if behaviour in ("ok", "500-created", "slow-created"):
                server.created.append({**form, "kind": kind})
        if behaviour == "429":
            self._answer(429, {"code": 20429, "message": "Too Many Requests", "status": 429})
            return
        if behaviour in ("500", "500-created"):
            self._answer(500, {"code": 20500, "message": "Internal Server Error", "status": 500})
            return
        if behaviour == "slow-created":
            time.sleep(server.slow_seconds)
        sid = kind + secrets.token_hex(16)
        self._answer(
            201,
            {
                "sid": sid,
                "status": "queued",
                "to": form.get("To"),
                "from": form.get("From"),
                "body": form.get("Body"),
                "num_segments": "1",
                "account_sid": "AC" + "0" * 32,
                "direction": "outbound-api",
            },
        )


# -- Rasa that misbehaves ------------------------------------------------------------------

BOT_ANSWER = {
    "messages": [{"text": "Pension is paid on the last banking day: https://example.org/dates"}],
    "intent": {"name": "payment_date", "confidence": 0.97},
    "intent_ranking": [{"name": "payment_date", "confidence": 0.97}],
    "entities": [],
}


class FakeRasa(LocalServer):
    """kanal's Rasa channel, behaving as `mode` says: "ok", "empty" (an answer with no message,
    as Rasa gives when an action crashes), "hang" (no answer until `release` is set), "error"
    (500); or "proxy" to a real Rasa at `upstream`. Stopped, nothing listens (refused) and the
    connections kept open to it are closed, as when the Rasa process ends."""

    def __init__(self, port: int = 0, *, upstream: str | None = None) -> None:
        super().__init__(("127.0.0.1", port), _RasaHandler)
        self.mode = "proxy" if upstream else "ok"
        self.upstream = upstream
        self.release = threading.Event()
        self.received: Counter = Counter()
        self.open_connections: set[socket.socket] = set()
        self.serving()

    def stop(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()
        for conn in list(self.open_connections):
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)


class _RasaHandler(_JsonHandler):
    server: FakeRasa
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        self.server.open_connections.discard(self.connection)
        super().finish()

    def _forward(self, method: str, body: bytes | None = None) -> None:
        import requests

        try:
            answer = requests.request(
                method, self.server.upstream + self.path, data=body, timeout=30,
                headers={"Content-Type": "application/json"},
            )  # fmt: skip
            self._answer(answer.status_code, answer.json())
        except (requests.RequestException, ValueError):
            self._answer(502, {"error": "upstream"})

    def do_GET(self) -> None:  # noqa: N802
        mode = self.server.mode
        if mode == "hang":
            self.server.release.wait(60)
        if mode == "proxy":
            self._forward("GET")
        elif mode == "error":
            self._answer(500, {"error": "boom"})
        else:
            self._answer(200, {"model_file": "models/kanal.tar.gz"})

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        mode = self.server.mode
        self.server.received[mode] += 1
        if mode == "hang":
            self.server.release.wait(60)
            self._answer(200, BOT_ANSWER)
        elif mode == "proxy":
            self._forward("POST", body)
        elif mode == "empty":
            self._answer(200, {**BOT_ANSWER, "messages": []})
        elif mode == "error":
            self._answer(500, {"error": "RasaException"})
        else:
            self._answer(200, BOT_ANSWER)


# -- processes -----------------------------------------------------------------------------


def kanal_env(**config: object) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KANAL_", "TWILIO_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update({k: str(v) for k, v in config.items()})
    return env


@contextmanager
def kanal_process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """Run `kanal ARGS` in its own process group; stop it (and its children) afterwards."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [str(KANAL), *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield proc
    finally:
        stop_group(proc)


def acknowledging_web(
    database_url: str, tmp_path: Path, *, workers: int, threads: int, secret: str
) -> tuple[str, dict[str, str]]:
    """`kanal web` that only acknowledges (turns are left to a turn worker that is not run),
    its database migrated: its base URL and environment, for `kanal_process(["web"], ...)`."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = kanal_env(
        KANAL_INSTANCE_PATH=tmp_path,
        KANAL_DATABASE_URL=database_url,
        KANAL_PORT=port,
        KANAL_PUBLIC_URL=base,
        KANAL_RASA_URL=f"http://127.0.0.1:{free_port()}",
        KANAL_TURN_WORKER="process",
        KANAL_WEB_WORKERS=workers,
        KANAL_WEB_THREADS=threads,
        KANAL_SECRET_KEY=secret,
        KANAL_LOG_LEVEL="warning",
    )
    upgraded = run_quietly([str(KANAL), "db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    return base, env


def stop_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def children_of(pid: int) -> list[int]:
    """The process ids whose parent is `pid` (gunicorn's workers)."""
    found = []
    for stat in glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.split("/")[2]))
    return found


# -- Twilio's side of inbound SMS ----------------------------------------------------------

TWILIO_TOKEN = "kanal-sandbox-auth-token"  # the development token (router/config.py)
AGENCY = "+4570000000"


def sms_form(n: int, sid: str) -> dict[str, str]:
    number = f"+4531{n:06d}"
    return {
        "MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": number,
        "To": AGENCY, "Body": f"When is my pension paid? ({n})", "NumMedia": "0",
    }  # fmt: skip


@dataclass
class Webhooks:
    """Signed inbound-SMS webhooks sent as Twilio sends them, and what each was answered."""

    base_url: str
    count: int
    statuses: dict[str, object] = field(default_factory=dict)  # sid -> status code or error
    sids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sids = [f"SM{secrets.token_hex(4)}{n:024d}" for n in range(self.count)]

    def post(self, session, n: int) -> object:
        from channels.twilio_signature import sign

        sid = self.sids[n]
        form = sms_form(n, sid)
        url = self.base_url + "/twilio/sms"
        headers = {
            "X-Twilio-Signature": sign(url, form, TWILIO_TOKEN),
            "I-Twilio-Idempotency-Token": f"idem-{sid}",  # the same on Twilio's retries
        }
        try:
            status: object = session.post(url, data=form, headers=headers, timeout=15).status_code
        except Exception as exc:  # noqa: BLE001 - a connection the test broke
            status = type(exc).__name__
        self.statuses[sid] = status
        return status

    def send_all(self, threads: int, indexes=None, on_progress=None) -> None:
        """Post the webhooks `indexes` (all by default) over `threads` connections."""
        import requests

        todo = list(range(self.count) if indexes is None else indexes)
        lock = threading.Lock()
        done = [0]

        def work(chunk: list[int]) -> None:
            with requests.Session() as session:
                for n in chunk:
                    self.post(session, n)
                    with lock:
                        done[0] += 1
                        if on_progress is not None:
                            on_progress(done[0])

        chunks = [todo[i::threads] for i in range(threads)]
        workers = [threading.Thread(target=work, args=(c,)) for c in chunks if c]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(300)

    def acknowledged(self) -> set[str]:
        return {sid for sid, s in self.statuses.items() if isinstance(s, int) and 200 <= s < 300}

    def replay_until_acknowledged(self, threads: int, rounds: int = 20) -> int:
        """Retry every webhook not answered 2xx, as Twilio would; return how many were retried."""
        retried = 0
        for _ in range(rounds):
            missing = [n for n, sid in enumerate(self.sids) if sid not in self.acknowledged()]
            if not missing:
                return retried
            retried += len(missing)
            self.send_all(min(threads, len(missing)), missing)
            time.sleep(0.5)
        pytest.fail(f"{len(missing)} webhooks never acknowledged after {rounds} rounds")
        return retried


def inbox_counts(database_url: str) -> Counter:
    """How many inbox entries each provider id has (SQLite's inbox is a file of its own)."""
    from sqlalchemy import create_engine, text

    url = database_url
    if url.startswith("sqlite:///") and url.endswith(".db"):
        url = url[: -len(".db")] + "-inbox.db"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT provider_id, count(*) FROM inbox GROUP BY 1"))
            return Counter({sid: n for sid, n in rows})
    finally:
        engine.dispose()


def web_up(base_url: str) -> bool:
    import requests

    try:
        return requests.get(base_url + "/healthz", timeout=2).ok
    except requests.RequestException:
        return False


def sockets_of(pid: int) -> int:
    """How many sockets a process holds open (a gunicorn worker: its clients' connections)."""
    try:
        links = [os.readlink(f) for f in glob(f"/proc/{pid}/fd/*")]
    except OSError:
        return 0
    return sum(1 for link in links if link.startswith("socket:"))


# -- a private PostgreSQL cluster ----------------------------------------------------------


def postgres_bin() -> Path | None:
    found = sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _as_server_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its programs as the `postgres` user."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@dataclass
class PrivateCluster:
    """A PostgreSQL cluster of this test's own, on its own port: restarting it harms no one."""

    bin: Path
    data: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/kanal"

    def ctl(self, *args: str) -> None:
        cmd = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", *args]
        subprocess.run(_as_server_user(cmd), check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.ctl("-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self.ctl("-m", mode, "stop")


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """initdb into a new directory, start it on a free port, create database `kanal`.

    Stopped and removed afterwards. The shared server on 5432 is never touched.
    """
    bin_dir = postgres_bin()
    root_without_user = os.geteuid() == 0 and not _has_user("postgres")
    if bin_dir is None or root_without_user:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL fault test: no usable /usr/lib/postgresql")
        pytest.skip("PostgreSQL's server programs are not usable here")
    home = Path(tempfile.mkdtemp(prefix="kanal-pg-"))
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
    data = home / "data"
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
    subprocess.run(
        _as_server_user([*initdb, "-E", "UTF8", "--no-sync"]),
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    cluster = PrivateCluster(bin_dir, data, free_port(), home / "postgres.log")
    try:
        cluster.start()
        createdb = [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(cluster.port)]
        subprocess.run(
            [*createdb, "-U", "postgres", "kanal"], check=True, capture_output=True, timeout=60
        )
        yield cluster
    finally:
        with suppress(subprocess.CalledProcessError):
            cluster.stop("immediate")
        shutil.rmtree(home, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def run_quietly(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


PYTHON = sys.executable
