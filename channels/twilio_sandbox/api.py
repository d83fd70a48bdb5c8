"""What the sandbox's Twilio REST API shares: its URL, its errors and its checks."""

from __future__ import annotations

import base64
import secrets

import phonenumbers
from flask import jsonify, request

from channels.twilio_sandbox.peer import SandboxPeer

API = "/twilio/2010-04-01/Accounts/<account_sid>"


def twilio_error(status: int, code: int, message: str):
    """Answer as Twilio does when it refuses a request."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return jsonify(body), status


def authorised(peer: SandboxPeer, account_sid: str) -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return False
    token_ok = secrets.compare_digest(password, peer.auth_token)
    return user == account_sid and token_ok


def valid_number(number: str) -> bool:
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False
