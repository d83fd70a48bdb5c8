"""The OpenAPI 3.1 document of kanal's public HTTP interface (docs/architecture.md's URL table).

The document lists a path only when the running app serves it, so it never promises a URL
this deployment does not have (the SMS and voice channels can be absent).
"""

from __future__ import annotations

import re

from analytics.conversations import COLUMNS as CONVERSATION_COLUMNS
from analytics.metrics import GROUPINGS, Row, definitions
from router.policy import available_profiles

# Row fields that are fractions between 0 and 1.
_SHARES = frozenset(
    {
        "completion_rate",
        "assisted_digital_share",
        "first_contact_resolution",
        "user_satisfaction",
        "service_level",
        "abandonment_rate",
        "occupancy",
        "exemption_share_contacts",
        "exemption_share",
    }
)

_RULE_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _json(schema: dict | str) -> dict:
    if isinstance(schema, str):
        schema = {"$ref": f"#/components/schemas/{schema}"}
    return {"application/json": {"schema": schema}}


def _answer(description: str, schema: dict | str | None = None, media: str | None = None) -> dict:
    out: dict = {"description": description}
    if media:
        out["content"] = {media: {"schema": schema or {"type": "string"}}}
    elif schema is not None:
        out["content"] = _json(schema)
    return out


def _error(description: str) -> dict:
    return _answer(description, "Error")


# kanal's ids are 64-bit integers (router.web.MAX_ID).
_ID = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}


def _id_param(name: str, where: str = "path") -> dict:
    """Return a parameter that carries one of kanal's ids."""
    parameter = {"name": name, "in": where, "schema": _ID}
    return {**parameter, "required": True} if where == "path" else parameter


def _form(schema: str) -> dict:
    """Return a required form-encoded request body (Twilio's webhooks) of a named schema."""
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"$ref": f"#/components/schemas/{schema}"}
            }
        },
    }


_SESSION_ID = {"name": "session_id", "in": "path", "required": True, "schema": {"type": "string"}}
_AFTER = {
    "name": "after",
    "in": "query",
    "description": "Answer only messages with a greater id (the last id the client has).",
    "schema": _ID,
}
_CHAT_ERRORS = {
    "401": _error("Missing or wrong session token."),
    "404": _error("No such chat session."),
}
_METRIC_PARAMS = [
    {
        "name": "from",
        "in": "query",
        "required": True,
        "description": "First day of the window (YYYY-MM-DD, agency time zone, inclusive; "
        "from 2000-01-01 to 2999-12-31).",
        "schema": {"type": "string", "format": "date"},
    },
    {
        "name": "to",
        "in": "query",
        "required": True,
        "description": "Last day of the window (YYYY-MM-DD, inclusive; at most 2999-12-31); "
        "not before `from`.",
        "schema": {"type": "string", "format": "date"},
    },
    {
        "name": "group_by",
        "in": "query",
        "description": "One row per value of this attribute of the contact.",
        "schema": {"type": "string", "enum": list(GROUPINGS), "default": "channel"},
    },
    *(
        {
            "name": name,
            "in": "query",
            "description": f"Only contacts in this `{name}` group (as `group_by={name}` names it).",
            "schema": {"type": "string", "minLength": 1, "maxLength": 64},
        }
        for name in GROUPINGS
        if name != "none"
    ),
    {
        "name": "compare_from",
        "in": "query",
        "description": "With `compare_to`: an earlier period; the answer adds `migration`, "
        "citizens' main channel then against the window's (YYYY-MM-DD).",
        "schema": {"type": "string", "format": "date"},
    },
    {
        "name": "compare_to",
        "in": "query",
        "description": "Last day of the comparison period (YYYY-MM-DD).",
        "schema": {"type": "string", "format": "date"},
    },
]
_METRIC_ERRORS = {
    "400": _answer(
        "A date is missing, malformed or outside 2000-01-01 to 2999-12-31, `from` is after "
        "`to`, or `group_by` is unknown; `parameter` names the culprit.",
        "QueryError",
    ),
    "401": _error("No API token, or a token that is not valid."),
    "403": _error("The token's user is neither a manager nor a supervisor (nor an admin)."),
}
_TWIML = _answer(
    "TwiML; empty `<Response/>`: replies go out through the REST API.",
    {"type": "string"},
    "text/xml",
)
_FORGED = _answer(
    "The X-Twilio-Signature does not match: the request is not from Twilio.",
    {"type": "string"},
    "text/plain",
)

_CALL_STATE = [
    {"name": name, "in": "query", "description": description, "schema": schema}
    for name, description, schema in (
        ("c", "The call's contact id (kanal puts it in the URLs it hands Twilio).",
         {"type": "integer", "minimum": 0}),
        ("l", "The call's language (`da`, `en`, ...).", {"type": "string"}),
        ("k", "1 when the caller's number is in the register.", {"type": "string"}),
        ("t", "Re-prompts after not being understood.", {"type": "integer", "minimum": 0}),
        ("s", "Prompts met by silence.", {"type": "integer", "minimum": 0}),
        ("n", "Inputs so far (makes each turn's id unique).", {"type": "integer", "minimum": 0}),
    )
]  # fmt: skip
_CONTACT_ID = _id_param("contact_id")
# (path, summary, description, request schema, parameters) of the phone's webhooks.
_VOICE_STEPS = (
    ("/twilio/voice", "Incoming call",
     "The caller is identified by number from the register and greeted in their language "
     "(or asked to choose one of KANAL_VOICE_LANGUAGES); the answer gathers speech and keys.",
     "TwilioVoice", []),
    ("/twilio/voice/language", "Call step: language chosen",
     "Digits pick one of the offered languages; 0 asks for a person.", "TwilioVoice",
     _CALL_STATE),
    ("/twilio/voice/heard", "Call step: what the caller said or pressed",
     "SpeechResult (with Confidence) or Digits go through the turn (policy and bot); a "
     "keypad digit stands for a need; 0 or a person word reaches a person; low confidence "
     "or silence is asked again once, then a person.", "TwilioVoice", _CALL_STATE),
    ("/twilio/voice/more", "Call step: anything else?",
     "After a self-service answer: another question, no (goodbye) or a person.",
     "TwilioVoice", _CALL_STATE),
    ("/twilio/voice/offer", "Call step: the digital route offered",
     "1 or yes texts the link through the SMS channel (never to a number that sent STOP); "
     "2, no or 0 reaches a person.", "TwilioVoice", _CALL_STATE),
    ("/twilio/voice/rating", "Call step: the keypad rating",
     "After a self-service answer, for the share of calls surveyed (KANAL_SURVEY_SHARE, with "
     "voice in KANAL_SURVEY_CHANNELS): Digits 1-5 record the caller's satisfaction (5 very "
     "satisfied); anything else says goodbye.", "TwilioVoice", _CALL_STATE),
    ("/twilio/voice/pending", "Call step: a callback booked before",
     "A caller with a callback still to be made hears when it calls: 1 keeps it (goodbye), "
     "2 cancels it, anything else goes on to the question; 0 reaches a person.",
     "TwilioVoice", _CALL_STATE),
    ("/twilio/voice/wait", "Queue wait URL",
     "Position and estimated wait from kanal's queue; after "
     "KANAL_VOICE_CALLBACK_OFFER_SECONDS, press 1 for a callback.", "TwilioVoice",
     _CALL_STATE),
    ("/twilio/voice/wait-choice", "Queue: callback chosen",
     "1 books a callback (the caller keeps their place) and leaves the queue.",
     "TwilioVoice", _CALL_STATE),
    ("/twilio/voice/queued", "Enqueue action: how the wait ended",
     "QueueResult bridged, leave, hangup (abandoned), queue-full, error, system-error.",
     "TwilioVoice", _CALL_STATE),
    ("/twilio/voice/status", "Call status callback",
     "How the call ended: completed, busy, no-answer, failed, canceled; a caller who hung up "
     "while waiting abandoned the queue.", "TwilioVoice", []),
    ("/twilio/voice/agent/{contact_id}", "Agent leg",
     "TwiML for the agent's leg: <Dial><Queue> the contact's own queue `contact-<id>`.",
     "TwilioVoice", [_CONTACT_ID]),
    ("/twilio/voice/connecting", "Said before the adviser is bridged",
     "\"You are now connected to an adviser\" in the caller's language (`l`).",
     "TwilioVoice", [_CALL_STATE[1]]),
)  # fmt: skip


def _voice(summary: str, description: str, schema: str, parameters: list) -> dict:
    responses = {
        "200": _TWIML,
        "400": _answer(
            "A required field is missing or the URL's call state is malformed.",
            {"type": "string"},
            "text/plain",
        ),  # fmt: skip
        "403": _FORGED,
    }
    if summary == "Call status callback":
        responses["204"] = _answer("Recorded.")
        del responses["200"]
    operation = {
        "tags": ["twilio"],
        "summary": summary,
        "description": "Signed by Twilio. " + description,
        "security": [{"twilioSignature": []}],
        "requestBody": _form(schema),
        "responses": responses,
    }
    if parameters:
        operation["parameters"] = parameters
    return {"post": operation}


PATHS: dict[str, dict] = {
    "/api/v1/chat/sessions": {
        "post": {
            "tags": ["web chat"],
            "summary": "Open a chat session",
            "requestBody": {"required": False, "content": _json("StartSession")},
            "responses": {
                "201": _answer("The session and the token that guards it (shown once).", "Session"),
                "400": _error(
                    "The body is not a JSON object, the identity is not signed, or the "
                    "language is not one the agency serves."
                ),
                "413": _error("The body is larger than 64 KB."),
            },
        }
    },
    "/api/v1/chat/sessions/{session_id}/messages": {
        "parameters": [_SESSION_ID],
        "post": {
            "tags": ["web chat"],
            "summary": "Send the citizen's message; answer what the citizen should see now",
            "security": [{"chatSession": []}],
            "requestBody": {"required": True, "content": _json("NewMessage")},
            "responses": {
                "200": _answer(
                    "The messages since this one and the conversation's state.", "Messages"
                ),
                "400": _error(
                    'Not JSON like {"text": ...}, empty text, text that is not valid Unicode '
                    "(a lone surrogate) or holds a NUL character, or text over 2,000 "
                    "characters (then `limit` is given)."
                ),
                **_CHAT_ERRORS,
                "409": _error("The conversation has ended; start a new session."),
                "413": _error("The body is larger than 64 KB."),
            },
        },
        "get": {
            "tags": ["web chat"],
            "summary": "Answer the messages after a cursor and the conversation's state",
            "security": [{"chatSession": []}],
            "parameters": [_AFTER],
            "responses": {
                "200": _answer("Messages after the cursor, oldest first.", "Messages"),
                "400": _error("`after` is not an integer from 0 to 2^63 - 1."),
                **_CHAT_ERRORS,
            },
        },
    },
    "/api/v1/chat/sessions/{session_id}/stream": {
        "parameters": [_SESSION_ID],
        "get": {
            "tags": ["web chat"],
            "summary": "Push new messages and state changes (server-sent events)",
            "description": "Events `message` (data: a Message, id: its id) and `state` "
            '(data: {"state", "language"}); `Last-Event-ID` or `after` resumes. The stream ends '
            "when the conversation closes, or after 5 minutes (the client reconnects).",
            "security": [{"chatSession": []}],
            "parameters": [_AFTER],
            "responses": {
                "200": _answer("An event stream.", {"type": "string"}, "text/event-stream"),
                "400": _error("`after` is not an integer from 0 to 2^63 - 1."),
                **_CHAT_ERRORS,
            },
        },
    },
    "/api/v1/chat/sessions/{session_id}/survey": {
        "parameters": [_SESSION_ID],
        "get": {
            "tags": ["web chat"],
            "summary": "The satisfaction question, once the conversation has ended",
            "description": "Asked once, of the share of conversations the agency asks "
            "(KANAL_SURVEY_SHARE), in the conversation's language: GOV.UK's 5-point scale, "
            "very satisfied (5) first. `state` is none (not asked), asked, answered or declined "
            "(docs/domain.md §4.5).",
            "security": [{"chatSession": []}],
            "responses": {"200": _answer("The survey as it stands.", "Survey"), **_CHAT_ERRORS},
        },
        "post": {
            "tags": ["web chat"],
            "summary": "Answer the satisfaction question (once)",
            "security": [{"chatSession": []}],
            "requestBody": {"required": True, "content": _json("SurveyAnswer")},
            "responses": {
                "200": _answer("The answer recorded, with the thanks to show.", "Survey"),
                "400": _error('Not JSON like {"score": 4} (1 to 5) or {"score": null}.'),
                **_CHAT_ERRORS,
                "409": _error("No question is waiting: never asked, or answered already."),
                "413": _error("The body is larger than 64 KB."),
            },
        },
    },
    "/api/v1/chat/texts/{language}": {
        "get": {
            "tags": ["web chat"],
            "summary": "The chat widget's own words in a language the agency serves",
            "parameters": [
                {
                    "name": "language",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "ISO 639-1 code (a regional tag such as da-DK is accepted).",
                }
            ],
            "responses": {
                "200": _answer("The widget's words, by English message id.", "WidgetTexts"),
                "404": _error("The agency does not serve that language."),
            },
        }
    },
    "/api/v1/metrics/channel-shift": {
        "get": {
            "tags": ["metrics"],
            "summary": "Channel-shift figures of a window, computed from the event log",
            "description": "Definitions as in docs/domain.md §4; the answer carries their text.",
            "security": [{"apiToken": []}],
            "parameters": _METRIC_PARAMS,
            "responses": {"200": _answer("The figures.", "ChannelShift"), **_METRIC_ERRORS},
        }
    },
    "/api/v1/metrics/export.csv": {
        "get": {
            "tags": ["metrics"],
            "summary": "The same figures as CSV, one row per group",
            "security": [{"apiToken": []}],
            "parameters": _METRIC_PARAMS,
            "responses": {
                "200": _answer(
                    "CSV with a header row; empty cells for null ratios; "
                    "handoff_reasons, callback_reasons and callback_failures as "
                    "`name=count; ...`.",
                    None,
                    "text/csv",
                ),
                **_METRIC_ERRORS,
            },
        }
    },
    "/api/v1/metrics/conversations.csv": {
        "get": {
            "tags": ["metrics"],
            "summary": "One row per conversation of the window (streamed CSV)",
            "description": "The same parameters as channel-shift (`group_by` is accepted and "
            "does not change the rows). Columns: " + ", ".join(CONVERSATION_COLUMNS) + ". "
            "The citizen is their pseudonym; no name, phone number or citizen text. A cell "
            "that would start with =, +, -, @, a tab or a carriage return is prefixed with ' "
            "so that no spreadsheet runs it as a formula.",
            "security": [{"apiToken": []}],
            "parameters": _METRIC_PARAMS,
            "responses": {
                "200": _answer(
                    "CSV with a header row; empty cells for unknown values.", None, "text/csv"
                ),
                **_METRIC_ERRORS,
            },
        }
    },
    "/api/v1/simulate": {
        "get": {
            "tags": ["metrics"],
            "summary": "Replay a period's recorded contacts under another policy profile",
            "description": "Each recorded decision is decided again by the same pure policy "
            "on the context it saw; contacts whose route changes are projected from the "
            "behaviour observed in the period. Recorded and projected figures side by side, "
            "with the fairness panel, the observed rates and the assumptions "
            "(docs/domain.md, policy simulator).",
            "security": [{"apiToken": []}],
            "parameters": [
                {
                    "name": "profile",
                    "in": "query",
                    "required": True,
                    "description": "A shipped policy profile.",
                    "schema": {"type": "string", "enum": available_profiles()},
                },
                *_METRIC_PARAMS[:2],
            ],
            "responses": {
                "200": _answer("The simulation.", "Simulation"),
                **_METRIC_ERRORS,
            },
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "tags": ["meta"],
            "summary": "This document",
            "responses": {"200": _answer("OpenAPI 3.1 document.", {"type": "object"})},
        }
    },
    "/api/v1/events/digital-completion": {
        "post": {
            "tags": ["integration"],
            "summary": "A need was completed digitally",
            "description": "Called by the agency's self-service when a citizen completes a need "
            "online. A caller who took the digital route for that need is then not offered a "
            "callback when the follow-up window ends (KANAL_DEFLECTION_FOLLOWUP_HOURS). Name the "
            "citizen by pseudonymous id (`citizen`) or by the deflected contact (`contact_id`). "
            "Needs the API token of an `integration` user (or an admin).",
            "security": [{"apiToken": []}],
            "requestBody": {"required": True, "content": _json("DigitalCompletion")},
            "responses": {
                "200": _answer(
                    "Recorded; `followups_closed` follow-ups will offer nothing.",
                    "DigitalCompletionRecorded",
                ),  # fmt: skip
                "400": _answer(
                    "The body is not a JSON object, has an unknown field, names nobody, or a "
                    "value is malformed; `field` names the culprit.",
                    "FieldError",
                ),
                "401": _error("No API token, or a token that is not valid."),
                "403": _error("The token's user is not an integration (nor an admin)."),
                "404": _error("No citizen with that pseudonymous id, or no such contact."),
                "413": _error("The body is larger than 64 KB."),
            },
        }
    },
    "/twilio/sms": {
        "post": {
            "tags": ["twilio"],
            "summary": "Inbound SMS webhook",
            "description": "Signed by Twilio. The message is committed, then answered at once; "
            "a retried delivery (same I-Twilio-Idempotency-Token or MessageSid) is handled once. "
            "Only the first 1,600 characters of Body (Twilio's maximum) are kept.",
            "security": [{"twilioSignature": []}],
            "requestBody": _form("TwilioInboundSms"),
            "responses": {
                "200": _TWIML,
                "400": _answer("MessageSid or From is missing.", {"type": "string"}, "text/plain"),
                "403": _FORGED,
            },
        }
    },
    **{
        path: _voice(summary, description, schema, parameters)
        for path, summary, description, schema, parameters in _VOICE_STEPS
    },
    "/twilio/sms/status": {
        "post": {
            "tags": ["twilio"],
            "summary": "Outbound SMS status callback",
            "description": "Signed by Twilio. Callbacks may arrive out of order; a message's "
            "delivery state never moves backwards. kanal asks for it with `?m=<message id>`.",
            "security": [{"twilioSignature": []}],
            "requestBody": _form("TwilioStatus"),
            "responses": {
                "204": _answer("Recorded; an older status than the one known is ignored."),
                "400": _answer(
                    "MessageSid or MessageStatus is missing, or `m` is not a message id.",
                    {"type": "string"},
                    "text/plain",
                ),
                "403": _FORGED,
            },
        }
    },
    "/twilio/voice/callback/{callback_id}": {
        "post": {
            "tags": ["twilio"],
            "summary": "A citizen answered a callback",
            "description": "Signed by Twilio: the `Url` of a callback call kanal placed. Says who "
            "is calling in the citizen's language, assigns the contact to the agent held for "
            "the callback and connects the call to them (`<Dial><Client>`); a callback no longer "
            "waiting for this call apologises and hangs up.",
            "security": [{"twilioSignature": []}],
            "parameters": [_id_param("callback_id")],
            "requestBody": _form("TwilioCallStatus"),
            "responses": {
                "200": _answer("TwiML: `<Say>` then `<Dial>`.", {"type": "string"}, "text/xml"),
                "400": _answer("CallSid is missing.", {"type": "string"}, "text/plain"),
                "403": _FORGED,
                "404": _answer("No such callback.", {"type": "string"}, "text/plain"),
            },
        }
    },
    "/twilio/voice/call-status": {
        "post": {
            "tags": ["twilio"],
            "summary": "Outbound call status callback",
            "description": "Signed by Twilio. Status callbacks of the calls kanal places: "
            "callbacks (`?callback=<id>`: busy, no-answer, failed or canceled ends the attempt; "
            "it is retried or the callback lands on the desk's failed list) and the desk's "
            "agent legs (`?contact=<id>`). Callbacks may arrive out of order; a status of an "
            "older call is ignored.",
            "security": [{"twilioSignature": []}],
            "parameters": [_id_param("callback", "query"), _id_param("contact", "query")],
            "requestBody": _form("TwilioCallStatus"),
            "responses": {
                "204": _answer("Recorded."),
                "400": _answer(
                    "CallSid or CallStatus is missing, or `callback`/`contact` is not an id.",
                    {"type": "string"},
                    "text/plain",
                ),
                "403": _FORGED,
                "404": _answer("No such callback.", {"type": "string"}, "text/plain"),
            },
        }
    },
    "/healthz": {
        "get": {
            "tags": ["operations"],
            "summary": "Liveness",
            "responses": {
                "200": _answer(
                    "The process answers.",
                    {"type": "object", "properties": {"status": {"const": "ok"}}},
                )
            },
        }
    },
    "/readyz": {
        "get": {
            "tags": ["operations"],
            "summary": "Readiness: database and bot",
            "description": "Still ready without the bot: contacts then go to people "
            "(`degraded` says so).",
            "responses": {
                "200": _answer("The database answers.", "Readiness"),
                "503": _answer("The database does not answer.", "Readiness"),
            },
        }
    },
    "/metrics": {
        "get": {
            "tags": ["operations"],
            "summary": "Prometheus metrics",
            "responses": {"200": _answer("Prometheus text format.", None, "text/plain")},
        }
    },
}


def _schemas() -> dict:
    count = {"type": "integer", "minimum": 0}
    share = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
    row_fields = {
        "group": {"type": "string"},
        **{
            name: count
            for name in (
                "contacts",
                "bot_conversations",
                "bot_contained",
                "bot_repeat_contacts",
                "handed_off",
                "assisted",
                "completed_needs",
                "completed_digital",
            )
        },
        "digital_take_up": share,
        "bot_containment": share,
        "handoff_rate": share,
        "handoff_reasons": {"type": "object", "additionalProperties": count},
        # The phone's figures (added after the first fields).
        **{
            name: count
            for name in (
                "deflection_offered",
                "deflection_accepted",
                "deflection_completed",
            )
        },
        "deflection_acceptance_rate": share,
        "deflection_completion_rate": share,
        **{
            name: count
            for name in (
                "callbacks_booked",
                "callbacks_placed",
                "callback_calls",
                "callbacks_answered",
                "callbacks_failed",
                "callbacks_settled",
                "callbacks_pending",
            )
        },
        "callback_answer_rate": share,
        "callback_reasons": {"type": "object", "additionalProperties": count},
        "callback_failures": {"type": "object", "additionalProperties": count},
        **{name: count for name in ("phone_queued", "phone_abandoned", "phone_short_abandons")},
        "phone_abandonment_rate": share,
    }
    # The managers' view (issue 17): the row's other fields, typed from the dataclass.
    number = {"type": ["number", "null"], "minimum": 0}
    for name, f in Row.__dataclass_fields__.items():
        if name in row_fields:
            continue
        kind = str(f.type)
        if "dict" in kind:
            row_fields[name] = {"type": "object", "additionalProperties": count}
        elif name in ("savings",):
            row_fields[name] = {"type": "number"}
        elif "float | None" in kind and name in _SHARES:
            row_fields[name] = share
        elif "float" in kind:
            row_fields[name] = number if "None" in kind else {"type": "number", "minimum": 0}
        elif "None" in kind:
            row_fields[name] = {"type": ["integer", "null"], "minimum": 0}
        else:
            row_fields[name] = count
    texts = definitions()
    for name, schema in list(row_fields.items()):
        if name in texts:
            row_fields[name] = {**schema, "description": texts[name]}
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}},
        },
        "Simulation": _simulation(),
        "QueryError": {
            "type": "object",
            "required": ["error", "parameter"],
            "properties": {
                "error": {"type": "string"},
                "parameter": {
                    "type": "string",
                    "enum": [
                        "from",
                        "to",
                        "group_by",
                        "profile",
                        *(g for g in GROUPINGS if g != "none"),
                        "compare_from",
                        "compare_to",
                    ],
                },
            },
        },
        "StartSession": {
            "type": "object",
            "properties": {
                "identity": {
                    "type": "string",
                    "description": "A signed citizen identity from the agency's portal (optional).",
                },
                "language": {
                    "type": "string",
                    "description": "The language the citizen chose (ISO 639-1, one the agency "
                    "serves); the conversation starts in it unless the register says otherwise.",
                },
            },
        },
        "Session": {
            "type": "object",
            "required": ["session_id", "token"],
            "properties": {"session_id": {"type": "string"}, "token": {"type": "string"}},
        },
        "SurveyAnswer": {
            "type": "object",
            "required": ["score"],
            "properties": {
                "score": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "maximum": 5,
                    "description": "5 very satisfied ... 1 very dissatisfied; null declines.",
                }
            },
        },
        "Survey": {
            "type": "object",
            "required": ["state"],
            "properties": {
                "state": {"type": "string", "enum": ["none", "asked", "answered", "declined"]},
                "language": {"type": "string"},
                "question": {"type": "string"},
                "options": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["score", "label"],
                        "properties": {
                            "score": {"type": "integer", "minimum": 1, "maximum": 5},
                            "label": {"type": "string"},
                        },
                    },
                },
                "decline": {"type": "string"},
                "thanks": {"type": "string"},
                "score": {"type": "integer", "minimum": 1, "maximum": 5},
            },
        },
        "NewMessage": {
            "type": "object",
            "required": ["text"],
            "properties": {
                "text": {"type": "string", "minLength": 1, "maxLength": 2000},
                "client_id": {
                    "type": "string",
                    "description": "Makes a resent message count once.",
                },
            },
        },
        "Message": {
            "type": "object",
            "required": ["id", "author", "text", "at"],
            "properties": {
                "id": {"type": "integer"},
                "author": {"type": "string", "enum": ["citizen", "bot", "agent", "system"]},
                "text": {"type": "string"},
                "at": {"type": "string", "format": "date-time"},
            },
        },
        "Messages": {
            "type": "object",
            "required": ["messages", "state"],
            "properties": {
                "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
                "state": {"type": "string", "enum": ["bot", "queued", "assigned", "closed"]},
                "language": {
                    "type": ["string", "null"],
                    "description": "The conversation's language (ISO 639-1) once kanal knows it.",
                },
            },
        },
        "WidgetTexts": {
            "type": "object",
            "required": ["language", "texts"],
            "properties": {
                "language": {"type": "string"},
                "texts": {
                    "type": "object",
                    "description": "Each English message id of the widget and its translation.",
                    "additionalProperties": {"type": "string"},
                },
            },
        },
        "ChannelShiftRow": {
            "type": "object",
            "required": list(row_fields),
            "properties": row_fields,
        },
        "ChannelShift": {
            "type": "object",
            "required": ["window", "definitions", "rows"],
            "properties": {
                "window": {
                    "type": "object",
                    "properties": {
                        "from": {"type": "string", "format": "date"},
                        "to": {"type": "string", "format": "date"},
                        "timezone": {"type": "string"},
                        "start": {"type": "string", "format": "date-time"},
                        "end": {
                            "type": "string",
                            "format": "date-time",
                            "description": "Exclusive.",
                        },
                        "repeat_window_days": {"type": "integer"},
                        "followup_window_hours": {
                            "type": "number",
                            "description": "The deflection follow-up window.",
                        },
                        "short_abandon_seconds": {
                            "type": "integer",
                            "description": "Abandons shorter than this are excluded.",
                        },
                        "final_after": {"type": "string", "format": "date-time"},
                        "provisional": {
                            "type": "boolean",
                            "description": "Containment, completed deflections, callbacks "
                            "and abandonment may still change.",
                        },
                        "group_by": {"type": "string", "enum": list(GROUPINGS)},
                        "service_level_seconds": {"type": "integer"},
                        "source": {
                            "type": "string",
                            "enum": ["rollup", "events"],
                            "description": "rollup: read from the daily rollup the scheduler "
                            "keeps (as of `as_of`); events: computed from the events at once.",
                        },
                        "as_of": {"type": ["string", "null"], "format": "date-time"},
                        "costs": {"type": "object", "additionalProperties": {"type": "number"}},
                        "filters": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        },
                    },
                },
                "migration": {
                    "type": "object",
                    "description": "Citizens seen in both periods: their main channel in the "
                    "earlier period (rows) against the window's (columns).",
                    "properties": {
                        "from_period": {"type": "object"},
                        "to_period": {"type": "object"},
                        "citizens": {"type": "integer", "minimum": 0},
                        "matrix": {
                            "type": "object",
                            "additionalProperties": {
                                "type": "object",
                                "additionalProperties": {"type": "integer", "minimum": 0},
                            },
                        },
                    },
                },
                "definitions": {"type": "object", "additionalProperties": {"type": "string"}},
                "rows": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/ChannelShiftRow"},
                },
                "total": {"$ref": "#/components/schemas/ChannelShiftRow"},
            },
        },
        "TwilioInboundSms": {
            "type": "object",
            "required": ["MessageSid", "From"],
            "properties": {
                name: {"type": "string"}
                for name in (
                    "MessageSid",
                    "AccountSid",
                    "From",
                    "To",
                    "Body",
                    "NumSegments",
                    "NumMedia",
                )
            },
        },
        "TwilioVoice": {
            "type": "object",
            "required": ["CallSid"],
            "properties": {
                name: {"type": "string"}
                for name in (
                    "CallSid",
                    "AccountSid",
                    "From",
                    "To",
                    "CallStatus",
                    "Direction",
                    "SpeechResult",
                    "Confidence",
                    "Digits",
                    "QueueResult",
                    "QueueTime",
                    "QueuePosition",
                    "CallDuration",
                )
            },
        },
        "TwilioStatus": {
            "type": "object",
            "required": ["MessageSid", "MessageStatus"],
            "properties": {
                "MessageSid": {"type": "string"},
                "MessageStatus": {
                    "type": "string",
                    "examples": [
                        "queued",
                        "sending",
                        "sent",
                        "delivered",
                        "undelivered",
                        "failed",
                        "read",
                    ],
                },
                "ErrorCode": {"type": "string"},
            },
        },
        "FieldError": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string"},
                "field": {"type": "string", "enum": ["citizen", "contact_id", "need"]},
            },
        },
        "DigitalCompletion": {
            "type": "object",
            "required": ["need"],
            "additionalProperties": False,
            "properties": {
                "citizen": {
                    "type": "string",
                    "maxLength": 40,
                    "description": "The citizen's pseudonymous id (as in kanal's events).",
                },
                "contact_id": _ID,
                "need": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"},
            },
            "anyOf": [{"required": ["citizen"]}, {"required": ["contact_id"]}],
        },
        "DigitalCompletionRecorded": {
            "type": "object",
            "properties": {
                "recorded": {"const": True},
                "citizen": {"type": ["string", "null"]},
                "need": {"type": "string"},
                "followups_closed": {"type": "integer", "minimum": 0},
            },
        },
        "TwilioCallStatus": {
            "type": "object",
            "required": ["CallSid", "CallStatus"],
            "properties": {
                "CallSid": {"type": "string"},
                "CallStatus": {
                    "type": "string",
                    "examples": [
                        "initiated",
                        "ringing",
                        "in-progress",
                        "completed",
                        "busy",
                        "no-answer",
                        "failed",
                        "canceled",
                    ],
                },
                "From": {"type": "string"},
                "To": {"type": "string"},
                "Direction": {"type": "string", "examples": ["outbound-api"]},
                "AccountSid": {"type": "string"},
            },
        },
        "Readiness": {
            "type": "object",
            "required": ["status", "checks"],
            "properties": {
                "status": {"type": "string", "enum": ["ready", "unavailable"]},
                "checks": {"type": "object"},
                "degraded": {"type": "string"},
            },
        },
    }


def _simulation() -> dict:
    number = {"type": ["number", "null"]}
    figures = {
        "type": "object",
        "required": ["contacts", "digital_take_up", "agent_hours", "service_level", "cost"],
        "properties": {
            "contacts": {"type": "integer"},
            "digital_take_up": number,
            "assisted": {"type": "number"},
            "agent_hours": {"type": "number"},
            "service_level": number,
            "average_speed_of_answer_seconds": number,
            "cost": {"type": "number"},
        },
    }
    return {
        "type": "object",
        "required": ["window", "profile", "contacts", "recorded", "projected", "assumptions"],
        "properties": {
            "window": {"type": "object"},
            "profile": {"type": "string"},
            "contacts": {"type": "integer"},
            "not_replayable": {"type": "integer"},
            "contacts_rerouted": {"type": "integer"},
            "decisions": {"type": "object"},
            "recorded": figures,
            "projected": figures,
            "difference": {"type": "object"},
            "fairness": {"type": "object"},
            "flags": {"type": "array", "items": {"type": "string"}},
            "observed_rates": {"type": "object"},
            "defaults_used": {"type": "array", "items": {"type": "string"}},
            "assumptions": {"type": "array", "items": {"type": "string"}},
        },
    }


def openapi_path(rule: str) -> str:
    """Return a Flask URL rule in OpenAPI's spelling: `<int:x>` becomes `{x}`."""
    return _RULE_ARG.sub(r"{\1}", rule)


def served_paths(app) -> set[str]:
    """Return the paths of every URL rule the app serves, in OpenAPI's spelling."""
    return {openapi_path(rule.rule) for rule in app.url_map.iter_rules()}


def document(app) -> dict:
    """Return the OpenAPI document for the paths this app serves."""
    served = served_paths(app)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kanal",
            "version": "1",
            "description": "Omnichannel contact centre and digital-first channel router. "
            "Web chat for citizens' widgets, Twilio webhooks, channel-shift statistics for "
            "managers, and health checks.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": app.config.get("KANAL_PUBLIC_URL", "/")}],
        "paths": {path: item for path, item in PATHS.items() if path in served},
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "chatSession": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The token answered when the session opened.",
                },
                "apiToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A staff API token: `kanal tokens create NAME --user U`.",
                },
                "twilioSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Twilio-Signature",
                    "description": "HMAC-SHA1 of the public URL and the POST "
                    "parameters with the Twilio auth token.",
                },
            },
        },
    }
