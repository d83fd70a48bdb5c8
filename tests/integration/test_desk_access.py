"""Who may open what at the desk (the roles matrix), and the audit log, on both databases.

The matrix enumerates the app's URL map: a route without a line in `RULES` fails the test,
so nobody adds a page without saying who may use it.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from tests.conftest import SECRET, kanal_command
from tests.integration.test_desk import PASSWORD, chat, queued_chat

pytestmark = pytest.mark.integration

ROLES = ("anonymous", "agent", "supervisor", "manager", "admin", "integration")
DESK = frozenset({"agent", "supervisor", "admin"})
# A conversation's pages: who may open one handed to people, and one only the bot ever had.
HANDED_OVER = frozenset({"agent", "supervisor", "admin"})
BOT_ONLY = frozenset({"admin"})

# What guards each endpoint: a set of roles (a session's), or a word for the routes that
# authenticate otherwise or are public on purpose.
PUBLIC = "public"  # sign-in, health, static files, the OpenAPI document
CHAT_TOKEN = "the chat session's bearer token"
TWILIO = "Twilio's signature"
SANDBOX = "the local Twilio sandbox (refused in production)"
CONVERSATION = "the access rule of router/domain/access.py"
METRICS = frozenset({"manager", "supervisor", "admin"})  # analytics.api.MANAGERS and admin
SUPERVISORS = frozenset({"supervisor", "admin"})  # the supervisor board
# A partner's API token (integration, or admin): the API acts for a token only, never for
# a page session (tests/integration/test_roles_matrix.py holds its role matrix).
INTEGRATION_TOKEN = "an integration's API token"
# The desk API: a desk member's API token, then the same rules as the pages
# (tests/integration/test_desk_api.py holds its role × route matrix).
DESK_TOKEN = "a desk member's API token"

RULES: dict[str, object] = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    "health.healthz": PUBLIC,
    "health.readyz": PUBLIC,
    "health.metrics": PUBLIC,
    "desk.static": PUBLIC,
    "desk.queue": DESK,
    "desk.queue_json": DESK,
    "desk.claim": DESK,
    "desk.choose_language": DESK,
    "desk.conversation": CONVERSATION,
    "desk.conversation_json": CONVERSATION,
    "desk.reply": CONVERSATION,
    "desk.settle_review": CONVERSATION,
    "desk.resolve": CONVERSATION,
    "desk.add_note": CONVERSATION,
    "desk.connect_call": CONVERSATION,
    "desk.call_back_now": CONVERSATION,
    "desk.transfer": CONVERSATION,
    "desk.presence": DESK,
    "desk.accept_offer": DESK,
    "desk.decline_offer": DESK,
    "desk.supervisor": SUPERVISORS,
    "desk.supervisor_board": SUPERVISORS,
    "desk.agent_day": SUPERVISORS,
    "desk.move_item": SUPERVISORS,
    "desk.change_priority": SUPERVISORS,
    "desk_api.claim": DESK_TOKEN,
    "desk_api.reply": DESK_TOKEN,
    "desk_api.transfer": DESK_TOKEN,
    "desk_api.resolve": DESK_TOKEN,
    "desk_api.presence": DESK_TOKEN,
    "desk_api.call_back": DESK_TOKEN,
    "desk.taking_calls": DESK,
    "desk.failed_callbacks": DESK,
    # Then the access rule of the callback's conversation (tests/integration/test_desk_calls.py).
    "desk.call_again": DESK,
    "desk.close_callback": DESK,
    "analytics.channel_shift": METRICS,
    "analytics.export_csv": METRICS,
    "analytics.conversations_csv": METRICS,
    "analytics.simulate": METRICS,
    "analytics.surges": METRICS,
    "analytics.surges_csv": METRICS,
    "openapi.document": PUBLIC,
    "integration_api.digital_completion": INTEGRATION_TOKEN,
    "webchat.static": PUBLIC,
    "front_door.home": PUBLIC,
    "dashboard.static": PUBLIC,
    "dashboard.overview": METRICS,
    "dashboard.simulator": METRICS,
    "webchat.start_session": PUBLIC,
    "webchat.post_message": CHAT_TOKEN,
    "webchat.list_messages": CHAT_TOKEN,
    "webchat.stream": CHAT_TOKEN,
    "webchat.survey": CHAT_TOKEN,
    "webchat.answer_survey": CHAT_TOKEN,
    "webchat.widget_texts": PUBLIC,
    "webchat.demo_page": PUBLIC,
}
TWILIO_PREFIXES = ("sms.", "voice.", "voice_legs.")


def guard_of(endpoint: str) -> object:
    if endpoint.startswith(TWILIO_PREFIXES):
        return TWILIO
    if endpoint.startswith("sandbox."):
        return SANDBOX
    return RULES.get(endpoint)


def test_every_route_of_the_app_has_a_rule(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    without = sorted(e for e in endpoints if guard_of(e) is None)
    assert not without, f"say who may use these routes in RULES: {without}"
    stale = sorted(set(RULES) - endpoints)
    assert not stale, f"RULES names routes the app no longer has: {stale}"


def _bot_only(client, kanal) -> int:
    sid, _auth, last = chat(client, "when is my pension paid")
    assert last["state"] == "bot"
    return kanal.views.contact_on("webchat", sid).id


def _signed_in(app, staff, role: str):
    client = app.test_client()
    if role == "anonymous":
        return client
    staff(f"{role}1", role)
    answer = client.post("/login", data={"username": f"{role}1", "password": PASSWORD})
    assert answer.status_code == 302
    return client


def _url(rule, contact_id: int, message_id: int) -> str:
    values = {
        "contact_id": contact_id,
        "message_id": message_id,
        "callback_id": 999_999,
        "item_id": 999_999,
        "offer_id": 999_999,
        "agent_id": 999_999,
    }
    return rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]


def _outcome(response) -> str:
    if response.status_code in (401, 403):
        return "refused"
    if response.status_code == 302 and "/login" in (response.location or ""):
        return "refused"
    assert response.status_code < 500, response.get_data(as_text=True)
    return "allowed"


def test_the_roles_matrix_as_tested(app, client, kanal, staff):
    """role × route → allowed/refused, for every route a session's role decides."""
    handed = queued_chat(client, kanal)
    bot_only = _bot_only(client, kanal)
    message = kanal.views.messages(handed)[0].id
    clients = {role: _signed_in(app, staff, role) for role in ROLES}
    matrix: dict[tuple[str, str], str] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        guard = guard_of(rule.endpoint)
        if not isinstance(guard, frozenset) and guard != CONVERSATION:
            continue
        method = "POST" if "POST" in rule.methods else "GET"
        targets = [("handed over", handed, HANDED_OVER), ("bot only", bot_only, BOT_ONLY)]
        if guard != CONVERSATION:
            targets = [("", handed, guard)]
        for label, contact_id, allowed in targets:
            url = _url(rule, contact_id, message)
            for role in ROLES:
                answer = clients[role].open(url, method=method)
                got = _outcome(answer)
                matrix[(f"{method} {rule.rule} {label}".strip(), role)] = got
                expected = "allowed" if role in allowed else "refused"
                assert got == expected, (rule.endpoint, label, role, answer.status_code)
    # The matrix covers every conversation route for both kinds of conversation.
    assert sum(1 for (route, _role) in matrix if route.endswith("bot only")) == 9 * len(ROLES)


def test_an_agent_cannot_open_a_bot_only_conversation_and_the_attempt_is_audited(
    app, client, kanal, staff, add_citizen
):
    from channels.webchat_session import identity_token

    pseudonym = add_citizen(phone="+4512345678", name="Karen Jensen")
    sid, _auth, _last = chat(
        client, "when is my pension paid", identity=identity_token(SECRET, pseudonym)
    )
    bot_only = kanal.views.contact_on("webchat", sid).id
    desk = _signed_in(app, staff, "agent")

    page = desk.get(f"/desk/contacts/{bot_only}")
    assert page.status_code == 403
    text = page.get_data(as_text=True)
    assert "when is my pension paid" not in text
    assert "never handed to a person" in text, text[-600:]
    assert desk.get(f"/desk/contacts/{bot_only}/messages.json").status_code == 403
    replied = desk.post(f"/desk/contacts/{bot_only}/reply", data={"text": "hello"})
    assert replied.status_code == 403
    assert [m.author for m in kanal.views.messages(bot_only)].count("agent") == 0

    with kanal.uow() as uow:
        entries = uow.audit.between()
    refused = [e for e in entries if not e.allowed]
    assert [(e.action, e.contact_id, e.username, e.role) for e in refused] == [
        ("conversation", bot_only, "agent1", "agent"),
        ("conversation_json", bot_only, "agent1", "agent"),
        ("reply", bot_only, "agent1", "agent"),
    ]
    assert {e.reason for e in refused} == {"never handed to a person"}
    assert {e.citizen for e in refused} == {pseudonym}
    assert refused[0].route == f"GET /desk/contacts/{bot_only}"


def test_each_view_of_a_conversation_is_audited_with_who_what_when_and_why(
    app, client, kanal, staff
):
    handed = queued_chat(client, kanal)
    desk = _signed_in(app, staff, "agent")
    assert desk.get(f"/desk/contacts/{handed}").status_code == 200
    assert desk.get("/desk/callbacks/failed").status_code == 200
    assert desk.get(f"/desk/contacts/{handed + 1000}").status_code == 404

    with kanal.uow() as uow:
        entries = uow.audit.between()
    seen = [(e.action, e.contact_id, e.allowed, e.reason) for e in entries]
    assert seen == [
        ("conversation", handed, True, "handed to people in their queue"),
        ("failed_callbacks", None, True, "a desk role"),
        ("conversation", handed + 1000, False, "no such conversation"),
    ]
    assert all(e.at is not None and e.username == "agent1" for e in entries)


def _export(database_url, tmp_path, *args):
    return kanal_command(database_url, tmp_path / "cli")("audit", "export", *args)


def test_an_admin_exports_the_audit_log_without_phone_numbers_or_names(
    app, client, kanal, staff, add_citizen, database_url, tmp_path
):
    from channels.webchat_session import identity_token

    pseudonym = add_citizen(phone="+4587654321", name="Ole Hansen")
    handed = queued_chat(client, kanal, identity=identity_token(SECRET, pseudonym))
    bot_only = _bot_only(client, kanal)
    desk = _signed_in(app, staff, "agent")
    desk.get(f"/desk/contacts/{handed}")
    desk.get(f"/desk/contacts/{bot_only}")
    staff("auditor", "admin")

    as_csv = _export(database_url, tmp_path, "--admin", "auditor")
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["action"], r["contact_id"], r["allowed"], r["citizen"]) for r in rows] == [
        ("conversation", str(handed), "True", pseudonym),
        ("conversation", str(bot_only), "False", ""),
    ]
    assert rows[0]["username"] == "agent1" and rows[0]["role"] == "agent"
    assert re.match(r"\d{4}-\d\d-\d\dT", rows[0]["at"])
    for forbidden in ("+4587654321", "4587654321", "Ole Hansen"):
        assert forbidden not in as_csv.stdout

    as_jsonl = _export(database_url, tmp_path, "--admin", "auditor", "--format", "jsonl")
    lines = [json.loads(line) for line in as_jsonl.stdout.splitlines()]
    # The first export is itself in the log, by the admin.
    assert [line["action"] for line in lines] == ["conversation", "conversation", "audit_export"]
    assert lines[2]["username"] == "auditor" and lines[2]["allowed"] is True

    refused = _export(database_url, tmp_path, "--admin", "agent1")
    assert refused.exit_code != 0 and "only an admin" in refused.output
