"""Liveness and readiness."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify
from sqlalchemy import Engine, text

from router.service.gauges import read_gauges
from router.service.ports import BotPort
from router.web import bound


def blueprint(engine: Engine, bot: BotPort, uow: Callable) -> Blueprint:
    """Return liveness, readiness and the Prometheus gauges over the given parts."""
    bp = Blueprint("health", __name__)
    bp.add_url_rule("/healthz", "healthz", healthz)
    bp.add_url_rule("/readyz", "readyz", bound(readyz, engine, bot))
    bp.add_url_rule("/metrics", "metrics", bound(metrics, uow, bot))
    return bp


def healthz():
    """Answer while the process is alive."""
    return jsonify(status="ok")


def readyz(engine: Engine, bot: BotPort):
    """Report whether the database and the bot can serve; 503 when the database cannot."""
    checks: dict[str, object] = {}
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = {"state": "up"}
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure
        checks["database"] = {"state": "down", "error": type(exc).__name__}
    checks["bot"] = bot.status()
    db_up = checks["database"]["state"] == "up"
    # Without the bot kanal still serves: every contact goes to people, so it stays ready.
    body = {"status": "ready" if db_up else "unavailable", "checks": checks}
    if checks["bot"].get("state") != "up":
        body["degraded"] = "bot unavailable: contacts are routed to people"
    return jsonify(body), 200 if db_up else 503


def _line(name: str, value: float, **labels: str) -> str:
    if not labels:
        return f"{name} {value}"
    body = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{body}}} {value}"


def metrics(uow: Callable, bot: BotPort):
    """Expose operational gauges in Prometheus' text format (no personal data)."""
    g = read_gauges(uow, datetime.now(UTC))
    out = [
        "# HELP kanal_open_contacts Open contacts by channel and state.",
        "# TYPE kanal_open_contacts gauge",
    ]
    out += [
        _line("kanal_open_contacts", n, channel=c, state=s) for (c, s), n in g.open_contacts.items()
    ]
    out += [
        "# HELP kanal_queue_waiting Contacts waiting for a person, by skill.",
        "# TYPE kanal_queue_waiting gauge",
    ]
    out += [_line("kanal_queue_waiting", n, skill=k) for k, n in g.waiting.items()]
    out += [
        "# HELP kanal_queue_oldest_wait_seconds How long the oldest waiting contact has waited.",
        "# TYPE kanal_queue_oldest_wait_seconds gauge",
    ]
    out += [
        _line("kanal_queue_oldest_wait_seconds", round(v, 1), skill=k)
        for k, v in g.oldest_wait_seconds.items()
    ]
    out += [
        "# HELP kanal_outbound_messages Outbound messages by channel and delivery status.",
        "# TYPE kanal_outbound_messages gauge",
    ]
    out += [
        _line("kanal_outbound_messages", n, channel=c, status=s) for (c, s), n in g.outbound.items()
    ]
    bot_up = 1 if bot.status().get("state") == "up" else 0
    out += ["# HELP kanal_bot_up Whether the bot answers.", "# TYPE kanal_bot_up gauge"]
    out.append(_line("kanal_bot_up", bot_up))
    return Response("\n".join(out) + "\n", mimetype="text/plain; version=0.0.4")
