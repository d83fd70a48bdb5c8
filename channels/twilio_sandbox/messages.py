"""The sandbox's Messages API: accept an outbound SMS as Twilio does, then report its delivery.

Magic numbers behave as with Twilio's test credentials: +15005550001 is invalid (21211),
+15005550004 has opted out at the carrier (21610), +15005550002 cannot be routed (21612).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from email.utils import format_datetime
from types import SimpleNamespace

from flask import jsonify, request
from sqlalchemy import select

from channels.twilio_sandbox.api import authorised, twilio_error, valid_number
from channels.twilio_sandbox.peer import SandboxPeer, newest, sandbox_messages
from router.domain.segments import MAX_BODY, count_segments

MAGIC_ERRORS = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number is not currently reachable via SMS."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
}


def _resource(row, account_sid: str) -> dict:
    """Return a message resource shaped like Twilio's JSON."""
    at = datetime.fromisoformat(row.at)
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": row.body,
        "date_created": format_datetime(at),
        "date_sent": None,
        "date_updated": format_datetime(at),
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": row.from_,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": str(row.segments),
        "price": None,
        "price_unit": "USD",
        "sid": row.sid,
        "status": row.status,
        "subresource_uris": {},
        "to": row.to,
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{row.sid}.json",
    }


def create_message(peer: SandboxPeer, account_sid: str):
    """Accept an outbound SMS like Twilio's Messages API, then report its delivery."""
    if not authorised(peer, account_sid):
        return twilio_error(401, 20003, "Authenticate")
    to = request.form.get("To", "").strip()
    sender = request.form.get("From", "").strip()
    body = request.form.get("Body", "")
    if not to:
        return twilio_error(400, 21604, "A 'To' phone number is required.")
    if to in MAGIC_ERRORS or not valid_number(to):
        code, message = MAGIC_ERRORS.get(to, (21211, f"The 'To' number {to} is not valid."))
        return twilio_error(400, code, message)
    if not sender:
        return twilio_error(400, 21603, "A 'From' phone number is required.")
    if not body:
        return twilio_error(400, 21602, "Message body is required.")
    if len(body.encode("utf-16-le")) // 2 > MAX_BODY:
        return twilio_error(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    sid = "SM" + secrets.token_hex(16)
    callback = request.form.get("StatusCallback", "")
    row = {
        "sid": sid,
        "account_sid": account_sid,
        "to": to,
        "from_": sender,
        "body": body,
        "status": "queued",
        "segments": count_segments(body).segments,
        "status_callback": callback or None,
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    with peer.engine.begin() as conn:
        conn.execute(sandbox_messages.insert().values(**row))
    params = {
        "AccountSid": account_sid,
        "ApiVersion": "2010-04-01",
        "From": sender,
        "To": to,
        "MessageSid": sid,
        "SmsSid": sid,
    }
    peer.fire_callbacks(sid, params, callback)
    return jsonify(_resource(SimpleNamespace(**row), account_sid)), 201


def fetch_message(peer: SandboxPeer, account_sid: str, sid: str):
    """Return one message resource, as Twilio's fetch does."""
    if not authorised(peer, account_sid):
        return twilio_error(401, 20003, "Authenticate")
    with peer.engine.connect() as conn:
        row = conn.execute(select(sandbox_messages).where(sandbox_messages.c.sid == sid)).first()
    if row is None:
        return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
    return jsonify(_resource(row, account_sid))


def list_messages(peer: SandboxPeer, account_sid: str):
    """List messages newest first, as Twilio's list does (`To`, `From`, `PageSize`; one page)."""
    if not authorised(peer, account_sid):
        return twilio_error(401, 20003, "Authenticate")
    size = min(max(request.args.get("PageSize", 50, type=int), 1), 1000)
    stmt = select(sandbox_messages).order_by(sandbox_messages.c.id.desc()).limit(size)
    for param, column in (("To", sandbox_messages.c.to), ("From", sandbox_messages.c.from_)):
        if request.args.get(param):
            stmt = stmt.where(column == request.args[param])
    with peer.engine.connect() as conn:
        rows = list(conn.execute(stmt))
    uri = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
    return jsonify(
        messages=[_resource(row, account_sid) for row in rows],
        uri=uri, first_page_uri=uri, next_page_uri=None, previous_page_uri=None,
        page=0, page_size=size, start=0, end=max(len(rows) - 1, 0),
    )  # fmt: skip


def outbox_rows(peer: SandboxPeer, to: str | None = None, limit: int = 200) -> list[dict]:
    """Return the newest sent messages (oldest first), optionally to one number."""
    return [
        {
            "sid": r.sid,
            "to": r.to,
            "from": r.from_,
            "body": r.body,
            "status": r.status,
            "segments": r.segments,
            "at": r.at,
        }
        for r in newest(peer, sandbox_messages, to, limit)
    ]
