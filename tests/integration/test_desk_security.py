"""The desk as an attacker sees it: headers, cookies, sign-in limits and CSRF, on both databases."""

from __future__ import annotations

import re

import pytest

from router import create_app
from router.entrypoints.bootstrap import kanal_of

pytestmark = pytest.mark.integration

PASSWORD = "correct horse"


def test_every_kind_of_page_says_it_may_not_be_framed_sniffed_or_run_inline_script(client):
    for path in ("/login", "/desk/", "/chat", "/healthz", "/api/v1/openapi.json"):
        headers = client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy, path
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "same-origin", path
    # The Twilio webhooks answer with the same headers (a forged one is refused as before).
    forged = client.post("/twilio/sms", data={"From": "+4512345678", "Body": "hi"})
    assert forged.status_code == 403
    assert forged.headers["X-Content-Type-Options"] == "nosniff"


def test_no_template_runs_inline_script():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    templates = [p for p in root.glob("**/templates/**/*.html") if ".venv" not in p.parts]
    assert templates
    for template in templates:
        html = template.read_text()
        scripts = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)
        assert not scripts, f"{template}: inline script"
        assert not re.search(r"\son[a-z]+\s*=", html), f"{template}: inline event handler"
        assert "style=" not in html, f"{template}: inline style"


def test_the_session_cookie_is_httponly_and_samesite(app, staff):
    staff("agent1", "agent")
    response = app.test_client().post("/login", data={"username": "agent1", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development runs on plain http://127.0.0.1


def test_in_production_the_session_cookie_is_secure_and_https_is_pinned(app_config, bot):
    config = {
        **app_config,
        "KANAL_ENV": "production",
        "SECRET_KEY": "a-production-secret-of-our-own",
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "real-token",
        "KANAL_TWILIO_SANDBOX": False,
    }
    app = create_app(config, bot=bot)
    try:
        from router.entrypoints.auth import create_user

        create_user(kanal_of(app).uow, "agent1", PASSWORD, "agent")
        client = app.test_client()
        response = client.post("/login", data={"username": "agent1", "password": PASSWORD})
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "max-age=" in response.headers["Strict-Transport-Security"]
    finally:
        kanal_of(app).close()


def test_thirty_wrong_passwords_lock_the_account_from_that_address_only(app, staff):
    staff("agent1", "agent")
    attacker = app.test_client()
    answers = [
        attacker.post(
            "/login",
            data={"username": "agent1", "password": f"guess {n}"},
            environ_base={"REMOTE_ADDR": "203.0.113.9"},
        )
        for n in range(30)
    ]
    codes = [a.status_code for a in answers]
    assert codes[:5] == [401] * 5
    assert set(codes[5:]) == {429}, codes
    locked = answers[5]
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert "Try again in" in locked.get_data(as_text=True)
    # Even the right password is refused from the attacker's address while it is locked…
    again = attacker.post(
        "/login",
        data={"username": "agent1", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert again.status_code == 429
    # …but the real agent, at their own desk, signs in.
    agent = app.test_client()
    ok = agent.post(
        "/login",
        data={"username": "agent1", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.7"},
    )
    assert ok.status_code == 302


def test_every_form_of_the_desk_and_sign_in_refuses_a_post_without_its_csrf_token(app_config, bot):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True}, bot=bot)
    try:
        from router.entrypoints.auth import create_user

        create_user(kanal_of(app).uow, "agent1", PASSWORD, "agent")
        forms = [
            rule
            for rule in app.url_map.iter_rules()
            if "POST" in rule.methods and rule.endpoint.split(".")[0] in ("desk", "auth")
        ]
        assert len(forms) >= 10
        stranger = app.test_client()
        signin = stranger.post("/login", data={"username": "agent1", "password": PASSWORD})
        assert signin.status_code == 400  # no token: not even the password is looked at
        desk = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', desk.get("/login").text)[1]
        signed = desk.post(
            "/login", data={"username": "agent1", "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 302
        for rule in forms:
            values = {name: 1 for name in rule.arguments}
            url = rule.build(values, append_unknown=False)[1]
            assert desk.post(url, data={"text": "hi"}).status_code == 400, rule.rule
    finally:
        kanal_of(app).close()


def test_every_post_form_in_the_templates_carries_the_csrf_token():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for template in root.glob("**/templates/**/*.html"):
        if ".venv" in template.parts:
            continue
        html = template.read_text()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, re.S | re.I):
            if re.search(r'method="post"', form, re.I):
                assert "csrf_token()" in form, f"{template}: a form without its CSRF token"


def test_the_sign_in_limits_are_looked_up_for_sign_in_only(app, staff, monkeypatch):
    """Flask-Limiter's hooks run for the sign-in pages, not for every request of the app
    (the limits above still hold: they run there)."""
    from flask_limiter import Limiter

    looked_up = []
    identify = Limiter.identify_request
    monkeypatch.setattr(
        Limiter, "identify_request", lambda self: looked_up.append(1) or identify(self)
    )
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code in (200, 302)
    assert looked_up == []
    staff("agent2", "agent")
    answer = client.post("/login", data={"username": "agent2", "password": "wrong"})
    assert answer.status_code == 401 and looked_up


def test_a_page_session_alone_cannot_act_through_the_api_so_a_forged_form_cannot(app_config, bot):
    """The API takes no CSRF token: a signed-in agent's cookie, which a form on another site
    could make the browser send, must not claim work, set presence or report completions
    there. Reading the figures with the page session (the dashboard) still works."""
    from router.entrypoints.auth import create_user
    from tests.integration.test_desk import queued_chat

    app = create_app({**app_config, "WTF_CSRF_ENABLED": True}, bot=bot)
    try:
        kanal = kanal_of(app)
        contact = queued_chat(app.test_client(), kanal)
        clients = {}
        for username, role in (("agent1", "agent"), ("admin1", "admin"), ("boss", "manager")):
            create_user(kanal.uow, username, PASSWORD, role)
            browser = app.test_client()
            token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text)[1]
            signed = browser.post(
                "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
            )
            assert signed.status_code == 302
            clients[role] = browser
        forged = [
            ("/api/v1/desk/claim", {"data": "", "content_type": "text/plain"}),
            ("/api/v1/desk/claim", {"json": {}}),
            ("/api/v1/desk/presence", {"json": {"status": "available"}}),
            (f"/api/v1/desk/conversations/{contact}/messages", {"json": {"text": "hi"}}),
            (
                "/api/v1/events/digital-completion",
                {"json": {"contact_id": contact, "need": "pension"}},
            ),
        ]
        for role in ("agent", "admin"):
            for path, body in forged:
                answer = clients[role].post(path, **body)
                assert answer.status_code == 401, (role, path, answer.status_code)
                assert "Authorization: Bearer" in answer.get_json()["error"]
        assert kanal.views.contact(contact).state == "queued"
        assert kanal.views.contact(contact).agent_id is None
        assert [m.author for m in kanal.views.messages(contact)].count("agent") == 0
        with kanal.uow() as uow:
            agent = uow.users.by_username("agent1")
        assert kanal.assignments.presence(agent.id).state == "offline"
        figures = clients["manager"].get(
            "/api/v1/metrics/channel-shift?from=2026-01-01&to=2026-01-31"
        )
        assert figures.status_code == 200, figures.get_data(as_text=True)
    finally:
        kanal_of(app).close()


@pytest.mark.parametrize("username", ["agent1\x00", "\x00", "a\x00gent1"])
def test_a_username_with_a_nul_character_is_a_wrong_sign_in_not_a_server_error(
    app, staff, username
):
    """PostgreSQL's text cannot hold NUL, and no username does: a stranger's form with one is
    answered as any wrong username, on both databases."""
    staff("agent1", "agent")
    answer = app.test_client().post("/login", data={"username": username, "password": PASSWORD})
    assert answer.status_code == 401
    assert "Wrong username or password." in answer.get_data(as_text=True)
