"""The sandbox's web face: one blueprint (Twilio's REST API, the outbox) and its own app."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from channels.twilio_sandbox import messages, voice, voice_answers, voice_queues
from channels.twilio_sandbox.api import API
from channels.twilio_sandbox.peer import SandboxPeer
from router.web import bound


def blueprint(peer: SandboxPeer) -> Blueprint:
    """Return the sandbox's endpoints (Twilio's Messages API and the outbox) over `peer`."""
    bp = Blueprint("sandbox", __name__, url_prefix="/sandbox", template_folder="templates")
    routes = (
        (API + "/Messages.json", messages.create_message, "POST"),
        (API + "/Messages.json", messages.list_messages, "GET"),
        (API + "/Messages/<sid>.json", messages.fetch_message, "GET"),
        (API + "/Calls.json", voice.create_call, "POST"),
        (API + "/Calls/<sid>.json", voice.fetch_call, "GET"),
        ("/voice/answers", voice_answers.set_answer, "POST"),
        ("/voice/queues/<name>/members", voice_queues.join_queue, "POST"),
        ("/voice/queues/<name>/members/<call_sid>", voice_queues.leave_queue, "DELETE"),
        ("/voice/calls/<call_sid>", voice_queues.member_state, "GET"),
        ("/outbox.json", outbox_json, "GET"),
        ("/outbox", outbox_page, "GET"),
    )
    for rule, view, method in routes:
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=bound(view, peer), methods=[method])
    return bp


def outbox_json(peer: SandboxPeer):
    """Return what the sandbox has sent: [{sid, to, from, body, status, segments, at}].

    `?kind=calls` answers the calls placed instead:
    [{sid, to, from, url, status, said, connected_to, dial_status, at}].
    """
    limit = min(max(request.args.get("limit", 200, type=int), 1), 1000)
    to = request.args.get("to") or None
    if request.args.get("kind") == "calls":
        return jsonify(voice.call_rows(peer, to, limit))
    return jsonify(messages.outbox_rows(peer, to, limit))


def outbox_page(peer: SandboxPeer):
    """Show what the sandbox has sent and the calls it placed, newest last."""
    to = request.args.get("to") or None
    return render_template(
        "sandbox/outbox.html",
        rows=messages.outbox_rows(peer, to),
        calls=voice.call_rows(peer, to),
        to=to,
    )


def create_app(config: dict | None = None):  # noqa: ANN201
    """Serve the sandbox alone, as its own process (as Twilio is to a deployed kanal).

    kanal then points KANAL_TWILIO_SANDBOX_URL at <this server>/sandbox/twilio.
    """
    from flask import Flask

    from router.config import from_env

    settings = {**from_env(), **(config or {})}
    app = Flask(__name__)
    app.register_blueprint(blueprint(SandboxPeer.from_config(settings)))
    app.add_url_rule("/healthz", "healthz", lambda: "ok")
    return app
