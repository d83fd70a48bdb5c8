"""What every channel shares: clear JSON errors and message views."""

from __future__ import annotations

from flask import jsonify


def json_error(status: int, message: str, **extra):
    """Return a JSON error body a developer can act on."""
    return jsonify(error=message, **extra), status


def message_view(message) -> dict:
    """Return a message as the channel APIs show it."""
    return {
        "id": message.id,
        "author": message.author,
        "text": message.text,
        "at": message.created_at.isoformat(timespec="seconds"),
    }
