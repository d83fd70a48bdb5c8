"""Demo data for `make run`: staff who can sign in, citizens one can chat or text as."""

import phonenumbers
import pytest

from router.entrypoints.demo import DEMO_CITIZENS, demo_identities, seed_demo

pytestmark = pytest.mark.integration


def test_seed_adds_one_user_per_role_and_three_demo_citizens(app, kanal):
    lines = seed_demo(kanal.uow, app.config["SECRET_KEY"])

    with kanal.uow() as uow:
        assert {
            uow.users.by_username(r).role for r in ("agent", "supervisor", "manager", "admin")
        } == {
            "agent",
            "supervisor",
            "manager",
            "admin",
        }
        assert uow.citizens.count() == 3
        exempt = [d for d in DEMO_CITIZENS if d.ground]
        non_exempt = [d for d in DEMO_CITIZENS if not d.ground]
        assert any(d.ground == "impairment" for d in exempt) and non_exempt
        for demo in DEMO_CITIZENS:
            citizen = uow.citizens.by_phone(demo.phone)
            held = uow.citizens.exemptions(citizen.id)
            assert [e.ground for e in held] == ([demo.ground] if demo.ground else [])
    assert all(any(d.phone in line for line in lines) for d in DEMO_CITIZENS)


def test_demo_phone_numbers_are_valid_danish_numbers():
    # The SMS simulator and a register import accept only numbers that could exist.
    for demo in DEMO_CITIZENS:
        number = phonenumbers.parse(demo.phone)
        assert phonenumbers.is_valid_number(number), demo.phone
        kind = phonenumbers.number_type(number)
        # Danish numbering does not tell mobile from fixed lines apart.
        assert kind == phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE


def test_seed_changes_nothing_when_someone_already_uses_the_database(app, kanal, staff):
    staff("mette", "agent")

    lines = seed_demo(kanal.uow, app.config["SECRET_KEY"])

    assert lines and "no demo data added" in lines[0]
    with kanal.uow() as uow:
        assert uow.users.count() == 1
        assert uow.citizens.count() == 0


def test_demo_identities_sign_in_the_demo_citizens_on_the_chat(app, client, kanal):
    assert (
        demo_identities(kanal.uow, app.config["SECRET_KEY"]) == []
    )  # nothing seeded, nothing offered
    seed_demo(kanal.uow, app.config["SECRET_KEY"])

    identities = demo_identities(kanal.uow, app.config["SECRET_KEY"])

    assert len(identities) == 3
    inge = next(i for i in identities if "impairment" in i["label"])
    started = client.post("/api/v1/chat/sessions", json={"identity": inge["identity"]})
    assert started.status_code == 201
    session = started.get_json()
    answer = client.post(
        f"/api/v1/chat/sessions/{session['session_id']}/messages",
        json={"text": "hello"},
        headers={"Authorization": f"Bearer {session['token']}"},
    )
    assert answer.get_json()["state"] == "queued"  # exempt: straight to a person (denmark)


def test_a_forged_demo_identity_is_refused(app, client, kanal):
    seed_demo(kanal.uow, app.config["SECRET_KEY"])
    identity = demo_identities(kanal.uow, app.config["SECRET_KEY"])[0]["identity"]
    forged = identity[:-1] + ("0" if identity[-1] != "0" else "1")

    assert client.post("/api/v1/chat/sessions", json={"identity": forged}).status_code == 400
