"""The baseline: a bare Flask endpoint answering the same empty TwiML, no checks, no storage."""

from flask import Flask, Response

app = Flask(__name__)
EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@app.post("/twilio/sms")
def receive_sms():
    return Response(EMPTY, mimetype="text/xml")


@app.get("/healthz")
def healthz():
    return "ok"


def floor_app() -> Flask:
    """The floor: bare Flask plus what no acknowledgement can skip, one committed INSERT of the
    MessageSid into an SQLite file (WAL, synchronous=NORMAL, autocommit), idempotent.

    gunicorn 'benchmarks.sms_webhook.baseline:floor_app()' with KANAL_BENCH_FLOOR_DB set.
    """
    import os
    import sqlite3
    import threading

    from flask import request

    path = os.environ["KANAL_BENCH_FLOOR_DB"]
    local = threading.local()

    def connection() -> sqlite3.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS inbox "
                "(id INTEGER PRIMARY KEY, sid TEXT UNIQUE, body TEXT)"
            )
            local.conn = conn
        return conn

    floor = Flask(__name__)

    @floor.post("/twilio/sms")
    def receive_sms():
        form = request.form
        connection().execute(
            "INSERT INTO inbox (sid, body) VALUES (?, ?) ON CONFLICT (sid) DO NOTHING",
            (form.get("MessageSid"), form.get("Body")),
        )
        return Response(EMPTY, mimetype="text/xml")

    @floor.get("/healthz")
    def healthz():
        return "ok"

    return floor
