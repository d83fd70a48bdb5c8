"""The phone through Twilio Voice: the channel's settings and its webhooks.

    POST /twilio/voice                 a call comes in: identify the caller, greet, listen
    POST /twilio/voice/<step>          what the caller said or pressed at a step (ivr.flow)
    POST /twilio/voice/wait            the queue's wait URL: position, estimated wait, callback
    POST /twilio/voice/queued          the Enqueue action: how the wait ended
    POST /twilio/voice/status          the call's status callback: how the call ended
    POST /twilio/voice/agent/<id>      the agent's leg: bridge the caller waiting for contact id
    POST /twilio/voice/connecting      said to the caller just before the adviser is bridged

Every request is signed by Twilio (checked: a forged one gets 403). The call's state between
requests travels in the query of the URLs kanal hands Twilio (which Twilio signs with them).
Replies are spoken in the TwiML answer, so the channel has no sender; the digital route is
texted through the SMS channel.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from channels.twilio_signature import twilio_signed
from ivr import flow, twiml
from ivr import prompts as p
from ivr import voice_doc as doc
from ivr.perform import calls_of, local, perform_for
from router.config import names, share
from router.domain.channels import VOICE
from router.openapi import describe
from router.service.channels import Channel
from router.service.errors import ServiceError
from router.service.ports import Sender
from router.service.services import ChannelServices
from router.web import ID_CONVERTER, MAX_KEY, bound, parse_id, storable_key

NAME = VOICE
BASE = "/twilio/voice"
# The steps that take the caller's input (each its own URL, each in the OpenAPI document).
INPUT_STEPS = ("language", "heard", "more", "offer", "wait-choice", "pending", "rating")
KEYS = ("CallSid", "From", "QueueResult")  # kept in columns of at most 64 characters
MAX_SPEECH = 1000  # characters of SpeechResult kept (Twilio's transcripts are far shorter)


def channel(config: Mapping, sender: Sender | None = None) -> Channel:
    """Describe the phone to the core: spoken, no links, identified by number, not digital."""
    return Channel(
        name=NAME,
        inactivity=timedelta(hours=2),  # a call is one contact; the status callback ends it
        verb="say",
        max_text=MAX_SPEECH,
        sends_links=False,
        address_is_phone=True,
        needs_consent=False,
        digital=False,
        sender=None,  # spoken in the TwiML answer
        calls=True,
    )


def flow_settings(config: Mapping) -> flow.LineSettings:
    """Build the call flow's settings from the configuration."""
    return flow.LineSettings(
        languages=tuple(config["KANAL_VOICE_LANGUAGES"]) or ("en",),
        agency=config["KANAL_AGENCY_NAME"],
        min_confidence=config["KANAL_VOICE_MIN_CONFIDENCE"],
        callback_offer_seconds=config["KANAL_VOICE_CALLBACK_OFFER_SECONDS"],
        # The keypad rating: only when the phone is one of the channels that ask.
        survey_share=share(str(config.get("KANAL_SURVEY_SHARE", 0)))
        if NAME in names(config.get("KANAL_SURVEY_CHANNELS", ()))
        else 0.0,
    )


def blueprint(services: ChannelServices) -> Blueprint:
    """Return the voice webhooks; Twilio signs them (checked), so they need no CSRF token."""
    bp = Blueprint(NAME, __name__)
    settings = flow_settings(services.config)
    signed = twilio_signed(services.config)

    def add(rule: str, endpoint: str, operation, view, *parts) -> None:  # noqa: ANN001
        view = signed(_storable_keys(bound(view, services, settings, *parts)))
        bp.add_url_rule(rule, endpoint, describe(view, operation), methods=["POST"])

    add(BASE, "incoming_call", doc.INCOMING, incoming_call)
    for step in INPUT_STEPS:
        name = f"step_{step.replace('-', '_')}"
        add(f"{BASE}/{step}", name, doc.STEPS[step], caller_input, step)
    add(f"{BASE}/wait", "queue_wait", doc.WAIT, queue_wait)
    add(f"{BASE}/queued", "queue_ended", doc.QUEUED, queue_ended)
    add(f"{BASE}/status", "call_status", doc.STATUS, call_status)
    add(f"{BASE}/agent/<{ID_CONVERTER}:contact_id>", "agent_leg", doc.AGENT_LEG, agent_leg)
    add(f"{BASE}/connecting", "connecting", doc.CONNECTING, connecting)
    return bp


# -- helpers ------------------------------------------------------------------------------


def _twiml(response) -> Response:  # noqa: ANN001 - a VoiceResponse
    return Response(str(response), mimetype="text/xml")


def _bad(message: str) -> Response:
    return Response(message, status=400, mimetype="text/plain")


def _storable_keys(view):  # noqa: ANN001, ANN202
    """Refuse a webhook whose call's keys no column keeps (a NUL, past 64 characters): no
    CallSid, From or QueueResult of Twilio's is one. Absent ones are the views' to refuse."""

    @functools.wraps(view)
    def checked(*args, **kwargs):  # noqa: ANN202
        for name in KEYS:
            value = request.form.get(name)
            if value and not storable_key(value):
                return _bad(f"{name} must be 1 to {MAX_KEY} characters, without NUL.")
        return view(*args, **kwargs)

    return checked


def _state() -> flow.CallState:
    """Read the call's state from the query kanal put in the URL (ValueError if malformed)."""
    args = request.args
    lang = args.get("l", "")
    if lang and lang not in p.VOICES:
        raise ValueError("`l` must be a language the phone speaks")
    return flow.CallState(
        contact=parse_id(args.get("c")) or 0,
        lang=lang,
        known=args.get("k") == "1",
        tries=min(parse_id(args.get("t"), 0), 9),
        silences=min(parse_id(args.get("s"), 0), 9),
        n=min(parse_id(args.get("n"), 0), 10_000),
    )


def _url(services: ChannelServices, call: flow.CallState):  # noqa: ANN202
    base = services.config["KANAL_PUBLIC_URL"].rstrip("/") + BASE

    def url(step: str) -> str:
        query = {"c": call.contact, "l": call.lang, "k": int(call.known), "t": call.tries,
                 "s": call.silences, "n": call.n}  # fmt: skip
        return f"{base}/{step}?{urlencode(query)}"

    return url


def _heard() -> flow.Heard:
    form = request.form
    confidence = form.get("Confidence")
    try:
        value = float(confidence) if confidence not in (None, "") else None
    except ValueError:
        value = None
    speech = form.get("SpeechResult", "").replace("\x00", "")[:MAX_SPEECH]
    digits = "".join(ch for ch in form.get("Digits", "") if ch in "0123456789*#")[:16]
    return flow.Heard(speech=speech, confidence=value, digits=digits)


def _answer(services: ChannelServices, reply: flow.Reply, call_sid: str) -> Response:
    calls = calls_of(services)
    queue = calls.queue_name(reply.state.contact)
    if reply.next == "enqueue":
        calls.enqueued(call_sid, reply.state.contact)
    response = twiml.render(
        reply, _url(services, reply.state), queue=queue,
        hold_music=services.config.get("KANAL_VOICE_HOLD_MUSIC"),
    )  # fmt: skip
    return _twiml(response)


# -- views ----------------------------------------------------------------------------------


def incoming_call(services: ChannelServices, settings: flow.LineSettings):
    """A call comes in: identify the caller by number, greet, and listen."""
    call_sid, number = request.form.get("CallSid", ""), request.form.get("From", "").strip()
    if not call_sid or not number:
        return _bad("CallSid and From are required.")
    calls = calls_of(services)
    answered = calls.answer(call_sid[:64], number[:64])
    known_language = answered.language if answered.language in settings.languages else ""
    pending = None
    if answered.callback_pending:
        pending = flow.CallbackTime(True, local(calls, answered.callback_at))
    state = flow.CallState(contact=answered.contact_id, lang=known_language, known=answered.known,
                      pending=pending)  # fmt: skip
    reply = flow.respond("start", state, flow.Heard(), perform_for(services, number, call_sid),
                         settings)  # fmt: skip
    return _answer(services, reply, call_sid)


def caller_input(services: ChannelServices, settings: flow.LineSettings, step: str):
    """What the caller said or pressed at a step."""
    call_sid, number = request.form.get("CallSid", ""), request.form.get("From", "").strip()
    if not call_sid or not number:
        return _bad("CallSid and From are required.")
    try:
        state = _state()
    except ValueError as exc:
        return _bad(f"The URL's call state is malformed: {exc}")
    if not state.contact:
        return _bad("`c` (the call's contact id) is required.")
    if step == "language":
        calls_of(services).choose_language(call_sid, flow.chosen_language(_heard(), settings))
    try:
        reply = flow.respond(step, state, _heard(), perform_for(services, number, call_sid),
                             settings)  # fmt: skip
    except ServiceError:  # the conversation has ended meanwhile (an agent closed it)
        lang = p.language_of(state.lang, settings.languages)
        ended = flow.Reply(lang, say=(p.text(lang, "call_again"),), next="hangup", state=state)
        return _answer(services, ended, call_sid)
    return _answer(services, reply, call_sid)


def queue_wait(services: ChannelServices, settings: flow.LineSettings):
    """The wait URL: position and estimated wait from kanal's queue; later a callback offer."""
    try:
        state = _state()
        queue_seconds = parse_id(request.form.get("QueueTime"), 0)
    except ValueError:
        return _bad("QueueTime and the URL's call state must be whole numbers.")
    place = calls_of(services).place(state.contact)
    reply = flow.wait(state, place.position, place.wait_seconds, queue_seconds, settings)
    return _answer(services, reply, request.form.get("CallSid", ""))


def queue_ended(services: ChannelServices, settings: flow.LineSettings):
    """The Enqueue action: record how the wait ended and end the call politely."""
    call_sid, number = request.form.get("CallSid", ""), request.form.get("From", "").strip()
    result = request.form.get("QueueResult", "").strip().lower()
    if not call_sid or not result:
        return _bad("CallSid and QueueResult are required.")
    try:
        state = _state()
    except ValueError as exc:
        return _bad(f"The URL's call state is malformed: {exc}")
    calls_of(services).wait_ended(call_sid, result)
    reply = flow.queued(state, result, perform_for(services, number, call_sid))
    return _answer(services, reply, call_sid)


def call_status(services: ChannelServices, settings: flow.LineSettings):
    """The status callback: how the call ended (completed, busy, no-answer, failed…)."""
    call_sid = request.form.get("CallSid", "")
    status = request.form.get("CallStatus", "").strip().lower()
    if not call_sid or not status:
        return _bad("CallSid and CallStatus are required.")
    try:
        seconds = parse_id(request.form.get("CallDuration"))
    except ValueError:
        return _bad("CallDuration must be a whole number of seconds.")
    calls_of(services).ended(call_sid, status, seconds)
    return Response(status=204)


def agent_leg(services: ChannelServices, settings: flow.LineSettings, contact_id: int):
    """The agent's leg: `<Dial><Queue>` the contact's own queue, announced to the caller."""
    calls = calls_of(services)
    found = calls.call_for_contact(contact_id)
    lang = p.language_of(found.language if found else None, settings.languages)
    base = services.config["KANAL_PUBLIC_URL"].rstrip("/") + BASE
    connecting_url = f"{base}/connecting?{urlencode({'l': lang})}"
    return _twiml(twiml.agent_leg(calls.queue_name(contact_id), connecting_url))


def connecting(services: ChannelServices, settings: flow.LineSettings):
    """Said to the caller just before the adviser is bridged, in the caller's language."""
    lang = p.language_of(request.args.get("l"), settings.languages)
    if request.form.get("CallSid"):  # the queued caller's call, being bridged to the agent
        calls_of(services).connected(request.form["CallSid"])
    return _twiml(twiml.render(flow.connecting(lang), lambda step: step))
