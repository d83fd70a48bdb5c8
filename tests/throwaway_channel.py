"""A throwaway channel, registered the way a real one is (docs/architecture.md, "Adding a
channel"): one module exposing NAME, channel(config, sender=None) and blueprint(services).

Its provider posts JSON {"from", "text", "id", "wait"} to /throwaway/messages; replies leave
through the channel's sender. Used by tests/*/test_add_a_channel.py only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from flask import Blueprint, jsonify, request

from router.domain.commands import ReceiveMessage
from router.service.channels import Channel
from router.service.ports import Sender, SendResult
from router.service.services import ChannelServices

NAME = "throwaway"


class NowhereSender:
    """The real provider of this channel: it accepts everything and delivers nothing."""

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        return SendResult("accepted", provider_id="nowhere")


def channel(config: Mapping, sender: Sender | None = None) -> Channel:
    """Describe the channel to the core: short texts, and a sender replies leave through."""
    return Channel(
        name=NAME,
        inactivity=timedelta(minutes=10),
        max_text=160,
        sends_links=False,
        sender=sender if sender is not None else NowhereSender(),
    )


def blueprint(services: ChannelServices) -> Blueprint:
    bp = Blueprint(NAME, __name__)

    @bp.post("/throwaway/messages")
    def receive():
        data = request.get_json(force=True)
        cmd = ReceiveMessage(
            channel=NAME, address=data["from"], text=data["text"], provider_id=data.get("id")
        )
        if data.get("wait"):  # the provider waits for the replies
            result = services.turns.receive(cmd)
            replies = [] if result is None else [m.text for m in result.replies]
            return jsonify(replies=replies), 200
        entry_id = services.turns.accept(cmd)
        if entry_id is not None and services.run_turn is not None:
            services.run_turn(entry_id, f"{NAME}:{cmd.address}")
        return "", 202

    return bp
