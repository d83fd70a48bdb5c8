"""Outbound calls' webhooks: a citizen answering a callback, and how outbound calls end.

`POST /twilio/voice/callback/<callback_id>` is the callback call's `Url`: the citizen
answered, so kanal says who is calling in the citizen's language and connects the call to
the agent held for it. `POST /twilio/voice/call-status` receives the status callbacks of
the calls kanal places (callbacks, `?callback=<id>`; the desk's agent legs,
`?contact=<id>`). Both are signed by Twilio (checked: a forged request gets 403).
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from twilio.twiml.voice_response import Dial, VoiceResponse

from channels.twilio_signature import twilio_signed
from ivr import prompts as p
from ivr import voice_doc as doc
from router.openapi import describe
from router.service.services import ChannelServices
from router.web import ID_CONVERTER, bound, parse_id


def blueprint(services: ChannelServices) -> Blueprint:
    """Return the outbound calls' webhooks; Twilio signs them, so they need no CSRF token."""
    bp = Blueprint("voice_legs", __name__)
    signed = twilio_signed(services.config)
    answered = describe(signed(bound(callback_answered, services)), doc.CALLBACK_ANSWERED)
    status = describe(signed(bound(call_status, services)), doc.CALL_STATUS)
    bp.add_url_rule(
        f"/twilio/voice/callback/<{ID_CONVERTER}:callback_id>",
        "callback_answered",
        answered,
        methods=["POST"],
    )
    bp.add_url_rule("/twilio/voice/call-status", "call_status", status, methods=["POST"])
    return bp


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def callback_twiml(language: str, agent_endpoint: str | None, agency: str) -> VoiceResponse:
    """Say who is calling and connect to the agent; or apologise when nobody waits."""
    voice = p.VOICES.get(language) or p.VOICES[p.DEFAULT_LANGUAGE]
    spoken = language if language in p.VOICES else p.DEFAULT_LANGUAGE
    response = VoiceResponse()
    if agent_endpoint is None:
        response.say(
            p.text(spoken, "calling_back_gone", agency=agency),
            language=voice.language,
            voice=voice.voice,
        )
        response.hangup()
        return response
    response.say(
        p.text(spoken, "calling_back", agency=agency), language=voice.language, voice=voice.voice
    )
    dial = Dial()
    if agent_endpoint.startswith("client:"):
        dial.client(agent_endpoint.removeprefix("client:"))
    elif agent_endpoint.startswith("sip:"):
        dial.sip(agent_endpoint)
    else:
        dial.number(agent_endpoint)
    response.append(dial)
    return response


def callback_answered(services: ChannelServices, callback_id: int):
    """The citizen answered a callback: connect them to the agent held for it."""
    call_sid = request.form.get("CallSid", "").strip()
    if not call_sid:
        return Response("CallSid is required.", status=400, mimetype="text/plain")
    answered = services.dialling.answered(callback_id, call_sid)
    if answered is None:
        return Response(f"No callback {callback_id}.", status=404, mimetype="text/plain")
    agency = str(services.config.get("KANAL_AGENCY_NAME") or "kanal")
    return _twiml(callback_twiml(answered.language, answered.agent_endpoint, agency))


def call_status(services: ChannelServices):
    """Record an outbound call's status: a callback not answered is retried or fails."""
    sid = request.form.get("CallSid", "").strip()
    status = request.form.get("CallStatus", "").strip().lower()
    if not sid or not status:
        return Response("CallSid and CallStatus are required.", 400, mimetype="text/plain")
    try:
        callback_id = parse_id(request.args.get("callback"))
        parse_id(request.args.get("contact"))  # an agent's leg: checked, nothing to record
    except ValueError:
        return Response(
            "`callback` and `contact` must be ids (integers of at most 64 bits).",
            400,
            mimetype="text/plain",
        )
    if callback_id is not None and services.dialling.call_status(callback_id, sid, status) is None:
        return Response(f"No callback {callback_id}.", status=404, mimetype="text/plain")
    # An agent's leg (`contact`) needs nothing recorded: the caller's own call reports
    # how the conversation ends, and the desk shows the contact's state.
    return Response(status=204)
