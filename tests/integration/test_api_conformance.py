"""Schemathesis with every check and every phase says the API document tells the truth.

This is what `st run --checks all` does against `make run` (docs/api.md): the examples, the
coverage phase (edges of each schema), fuzzing and the stateful phase, which follows the
document's links from a new chat session to its messages and survey, with its token. Every
check is on: no server error, status codes, content types, headers and bodies as documented,
valid data accepted, invalid data refused, a missing credential refused, unsupported methods
answered 405 with `Allow`. Bounded: a few examples per operation, a fixed seed, over HTTP to
the app served in a thread (gunicorn's own 414 for request lines over 8,190 bytes is the one
answer kanal cannot make JSON; docs/api.md says so). On SQLite; the fuzz tests
(test_api_fuzz.py) cover both databases.
"""

from __future__ import annotations

import threading
import time

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from werkzeug.serving import make_server

from channels import webchat_stream
from router.entrypoints.auth import create_token, create_user

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 6
# Rules no JSON Schema states, which the document says in words: `from` not after `to` and
# days that exist (the metrics), an identity signed by this agency and a language it serves
# (a new chat session). Schema-valid requests that break them are refused 400, saying why.
CROSS_FIELD = {
    "positive_data_acceptance": {
        "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]
    }
}
STATEFUL_STEPS = 12


def _config(manager: str, integration: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": 17,
            "max-failures": 50,
            "suppress-health-check": ["all"],
            "checks": {"enabled": True},
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
            "phases": {"stateful": {"max-steps": STATEFUL_STEPS, "checks": CROSS_FIELD}},
            # The call flow's steps share one view and one operation's shape: `heard` speaks
            # for them (test_api_fuzz.py fuzzes them all).
            "operations": [
                {"include-path-regex": "^/twilio/voice/(language|more|offer|rating|pending|"
                 "wait|wait-choice|queued|connecting|status)$", "enabled": False},
                {"include-path-regex": "^/api/v1/(metrics/|simulate)",
                 "headers": {"Authorization": f"Bearer {manager}"}, "checks": CROSS_FIELD},
                {"include-path-regex": "^/api/v1/events/",
                 "headers": {"Authorization": f"Bearer {integration}"}},
                {"include-path-regex": "^/api/v1/chat/sessions$", "checks": CROSS_FIELD},
                # The stateful phase reaches a session through the links, which also carry its
                # token: the check that swaps the credential for a wrong one cannot, as the
                # link puts it back (test_webchat.py refuses wrong tokens).
                {"include-path-regex": "^/api/v1/chat/sessions/",
                 "checks": {"ignored_auth": {"enabled": False}}},
                # Unsigned, Twilio's webhooks answer 403 whatever the form holds: the
                # coverage phase's edge cases add nothing there (test_api_fuzz.py has them).
                {"include-path-regex": "^/twilio/", "phases": {"coverage": {"enabled": False}}},
            ],
        }
    )  # fmt: skip


@pytest.mark.timeout(600)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_check_and_phase_of_schemathesis_passes(app, kanal, monkeypatch):
    monkeypatch.setattr(webchat_stream, "STREAM_SECONDS", 0)
    create_user(kanal.uow, "conf-manager", "correct horse", "manager")
    manager = create_token(kanal.uow, "conf", "conf-manager")
    create_user(kanal.uow, "conf-portal", "correct horse", "integration")
    integration = create_token(kanal.uow, "conf-portal", "conf-portal")
    config = _config(manager, integration)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    config.projects.override.update(base_url=base)
    try:
        _run(schemathesis.openapi.from_url(base + "/api/v1/openapi.json", config=config))
    finally:
        server.shutdown()


def _run(schema) -> None:
    failures, phases, cases, linked = [], {}, 0, []
    started = time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseFinished):
            phases[event.phase.name.value] = (event.status, round(time.monotonic() - started))
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            cases += len(event.recorder.cases)
            if getattr(event, "phase", None) is not None and event.phase.value == "stateful":
                for case_id, node in event.recorder.cases.items():
                    answer = event.recorder.interactions.get(case_id)
                    path = node.value.operation.path
                    if node.transition is not None and answer and answer.response:
                        linked.append((path, answer.response.status_code))
            for checks in event.recorder.checks.values():
                failures += [
                    f"{event.recorder.label}: {c.name}: {c.failure_info.failure.title}: "
                    + (getattr(c.failure_info.failure, "message", "") or "")[:300]
                    for c in checks
                    if c.status == Status.FAILURE and c.failure_info is not None
                ]
        if isinstance(event, events.FatalError | events.NonFatalError):
            failures.append(f"error: {event.info.message if hasattr(event, 'info') else event}")
    print(f"schemathesis: {cases} cases, phases {phases}")
    assert not failures, "\n".join(sorted(set(failures)))
    assert set(phases) >= {"examples", "coverage", "fuzzing", "stateful"}, phases
    assert cases > 500
    # The links led the stateful phase to real chat sessions, with their tokens.
    assert ("/api/v1/chat/sessions/{session_id}/messages", 200) in linked, sorted(set(linked))
