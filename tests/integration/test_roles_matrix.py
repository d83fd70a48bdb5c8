"""The roles matrix's last columns, on both databases: every desk API route role by role (the
role's guard, before any rule about one conversation), and `kanal audit export` role by role.
The desk's pages, the supervisor board, the dashboard and the metrics API are in
tests/integration/test_desk_access.py (`test_the_roles_matrix_as_tested`)."""

from __future__ import annotations

import pytest

from router.entrypoints.auth import create_token, create_user
from tests.integration.test_desk import queued_chat
from tests.integration.test_desk_access import _export

pytestmark = pytest.mark.integration

ROLES = ("agent", "supervisor", "manager", "admin", "integration")
DESK = frozenset({"agent", "supervisor", "admin"})


def desk_api_routes(contact: int) -> list[tuple[str, dict]]:
    conversation = f"/api/v1/desk/conversations/{contact}"
    return [
        ("/api/v1/desk/claim", {}),
        (f"{conversation}/messages", {"text": "hello"}),
        (f"{conversation}/transfer", {"queue": "general", "note": "for you"}),
        (f"{conversation}/resolve", {"wrap_up": "answered", "outcome": "resolved"}),
        ("/api/v1/desk/presence", {"status": "away"}),
        (f"{conversation}/call-back", {}),
    ]


def outcome(answer) -> str:
    """refused: no token (401) or the role's guard (403 naming the role); allowed: past it,
    whatever the desk then says of the conversation (200, 204, 403 not holding it, 409)."""
    if answer.status_code == 401:
        return "refused"
    if answer.status_code == 403 and "needs the role" in answer.get_json().get("error", ""):
        return "refused"
    assert answer.status_code < 500, answer.get_data(as_text=True)
    return "allowed"


def test_every_desk_api_route_role_by_role(client, kanal):
    contact = queued_chat(client, kanal)
    headers = {}
    for role in ROLES:
        create_user(kanal.uow, f"{role}1", "correct horse", role)
        headers[role] = {"Authorization": f"Bearer {create_token(kanal.uow, role, f'{role}1')}"}
    for path, body in desk_api_routes(contact):
        assert outcome(client.post(path, json=body)) == "refused", path  # no token
        for role in ROLES:
            got = outcome(client.post(path, json=body, headers=headers[role]))
            assert got == ("allowed" if role in DESK else "refused"), (path, role)


def test_only_an_integration_or_an_admin_reports_a_completion_and_only_with_a_token(
    app, client, kanal
):
    """The partner's route role by role with tokens; a page session, whatever its role, is
    not a token (the API takes no CSRF token)."""
    contact = queued_chat(client, kanal)
    path, body = "/api/v1/events/digital-completion", {"contact_id": contact, "need": "pension"}
    assert outcome(client.post(path, json=body)) == "refused"
    for role in ROLES:
        create_user(kanal.uow, f"{role}1", "correct horse", role)
        token = {"Authorization": f"Bearer {create_token(kanal.uow, role, f'{role}1')}"}
        got = outcome(client.post(path, json=body, headers=token))
        assert got == ("allowed" if role in ("integration", "admin") else "refused"), role
        browser = app.test_client()
        signed = browser.post("/login", data={"username": f"{role}1", "password": "correct horse"})
        assert signed.status_code == 302
        assert browser.post(path, json=body).status_code == 401, role


def test_only_an_admin_exports_the_audit_log(kanal, database_url, tmp_path):
    for role in ("agent", "supervisor", "manager", "admin"):
        create_user(kanal.uow, f"{role}1", "correct horse", role)
        done = _export(database_url, tmp_path, "--admin", f"{role}1")
        if role == "admin":
            assert done.exit_code == 0, done.output
        else:
            assert done.exit_code != 0 and "only an admin" in done.output, (role, done.output)
