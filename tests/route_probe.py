"""Walk every route of the app as every kind of caller, with hostile requests, and report
each server error and each answer that shows one queue's or team's conversation to someone
outside it, or a citizen's name or phone number to analytics.

The callers: a citizen without login (and with another chat session's token), an agent of
the general queue and one of housing, a supervisor of another team, a manager, an admin,
an integration, each signed in and each by API token. The requests: every route's methods
and the wrong ones, no fields, empty, oversized, unicode and NUL fields, huge and negative
numbers, days out of range, wrong content types and broken JSON; the Twilio webhooks signed,
so the hostile fields reach their handlers.

    PYTHONPATH=$PWD .venv/bin/python -m tests.route_probe [DATABASE_URL]

`tests/integration/test_route_probe.py` runs it on both databases.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from channels.twilio_signature import form_signature
from tests.probe_callers import A, B, Caller, setup

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
# Field names the routes read (forms, queries, JSON bodies).
FIELDS = (
    "text", "queue", "note", "wrap_up", "outcome", "state", "status", "priority", "agent",
    "agent_id", "language", "lang", "after", "limit", "from", "to", "group_by", "profile",
    "compare_from", "compare_to", "channel", "need", "citizen", "contact_id", "client_id",
    "identity", "score", "username", "password", "next", "taking", "callback", "action",
    "Body", "From", "To", "MessageSid", "SmsSid", "MessageStatus", "SmsStatus", "ErrorCode",
    "CallSid", "CallStatus", "CallDuration", "Digits", "SpeechResult", "Confidence",
    "QueueResult", "QueueTime", "AccountSid", "m", "c", "k", "t", "n", "s", "l",
)  # fmt: skip
VALUES = {
    "empty": "",
    "long": "x" * 1_000,  # every field long, the body still under the 64 KB limit
    "unicode": "Ærø 🙂 \u202eevil\u202c مرحبا \ufeff",
    "nul": "a\x00b",
    "huge": "9" * 40,
    "negative": "-1",
    "day_too_early": "0001-01-01",
    "day_too_late": "9999-12-31",
    "no_such_day": "2026-02-30",
}
QUICK = ("long", "nul", "huge")
QUICK_CALLERS = (
    "citizen with B's chat token", "agent_B (session)", "agent_B (token)",
    "supervisor_other (session)", "manager (token)",
)  # fmt: skip
JSON_VALUES = {"huge_int": 10**40, "negative_int": -1, "float": 1e308, "nested": [[[{}]]]}
BROKEN_BODIES = (
    ("application/json", "{"),
    ("application/json", "[1, 2"),
    ("application/json", '"just a string"'),
    ("text/plain", '{"text": "hello"}'),
    ("application/xml", "<a>1</a>"),
    ("multipart/form-data; boundary=x", "--x\r\nbroken"),
)


@dataclass
class Findings:
    server_errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)

    def report(self) -> str:
        lines = [f"{self.requests} requests; statuses {dict(sorted(self.statuses.items()))}"]
        lines += [f"5xx   {e}" for e in self.server_errors] or ["no server errors"]
        lines += [f"LEAK  {e}" for e in self.leaks] or ["no leaks"]
        return "\n".join(lines)


def _url(rule, values: dict) -> str | None:
    args = {}
    for name in rule.arguments:
        args[name] = values.get(name, "x")
    try:
        return rule.build(args, append_unknown=False)[1]
    except Exception:  # a converter refused the value (e.g. a step name)
        defaults = {n: "start" for n in rule.arguments}
        try:
            return rule.build({**defaults, **{k: v for k, v in args.items() if k in values}})[1]
        except Exception:
            return None


def _requests(rule, quick: bool = False):
    """(method, query, body kwargs, label) for one route."""
    values = {k: VALUES[k] for k in QUICK} if quick else VALUES
    broken = BROKEN_BODIES[:2] if quick else BROKEN_BODIES
    allowed = sorted(rule.methods - {"HEAD", "OPTIONS"})
    for method in METHODS[:3] if quick else METHODS:
        if method not in allowed:
            yield method, "", {}, "wrong method"
    for method in allowed:
        yield method, "", {}, "no fields"
        for label, value in values.items():
            fields = dict.fromkeys(FIELDS, value)
            if method == "GET":
                yield method, urlencode(fields), {}, f"query {label}"
            else:
                yield method, "", {"data": fields}, f"form {label}"
                yield method, "", {"json": fields}, f"json {label}"
        if method == "GET":
            yield method, "limit=-5&after=-1&page_size=-1&per_page=0", {}, "negative page"
            continue
        yield method, "", {"data": {"text": "x" * 70_000}}, "body over 64 KB"
        for label, value in list(JSON_VALUES.items())[: 2 if quick else None]:
            yield method, "", {"json": dict.fromkeys(FIELDS, value)}, f"json {label}"
        for mimetype, body in broken:
            yield method, "", {"data": body, "content_type": mimetype}, f"body {mimetype}"


def _signed(app, path: str, query: str, body: dict) -> dict:
    """Twilio's signature on a form request (the webhooks then read the fields)."""
    data = body.get("data")
    if not isinstance(data, dict):
        return {}
    base = str(app.config["KANAL_PUBLIC_URL"]).rstrip("/")
    url = base + quote(path, safe="/:@!$&'()*+,;=-._~") + (f"?{query}" if query else "")
    token = str(app.config["TWILIO_AUTH_TOKEN"])
    return {"X-Twilio-Signature": form_signature(token, url, data.items())}


def _leak(caller: Caller, text: str) -> str | None:
    return next((w for w in caller.forbidden if w and w in text), None)


class _Heard(logging.Handler):
    """Every log line written while the probe runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {record.getMessage()} {record.__dict__}")


def _analytics_and_logs(kanal, heard: _Heard, found: Findings) -> None:
    """The event log and the rollups (analytics' tables) and the logs: pseudonyms only."""
    from sqlalchemy import select

    from router.adapters.orm import metadata

    read = [t for n, t in metadata.tables.items() if n.startswith(("contact_events", "metric_"))]
    names = A.traces()[:2] + B.traces()[:2]
    with kanal.analytics_engine.connect() as conn:
        for table in read:
            for row in conn.execute(select(table)):
                word = next((w for w in names if w in str(tuple(row))), None)
                if word:
                    found.leaks.append(f"table {table.name} holds {word!r}: {tuple(row)}"[:300])
    for line in heard.lines:
        word = next((w for w in names if w in line), None)
        if word:
            found.leaks.append(f"log line holds {word!r}: {line}"[:300])


def probe(app, kanal, secret: str, only: set[str] | None = None, quick: bool = False) -> Findings:
    """Walk the url_map as every caller; `only` limits the callers (by name), `quick` the
    hostile values (a few of each kind)."""
    heard = _Heard()
    logging.getLogger().addHandler(heard)
    try:
        found = _walk(app, kanal, secret, only, quick)
    finally:
        logging.getLogger().removeHandler(heard)
    _analytics_and_logs(kanal, heard, found)
    return found


def _walk(app, kanal, secret: str, only: set[str] | None, quick: bool) -> Findings:
    callers, values = setup(app, kanal, secret)
    only = set(QUICK_CALLERS) if quick and only is None else only
    found = Findings()
    twilio = ("/twilio/",)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.endswith("static"):
            continue
        # The local Twilio sandbox shows every message sent, on purpose; refused in
        # production (its own tests). Its answers are still checked for server errors.
        sandbox = rule.endpoint.startswith("sandbox.")
        paths = {_url(rule, values)}
        if "contact_id" in rule.arguments or "id" in rule.arguments:
            paths.add(_url(rule, {**values, "contact_id": 2**63, "id": 2**63}))
        for path in filter(None, paths):
            for method, query, body, label in _requests(rule, quick):
                for caller in callers:
                    if only and caller.name not in only:
                        continue
                    headers = dict(caller.headers)
                    if path.startswith(twilio):
                        headers.update(_signed(app, path, query, body))
                    url = path + (f"?{query}" if query else "")
                    try:
                        answer = caller.client.open(url, method=method, headers=headers, **body)
                    except Exception as exc:  # the app raised through the test client
                        found.server_errors.append(f"{method} {path} {label} as {caller.name}: "
                                                   f"raised {exc!r}"[:300])  # fmt: skip
                        continue
                    found.requests += 1
                    found.statuses[answer.status_code] += 1
                    where = f"{method} {rule.rule} [{label}] as {caller.name}"
                    if answer.status_code >= 500:
                        found.server_errors.append(f"{where}: {answer.status_code}")
                    elif answer.status_code < 300 and answer.mimetype != "text/event-stream":
                        word = _leak(caller, answer.get_data(as_text=True))
                        if word and not sandbox:
                            found.leaks.append(f"{where}: shows {word!r}")
    return found


def main(argv: list[str]) -> int:
    from sqlalchemy import create_engine

    from router import create_app
    from router.adapters.db import create_all
    from router.entrypoints.bootstrap import kanal_of
    from tests.fakes import ScriptedBot

    secret = "probe-secret"
    folder = tempfile.mkdtemp(prefix="kanal-probe-")
    url = argv[0] if argv else f"sqlite:///{folder}/kanal.db"
    engine = create_engine(url)
    create_all(engine)  # an empty database of its own: give PostgreSQL a scratch one
    engine.dispose()
    config = {
        "TESTING": True, "SECRET_KEY": secret, "KANAL_ALWAYS_OPEN": True,
        "KANAL_DATABASE_URL": url,
        "KANAL_INSTANCE_PATH": folder, "KANAL_LANGUAGES": "en,da", "WTF_CSRF_ENABLED": False,
        "KANAL_PUBLIC_URL": "http://127.0.0.1:9",
    }  # fmt: skip
    app = create_app(config, bot=ScriptedBot())
    try:
        found = probe(app, kanal_of(app), secret)
    finally:
        kanal_of(app).close()
    print(found.report())
    return 1 if found.server_errors or found.leaks else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
