"""The OpenAPI document at /api/v1/openapi.json describes the public URLs the app serves."""

from __future__ import annotations

import pytest

from router.openapi import openapi_path, served_paths

pytestmark = pytest.mark.integration

# Public contract (docs/architecture.md): these prefixes must all be documented.
PUBLIC = ("/api/", "/twilio/", "/healthz", "/readyz", "/metrics")


def fetch(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(client):
    validator = pytest.importorskip("openapi_spec_validator")
    document = fetch(client)
    assert document["openapi"] == "3.1.0"
    validator.validate(document)


def test_every_public_url_the_app_serves_is_documented_with_its_methods(client, app):
    paths = fetch(client)["paths"]
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PUBLIC):
            continue
        path = openapi_path(rule.rule)
        assert path in paths, f"{rule.rule} is served but not documented"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in paths[path], f"{method} {rule.rule} is not documented"


def test_the_document_promises_no_url_the_app_does_not_serve(client, app):
    served = served_paths(app)
    assert set(fetch(client)["paths"]) <= served
    assert "/desk/" not in fetch(client)["paths"]  # the desk is a signed-in page, not the API


def test_the_chat_api_documents_its_error_answers(client):
    paths = fetch(client)["paths"]
    post = paths["/api/v1/chat/sessions/{session_id}/messages"]["post"]
    assert {"200", "400", "401", "404", "409", "413"} <= set(post["responses"])
    assert post["security"] == [{"chatSession": []}]
    assert "201" in paths["/api/v1/chat/sessions"]["post"]["responses"]


def test_the_metrics_document_their_parameters_and_refusals(client):
    get = fetch(client)["paths"]["/api/v1/metrics/channel-shift"]["get"]
    params = {p["name"]: p for p in get["parameters"]}
    assert params["from"]["required"] and params["to"]["required"]
    assert params["group_by"]["schema"]["enum"] == [
        "channel",
        "need",
        "exempt",
        "age_band",
        "language",
        "none",
    ]
    assert {"200", "400", "401", "403"} <= set(get["responses"])
    assert get["security"] == [{"apiToken": []}]


def test_the_twilio_webhooks_are_documented_as_signed(client, app):
    if "/twilio/sms" not in served_paths(app):
        pytest.skip("the SMS channel is not installed in this app")
    paths = fetch(client)["paths"]
    for path in ("/twilio/sms", "/twilio/sms/status"):
        assert paths[path]["post"]["security"] == [{"twilioSignature": []}]
        assert "403" in paths[path]["post"]["responses"]


def test_the_phone_webhooks_every_step_included_are_documented_as_signed(client, app):
    if "/twilio/voice" not in served_paths(app):
        pytest.skip("the voice channel is not installed in this app")
    paths = fetch(client)["paths"]
    voice = sorted(p for p in served_paths(app) if p.startswith("/twilio/voice"))
    assert {"/twilio/voice", "/twilio/voice/heard", "/twilio/voice/offer", "/twilio/voice/wait",
            "/twilio/voice/queued", "/twilio/voice/status"} <= set(voice)  # fmt: skip
    for path in voice:
        assert paths[path]["post"]["security"] == [{"twilioSignature": []}], path
        assert {"400", "403"} <= set(paths[path]["post"]["responses"]), path


def test_the_report_row_is_documented_from_the_dataclass_with_each_definition(client):
    from analytics.metrics import Row, definitions

    row = fetch(client)["components"]["schemas"]["ChannelShiftRow"]
    assert list(row["properties"]) == list(Row.__dataclass_fields__)
    texts = definitions()
    for name, prop in row["properties"].items():
        if name in texts:
            assert prop["description"] == texts[name], name


def test_every_operation_has_an_id_and_the_new_chat_session_links_to_its_routes(client):
    paths = fetch(client)["paths"]
    ids = {op["operationId"] for item in paths.values() for op in item.values()}
    links = paths["/api/v1/chat/sessions"]["post"]["responses"]["201"]["links"]
    assert {link["operationId"] for link in links.values()} <= ids
    assert links["PostMessage"]["parameters"] == {
        "session_id": "$response.body#/session_id",
        "header.Authorization": "Bearer {$response.body#/token}",
    }


def test_a_chat_language_may_be_null_as_documented_but_not_a_number(client):
    start = fetch(client)["components"]["schemas"]["StartSession"]["properties"]["language"]
    assert {"type": "null"} in start["anyOf"]
    assert client.post("/api/v1/chat/sessions", json={"language": None}).status_code == 201
    refused = client.post("/api/v1/chat/sessions", json={"identity": "", "language": 7})
    assert refused.status_code == 400
    assert refused.get_json()["field"] == "language"
    assert "language" in refused.get_json()["error"]
