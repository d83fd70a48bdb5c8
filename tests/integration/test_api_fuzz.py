"""Schemathesis fuzzes every operation of the OpenAPI document the app serves.

The document is read from the app itself (/api/v1/openapi.json) and the requests go to the
Flask app through WSGI. Each operation gets bounded, derandomized examples, schema-conforming
(positive) and schema-violating (negative) ones, with a valid manager token and a live chat
session, so the fuzzing reaches the real handlers. No answer may be a server error, and every
documented answer must match its schema.

On SQLite and PostgreSQL (PostgreSQL refuses NUL characters in text, SQLite does not).
"""

from __future__ import annotations

import hashlib

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from channels import webchat_stream
from router.entrypoints.auth import create_token, create_user
from tests.fakes import RecordingCaller

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def schema(app, monkeypatch):
    # A stream otherwise stays open for a minute; one pass of its loop is enough here.
    monkeypatch.setattr(webchat_stream, "STREAM_SECONDS", 0)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def credentials(app, kanal, add_citizen):
    """Return a manager's, an integration's and an agent's API tokens, a live chat session
    with its token, and a registered citizen's pseudonym."""
    create_user(kanal.uow, "fuzz-manager", "correct horse", "manager")
    manager = create_token(kanal.uow, "fuzz", "fuzz-manager")
    create_user(kanal.uow, "fuzz-portal", "correct horse", "integration")
    integration = create_token(kanal.uow, "fuzz-portal", "fuzz-portal")
    opened = app.test_client().post("/api/v1/chat/sessions")
    assert opened.status_code == 201
    citizen = add_citizen("+4520009999")
    # A conversation that has ended, asked the satisfaction question: its survey is fuzzed.
    ended = app.test_client().post("/api/v1/chat/sessions").get_json()
    auth = {"Authorization": f"Bearer {ended['token']}"}
    url = f"/api/v1/chat/sessions/{ended['session_id']}"
    app.test_client().post(url + "/messages", json={"text": "bye"}, headers=auth)
    assert app.test_client().get(url + "/survey", headers=auth).get_json()["state"] == "asked"
    create_user(kanal.uow, "fuzz-agent", "correct horse", "agent")
    agent = create_token(kanal.uow, "fuzz-agent", "fuzz-agent")
    with kanal.uow() as uow:
        agent_id = uow.users.by_username("fuzz-agent").id
    found = {"manager": manager, "integration": integration, "citizen": citizen,
             "ended": ended, "agent": agent, "agent_id": agent_id,
             **opened.get_json()}  # fmt: skip
    # The desk API's conversation routes: a contact the agent holds (claimed anew when the
    # last was transferred or resolved).
    found["held_contact"] = lambda: _held_contact(app, kanal, found)
    # The call-back route: a callback waits on the held contact, placed by a recording caller.
    kanal.dialling.dialler.caller = RecordingCaller()
    found["callback_on"] = lambda contact: kanal.callbacks.book(contact, reason="asked")
    return found


def _held_contact(app, kanal, credentials) -> int:
    """Return a contact the fuzzing agent holds: the last one, or a new chat they claim."""
    held = credentials.get("held")
    if held is not None:
        contact = kanal.views.contact(held)
        if contact.state == "assigned" and contact.agent_id == credentials["agent_id"]:
            return held
    client = app.test_client()
    opened = client.post("/api/v1/chat/sessions").get_json()
    auth = {"Authorization": f"Bearer {opened['token']}"}
    url = f"/api/v1/chat/sessions/{opened['session_id']}/messages"
    client.post(url, json={"text": "I want a person"}, headers=auth)
    claimed = kanal.assignments.claim(credentials["agent_id"])
    credentials["held"] = claimed.contact_id
    return claimed.contact_id


def _operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


def _prepare(case, credentials) -> dict:
    """Point the case at the live session (mostly) and return the headers it needs."""
    path = case.operation.path
    if "{session_id}" in path:
        session = credentials["ended"] if path.endswith("/survey") else credentials
        generated = str(case.path_parameters.get("session_id", ""))
        # One case in four keeps its generated (unknown, odd) session id: 404 or 401.
        if hashlib.sha256(generated.encode("utf-8", "replace")).digest()[0] % 4:
            case.path_parameters["session_id"] = session["session_id"]
        return {"Authorization": f"Bearer {session['token']}"}
    if "{language}" in path:
        generated = str(case.path_parameters.get("language", ""))
        # One case in four keeps its generated language (one the agency does not serve: 404).
        if hashlib.sha256(generated.encode("utf-8", "replace")).digest()[0] % 4:
            case.path_parameters["language"] = "da"
        return {}
    if path.startswith("/api/v1/metrics/") or path == "/api/v1/simulate":
        return {"Authorization": f"Bearer {credentials['manager']}"}
    if path.startswith("/api/v1/desk/"):
        if "{id}" in path:
            generated = str(case.path_parameters.get("id", ""))
            # One case in four keeps its generated contact id (someone else's, or none).
            if hashlib.sha256(generated.encode("utf-8", "replace")).digest()[0] % 4:
                case.path_parameters["id"] = credentials["held_contact"]()
                if path.endswith("/call-back"):
                    credentials["callback_on"](case.path_parameters["id"])
            body = case.body
            # Three transfers in four name a queue kanal has.
            transfer = path.endswith("/transfer") and isinstance(body, dict) and "queue" in body
            if transfer and hashlib.sha256(repr(body).encode()).digest()[0] % 4:
                body["queue"] = "housing"
        return {"Authorization": f"Bearer {credentials['agent']}"}
    if path.startswith("/api/v1/events/"):
        body = case.body
        # Three cases in four name a citizen kanal knows, so valid ones are recorded.
        if isinstance(body, dict) and hashlib.sha256(repr(body).encode()).digest()[0] % 4:
            body.pop("contact_id", None)
            body["citizen"] = credentials["citizen"]
        return {"Authorization": f"Bearer {credentials['integration']}"}
    return {}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_operation_answers_a_server_error_or_breaks_its_schema(schema, credentials, mode):
    failures = []
    seen: dict[str, set[int]] = {}
    operations = _operations(schema)
    assert {op.path for op in operations} >= {
        "/api/v1/chat/sessions",
        "/api/v1/chat/sessions/{session_id}/messages",
        "/api/v1/metrics/channel-shift",
        "/twilio/sms",
        "/twilio/sms/status",
    }
    for operation in operations:

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case):
            headers = _prepare(case, credentials)
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            name = f"{case.operation.method.upper()} {case.operation.path}"
            seen.setdefault(name, set()).add(response.status_code)

        try:
            fuzz()
        except Unsatisfiable:
            # Nothing to get wrong: no parameters and no body (the health checks).
            assert mode == GenerationMode.NEGATIVE, operation.path
        except Exception as exc:  # collect every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
    if mode == GenerationMode.POSITIVE:
        # The credentials work: valid requests reach the handlers (Twilio's need a signature).
        unreached = [op for op, codes in seen.items() if not any(200 <= c < 300 for c in codes)]
        signed = sorted(op for op in seen if op.startswith("POST /twilio/"))
        assert {"POST /twilio/sms", "POST /twilio/voice"} <= set(signed), seen
        assert sorted(unreached) == signed, seen


def test_unsigned_twilio_webhooks_are_forbidden_never_a_server_error(schema):
    paths = [op.path for op in _operations(schema) if op.path.startswith("/twilio/")]
    assert {"/twilio/sms", "/twilio/sms/status", "/twilio/voice/call-status"} <= set(paths)
    for path in paths:
        operation = schema[path]["POST"]

        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None)
        @given(case=operation.as_strategy())
        def fuzz(case):
            case.headers = {
                k: v for k, v in (case.headers or {}).items() if k.lower() != "x-twilio-signature"
            }
            response = case.call()
            assert response.status_code == 403, (response.status_code, response.text[:200])

        fuzz()
