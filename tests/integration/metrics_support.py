"""Traffic for the managers' figures: a clock the test moves, citizens who write through the
service's front door, an agent who serves, and kanal on that clock with a phone channel."""

from __future__ import annotations

from datetime import datetime

from router import create_app
from router.domain.commands import AgentReply, ClaimNext, ReceiveMessage, Resolve, StartChat
from router.entrypoints.bootstrap import kanal_of
from router.service.channels import Channel


class Clock:
    """The service's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, moment: datetime) -> None:
        self.now = moment


class Citizen:
    """A citizen talking to kanal through the service's front door."""

    def __init__(self, turns, pseudonym: str | None = None, phone: str | None = None) -> None:
        self.turns, self.pseudonym, self.phone = turns, pseudonym, phone
        self._sessions = 0
        self._sids = 0

    def chat(self, *texts: str) -> int:
        self._sessions += 1
        session = f"s_{self.pseudonym or 'anon'}_{self._sessions}_{id(self)}"
        contact_id = self.turns.start_chat(
            StartChat(secret_hash="x" * 64, citizen_pseudonym=self.pseudonym), address=session
        )
        for text in texts:
            self.turns.receive(
                ReceiveMessage(channel="webchat", address=session, text=text, contact_id=contact_id)
            )
        return contact_id

    def text(self, channel: str, *texts: str) -> int:
        """Write on a phone-number channel (sms, voice); return the contact's id."""
        result = None
        for text in texts:
            self._sids += 1
            result = self.turns.receive(
                ReceiveMessage(
                    channel=channel,
                    address=self.phone,
                    text=text,
                    provider_id=f"{self.phone}:{channel}:{self._sids}",
                )
            )
        return result.contact_id


def serve(desk, agent_id: int, completed: bool = True) -> int:
    """Let an agent take the next waiting contact, answer and resolve it."""
    claimed = desk.claim_next(ClaimNext(agent_id=agent_id))
    assert claimed is not None
    desk.reply(AgentReply(agent_id, claimed.contact_id, "Here is the answer."))
    desk.resolve(Resolve(agent_id, claimed.contact_id, "answered", completed=completed))
    return claimed.contact_id


def clocked_app(app_config, bot, clock):
    """Yield kanal on the test's clock, with a voice channel registered the way a channel is
    (identified by number, not digital); close it afterwards."""
    app = create_app(app_config, bot=bot, clock=clock)
    kanal_of(app).channels.add(Channel("voice", verb="say", address_is_phone=True, digital=False))
    yield app
    kanal_of(app).close()
