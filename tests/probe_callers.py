"""The route probe's callers (tests/route_probe.py): two citizens with conversations in two
queues (general: A, housing: B), the staff of two teams, a manager, an integration and an
admin, each signed in and each with an API token, and what each must never be shown."""

from __future__ import annotations

from dataclasses import dataclass

from channels.webchat_session import identity_token
from router.domain.access import Viewer
from router.entrypoints.auth import create_token, create_user

PASSWORD = "correct horse"


@dataclass
class Citizen:
    name: str
    phone: str
    marker: str  # words only their conversation holds

    def traces(self) -> tuple[str, ...]:
        local = self.phone[3:]
        return (self.name, self.phone, local, f"{local[:2]} {local[2:4]} {local[4:6]} {local[6:]}")


A = Citizen("Karen Jensen", "+4512345678", "Pension question MARKERAQ")
B = Citizen("Bent Hansen", "+4587654321", "Housing question MARKERBQ")


@dataclass
class Caller:
    name: str
    client: object
    headers: dict
    # Words the caller must never be shown.
    forbidden: tuple[str, ...]


def _user(kanal, username: str, role: str) -> int:
    create_user(kanal.uow, username, PASSWORD, role)
    with kanal.uow() as uow:
        return uow.users.by_username(username).id


def setup(app, kanal, secret: str):
    """Two queued conversations (general: A, housing: B), staff and their callers."""
    from router.domain.commands import ReceiveMessage
    from tests.integration.test_desk import chat

    ids, chats = {}, {}
    for who, citizen in (("a", A), ("b", B)):
        from router.domain.citizens import pseudonym_for
        from router.domain.model import Citizen as Registered

        with kanal.uow() as uow:
            uow.citizens.add(
                Registered(
                    pseudonym=pseudonym_for(secret, citizen.phone), phone=citizen.phone,
                    name=citizen.name, birth_year=1950, language="en",
                )
            )  # fmt: skip
            uow.commit()
        identity = identity_token(secret, pseudonym_for(secret, citizen.phone))
        text = f"I want to talk to a person. {citizen.marker}"
        sid, auth, last = chat(app.test_client(), text, identity=identity)
        assert last["state"] == "queued", last
        ids[who], chats[who] = kanal.views.contact_on("webchat", sid).id, auth
        # And by SMS from the registered number: the log then holds an SMS contact too.
        kanal.turns.receive(
            ReceiveMessage("sms", citizen.phone, f"Hello. {citizen.marker}", f"SMprobe{who}")
        )
    admin = _user(kanal, "probe-admin", "admin")
    with kanal.uow() as uow:
        item_b = uow.queue.open_for_contact(ids["b"]).id
        item_a = uow.queue.open_for_contact(ids["a"]).id
    kanal.supervision.move(Viewer(admin, "probe-admin", "admin"), item_b, "housing")
    staff = {
        "agent_A": ("agent", {"skills": ["general"], "teams": ["north"]}),
        "agent_B": ("agent", {"skills": ["housing"], "teams": ["south"]}),
        "supervisor_other": ("supervisor", {"teams": ["south"]}),
        "manager": ("manager", None),
        "integration": ("integration", None),
    }
    users = {"admin": admin}
    for name, (role, profile) in staff.items():
        users[name] = _user(kanal, name, role)
        if profile:
            kanal.assignments.set_profile(users[name], **profile)
    forbidden = {
        "agent_A": B.traces() + (B.marker,),
        "agent_B": A.traces() + (A.marker,),
        "supervisor_other": A.traces() + (A.marker,),
        "manager": A.traces() + B.traces() + (A.marker, B.marker),
        "integration": A.traces() + B.traces() + (A.marker, B.marker),
        "admin": (),
    }
    everything = A.traces() + B.traces() + (A.marker, B.marker)
    callers = [
        Caller("citizen", app.test_client(), {}, everything),
        # B's chat session token on A's session's routes (and its own).
        Caller("citizen with B's chat token", app.test_client(), chats["b"],
               A.traces() + (A.marker,)),
    ]  # fmt: skip
    for name, words in forbidden.items():
        username = "probe-admin" if name == "admin" else name
        signed_in = app.test_client()
        answer = signed_in.post("/login", data={"username": username, "password": PASSWORD})
        assert answer.status_code == 302 and "/login" not in answer.location, username
        callers.append(Caller(f"{name} (session)", signed_in, {}, words))
        token = create_token(kanal.uow, "probe", username)
        header = {"Authorization": f"Bearer {token}"}
        callers.append(Caller(f"{name} (token)", app.test_client(), header, words))
    with kanal.uow() as uow:
        message_a = uow.messages.for_contact(ids["a"])[0].id
    values = {
        "contact_id": ids["a"], "id": ids["a"], "message_id": message_a, "item_id": item_a,
        "agent_id": users["agent_A"], "callback_id": 999_999, "offer_id": 999_999,
        "session_id": kanal.views.contact(ids["a"]).address, "language": "da",
    }  # fmt: skip
    # Controls: the probe sees a leak when there is one (A's own agent sees A).
    agent_a = next(c for c in callers if c.name == "agent_A (session)")
    shown = agent_a.client.get(f"/desk/contacts/{ids['a']}").get_data(as_text=True)
    assert A.marker in shown and A.name in shown, "the probe's control failed"
    return callers, values
