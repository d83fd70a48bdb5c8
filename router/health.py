"""Liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Answer while the process is alive."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Report whether the database and the bot can serve; 503 when the database cannot."""
    kanal = current_app.extensions["kanal"]
    checks: dict[str, object] = {}
    try:
        with kanal.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = {"state": "up"}
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure
        checks["database"] = {"state": "down", "error": type(exc).__name__}
    checks["bot"] = kanal.bot.status()
    db_up = checks["database"]["state"] == "up"
    # Without the bot kanal still serves: every contact goes to people, so it stays ready.
    body = {"status": "ready" if db_up else "unavailable", "checks": checks}
    if checks["bot"].get("state") != "up":
        body["degraded"] = "bot unavailable: contacts are routed to people"
    return jsonify(body), 200 if db_up else 503
