"""`kanal users`: an administrator manages staff accounts from the command line, on SQLite and
PostgreSQL. A new password or a deactivation ends the account's sessions at once (the page
session, the desk's live token, and on deactivation its API tokens); a deactivated agent's
conversations go back to the queue for the next agent; every change is in the audit log."""

from __future__ import annotations

import pytest

from router.entrypoints.auth import create_token
from tests.integration.test_desk import PASSWORD, page, queued_chat
from tests.integration.test_desk_sign_out import page_token, sign_in, status
from tests.live_streams import StreamServer

pytestmark = pytest.mark.integration

ROOT_PASSWORD = "root's long passphrase"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def kanal_users(kanal_cli):
    """Run `kanal users ARGS...` as a shell would, on the app's database."""

    def run(*args, input=None, group="users"):
        return kanal_cli(group, *args, input=input)

    return run


@pytest.fixture
def root(kanal_users):
    """The first admin, created before any admin exists (no --admin to name)."""
    made = kanal_users("create", "root", "--role", "admin", input=ROOT_PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    return "root"


def add(kanal_users, name, role="agent", password=PASSWORD):
    return kanal_users(
        "create", name, "--role", role, "--admin", "root", "--password-stdin", input=password + "\n"
    )


def audit(kanal):
    with kanal.uow() as uow:
        return [(e.username, e.action, e.route, e.allowed) for e in uow.audit.between()]


def test_an_admin_creates_and_lists_accounts_with_no_secret_shown(kanal, kanal_users, root):
    assert add(kanal_users, "ann").exit_code == 0
    assert add(kanal_users, "sigrid", "supervisor").exit_code == 0

    listed = kanal_users("list")

    assert listed.exit_code == 0, listed.output
    rows = {line.split()[0]: line.split()[1:3] for line in listed.output.splitlines()[1:]}
    assert rows == {
        "ann": ["agent", "active"], "root": ["admin", "active"],
        "sigrid": ["supervisor", "active"],
    }  # fmt: skip
    with kanal.uow() as uow:
        hashes = [uow.users.by_username(n).password_hash for n in rows]
    assert not any(h in listed.output or h.split("$")[0] in listed.output for h in hashes)
    assert PASSWORD not in listed.output
    assert audit(kanal) == [
        ("root", "user_created", "kanal users create root --role admin", True),
        ("root", "user_created", "kanal users create ann --role agent", True),
        ("root", "user_created", "kanal users create sigrid --role supervisor", True),
    ]
    exported = kanal_users("export", "--admin", "root", group="audit")
    assert exported.exit_code == 0, exported.output
    assert ",root,admin,user_created,kanal users create ann --role agent,,,True,admin" in (
        exported.output
    )


def test_changes_need_an_active_admin_and_a_refusal_is_audited(kanal, kanal_users, root):
    add(kanal_users, "ann")

    unnamed = kanal_users("create", "bo", "--role", "agent", input=PASSWORD + "\n")
    by_agent = kanal_users("deactivate", "root", "--admin", "ann")
    last_admin = kanal_users("deactivate", "root", "--admin", "root")
    nobody = kanal_users("deactivate", "nobody", "--admin", "root")

    assert unnamed.exit_code == 1 and "--admin NAME" in unnamed.output
    assert by_agent.exit_code == 1 and "not an active admin" in by_agent.output
    assert last_admin.exit_code == 1 and "last active admin" in last_admin.output
    assert nobody.exit_code == 1 and "no user 'nobody'" in nobody.output
    with kanal.uow() as uow:
        assert uow.users.by_username("bo") is None
        assert uow.users.by_username("root").active
    assert ("ann", "user_deactivated", "kanal users deactivate root", False) in audit(kanal)


def test_the_password_rule_and_no_password_on_the_command_line(kanal_users, root):
    short = add(kanal_users, "ann", password="elevenchars")
    own_name = add(kanal_users, "annelise12345", password="AnneLise12345")
    as_option = kanal_users("create", "ann", "--role", "agent", "--admin", "root",
                            "--password", PASSWORD)  # fmt: skip

    assert short.exit_code == 1 and "at least 12 characters" in short.output
    assert own_name.exit_code == 1 and "not be the username" in own_name.output
    assert as_option.exit_code == 2 and "No such option" in as_option.output


def test_a_new_password_ends_the_accounts_sessions_at_once(app, kanal, kanal_users, root):
    add(kanal_users, "agent1")
    desk = sign_in(app)
    assert desk.get("/desk/").status_code == 200
    with StreamServer(kanal, keepalive_seconds=0.3) as streams:
        token = page_token(desk)
        assert status(f"{streams.url}/desk/live/queue", token) == 200

        changed = kanal_users("password", "agent1", "--admin", "root", input=NEW_PASSWORD + "\n")

        assert changed.exit_code == 0, changed.output
        assert status(f"{streams.url}/desk/live/queue", token) == 401
    assert desk.get("/desk/").status_code == 302  # to the sign-in page
    old = app.test_client().post("/login", data={"username": "agent1", "password": PASSWORD})
    assert old.status_code == 401
    new = app.test_client().post("/login", data={"username": "agent1", "password": NEW_PASSWORD})
    assert new.status_code == 302
    assert ("root", "user_password_set", "kanal users password agent1", True) in audit(kanal)


def test_deactivating_an_agent_ends_their_sessions_and_returns_their_conversations(
    app, client, kanal, kanal_users, root
):
    add(kanal_users, "agent1")
    add(kanal_users, "agent2")
    first, second = queued_chat(client, kanal), queued_chat(client, kanal)
    desk = sign_in(app)
    assert desk.post("/desk/claim").status_code == 302
    assert desk.post("/desk/claim").status_code == 302
    assert {e.contact_id for e in kanal.views.assigned_to(agent_id(kanal, "agent1"))} == {
        first, second,
    }  # fmt: skip
    api = {"Authorization": f"Bearer {create_token(kanal.uow, 'desk', 'agent1')}"}
    assert app.test_client().post("/api/v1/desk/claim", headers=api).status_code == 204

    done = kanal_users("deactivate", "agent1", "--admin", "root")

    assert done.exit_code == 0, done.output
    assert "1 API token(s) revoked, 2 conversation(s) back in the queue" in done.output
    assert desk.get("/desk/").status_code == 302
    assert app.test_client().post("/api/v1/desk/claim", headers=api).status_code == 401
    again = app.test_client().post("/login", data={"username": "agent1", "password": PASSWORD})
    assert again.status_code == 401
    assert kanal.assignments.presence(agent_id(kanal, "agent1")).state == "offline"
    # The next agent takes them, the one that waited first first, with the note why.
    other = sign_in(app, "agent2")
    taken = [other.post("/desk/claim").headers["Location"] for _ in range(2)]
    assert taken == [f"/desk/contacts/{first}", f"/desk/contacts/{second}"]
    note = kanal.assignments.transfers(first)[-1].note
    assert note == "agent1 was deactivated: back in the queue, in the place it had."
    assert "agent1 was deactivated" in page(other.get(f"/desk/contacts/{first}"))

    back = kanal_users("reactivate", "agent1", "--admin", "root")

    assert back.exit_code == 0, back.output
    assert app.test_client().post("/api/v1/desk/claim", headers=api).status_code == 401
    assert sign_in(app).get("/desk/").status_code == 200
    acts = [(u, a) for u, a, _r, _ok in audit(kanal) if a.startswith("user_")]
    assert acts[-2:] == [("root", "user_deactivated"), ("root", "user_reactivated")]


def agent_id(kanal, username: str) -> int:
    with kanal.uow() as uow:
        return uow.users.by_username(username).id
