"""Callbacks wait in the agency's queues as other assisted work does, on both databases: the
need's skill from the profile's `[skills]`, the queue from its `[routing]` section (by skill,
language and channel), so the agents who serve that queue are the ones who take them."""

from __future__ import annotations

import pytest

from router.domain.commands import ClaimNext, ReceiveMessage
from router.domain.model import CLOSED_BY_BOT, ContactState
from router.entrypoints.auth import create_user
from router.entrypoints.bootstrap import bootstrap
from router.policy.profile import PROFILES_DIR
from router.service import contacts
from tests.fakes import OPEN_HOURS, FakeClock, RecordingSender, ScriptedBot

pytestmark = pytest.mark.integration

ROUTING = """
[routing]
[[routing.queue]]
name = "pension-phone"
skills = ["pension"]
channels = ["voice"]

[[routing.queue]]
name = "pension-written"
skills = ["pension"]

[[routing.queue]]
name = "everything-else"
"""


@pytest.fixture
def kanal(database_url, tmp_path):
    profile = tmp_path / "agency.toml"
    denmark = (PROFILES_DIR / "denmark.toml").read_text()
    # The scripted bot names the need "payment_date": the agency files it under pensions.
    profile.write_text(denmark.replace("[skills]\n", '[skills]\npayment_date = "pension"\n', 1)
                       + ROUTING)  # fmt: skip
    kanal = bootstrap(
        {
            "KANAL_DATABASE_URL": database_url,
            "KANAL_INSTANCE_PATH": str(tmp_path),
            "KANAL_POLICY": str(profile),
            "KANAL_ALWAYS_OPEN": True,
            "KANAL_PUBLIC_URL": "http://127.0.0.1:9",
        },
        bot=ScriptedBot(),
        senders={"sms": RecordingSender()},
        clock=FakeClock(OPEN_HOURS),
        env={},
    )
    yield kanal
    kanal.close()


def bot_chat(kanal, session: str) -> int:
    """A chat the bot answered about a pension payment; return its contact id."""
    result = kanal.turns.receive(
        ReceiveMessage("webchat", session, "when is my pension paid", provider_id=session)
    )
    assert result.state == ContactState.BOT
    return result.contact_id


def queue_of(kanal, contact_id: int) -> tuple[str, str]:
    with kanal.uow() as uow:
        item = uow.queue.open_for_contact(contact_id)
        return item.queue, item.skill


def agent(kanal, username: str, skills: list[str]) -> int:
    user_id = create_user(kanal.uow, username, "correct horse", "agent").id
    kanal.assignments.set_profile(user_id, skills=skills)
    return user_id


def test_callbacks_wait_in_the_queue_the_profiles_routing_gives_their_need(kanal):
    open_chat = bot_chat(kanal, "session-open")
    closed_chat = bot_chat(kanal, "session-closed")
    with kanal.uow() as uow:
        contact = uow.contacts.get(closed_chat, for_update=True)
        contacts.close(uow, contact, kanal.clock(), CLOSED_BY_BOT, None)
        uow.commit()

    # A callback on a conversation still with the bot: it waits where written pension work does.
    kanal.callbacks.book(open_chat, reason="digital_not_completed")
    assert queue_of(kanal, open_chat) == ("pension-written", "pension")

    # On a closed one: a phone contact of its own, in the queue for pension calls.
    booked = kanal.callbacks.book(closed_chat, reason="digital_not_completed")
    with kanal.uow() as uow:
        phone_contact = uow.callbacks.get(booked).contact_id
    assert phone_contact != closed_chat
    assert queue_of(kanal, phone_contact) == ("pension-phone", "pension")

    # So the pension agent takes both, and an agent of the other queue neither.
    other = agent(kanal, "other", ["general"])
    pension = agent(kanal, "pia", ["pension"])
    assert kanal.desk.claim_next(ClaimNext(agent_id=other, skills=())) is None
    taken = {kanal.desk.claim_next(ClaimNext(agent_id=pension, skills=())).contact_id
             for _ in range(2)}  # fmt: skip
    assert taken == {open_chat, phone_contact}
