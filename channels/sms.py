"""SMS through Twilio: the channel's settings, its sender, the inbound webhook and the
delivery status callback.

Acknowledging a webhook is the signature check, the idempotency check and one INSERT into
the inbox, then an empty TwiML `<Response/>`: Twilio waits at most 15 s, and the turn and
its replies (sent through the REST API) happen after the answer. A body longer than
Twilio's maximum (1,600 characters) cannot come from Twilio: only its beginning is kept,
and the citizen is told so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from flask import Blueprint, Response, request

from channels import twilio_doc as doc
from channels.sms_lane import (  # noqa: F401 - keyword_kind, RecentTokens: the channel's too
    EMPTY_TWIML,
    HELP,
    OPT_IN,
    OPT_OUT,
    AcknowledgingLane,
    RecentTokens,
    inbound,
    keyword_kind,
    status_problem,
)
from channels.sms_lane import NAME as SMS
from channels.twilio_signature import twilio_signed
from router.adapters.twilio_sms import sender_from_config
from router.domain.segments import MAX_BODY
from router.openapi import describe
from router.service.channels import Channel
from router.service.lanes import take_in_order
from router.service.ports import Sender
from router.service.services import ChannelServices
from router.web import MAX_KEY, bound, parse_id

log = logging.getLogger(__name__)

NAME = SMS  # the channel's name (channels/sms_lane.py)
INBOUND_ERROR = f"MessageSid and From are required: each 1 to {MAX_KEY} characters, without NUL."
MAX_SMS_TEXT = MAX_BODY  # Twilio's longest message body, in characters


def channel(config: Mapping, sender: Sender | None = None) -> Channel:
    """Describe SMS to the core: a phone number, consent rules, and Twilio as the way out."""
    return Channel(
        name=NAME,
        inactivity=timedelta(minutes=config["KANAL_SMS_INACTIVITY_MINUTES"]),
        verb="write",
        max_text=MAX_SMS_TEXT,
        address_is_phone=True,
        needs_consent=True,
        digital=True,
        sender=sender if sender is not None else sender_from_config(config),
        status_callback=config["KANAL_PUBLIC_URL"] + "/twilio/sms/status",
        help_text=config["KANAL_SMS_HELP_TEXT"],
    )


def blueprint(services: ChannelServices) -> Blueprint:
    """Return the SMS webhooks; Twilio signs them (checked), so they need no CSRF token."""
    bp = Blueprint(NAME, __name__)
    signed = twilio_signed(services.config)
    receive = describe(signed(bound(receive_sms, services, RecentTokens())), doc.RECEIVE_SMS)
    status = describe(signed(bound(delivery_status, services)), doc.DELIVERY_STATUS)
    bp.add_url_rule("/twilio/sms", "receive_sms", receive, methods=["POST"])
    bp.add_url_rule("/twilio/sms/status", "delivery_status", status, methods=["POST"])
    return bp


def empty_twiml() -> Response:
    """Answer Twilio with nothing to send: replies go out through the REST API."""
    return Response(EMPTY_TWIML, mimetype="text/xml")


def receive_sms(services: ChannelServices, tokens: RecentTokens):
    """Commit an inbound SMS to the inbox once and acknowledge it; the turn runs after."""
    cmd = inbound(request.form)
    if cmd is None:
        return Response(INBOUND_ERROR, status=400, mimetype="text/plain")
    token = request.headers.get("I-Twilio-Idempotency-Token", "")
    if token and token in tokens:
        return empty_twiml()
    entry_id = services.turns.accept(cmd)
    if entry_id is not None:
        if cmd.kind != "message":
            # Consent changes take effect before Twilio hears back; they never reach the bot.
            # Taken in the citizen's lane, after the messages they sent before it.
            take_in_order(services.turns, entry_id, f"{NAME}:{cmd.address}")
        elif services.run_turn is not None:
            services.run_turn(entry_id, f"{NAME}:{cmd.address}")
    if token:
        tokens.add(token)
    return empty_twiml()


def delivery_status(services: ChannelServices):
    """Record a delivery status callback; out-of-order ones never move a message back."""
    sid = request.form.get("MessageSid") or request.form.get("SmsSid")
    status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").lower()
    if not sid or not status:
        return Response("MessageSid and MessageStatus are required.", 400, mimetype="text/plain")
    problem = status_problem(sid, status, request.form.get("ErrorCode") or None)
    if problem is not None:  # no Twilio callback carries it; PostgreSQL would refuse it
        return Response(problem, 400, mimetype="text/plain")
    try:
        # kanal signs `m` into the callback URL; a value past 64 bits was never one of ours.
        message_id = parse_id(request.args.get("m"))
    except ValueError:
        return Response("`m` must be a message id.", 400, mimetype="text/plain")
    services.delivery.record_status(
        NAME, message_id, sid, status, request.form.get("ErrorCode") or None
    )
    return Response(status=204)


def wsgi_lane(app, services: ChannelServices, headers: Mapping[str, str]) -> AcknowledgingLane:  # noqa: ANN001 - a WSGI app
    """Put the acknowledging lane (channels/sms_lane.py) in front of the web app `app`."""
    return AcknowledgingLane(app, services, headers)
