"""Twilio answering 429, 500, slowly, or not at all while citizens' replies go out.

Each citizen texts kanal; the reply leaves through the real wiring (the configured sender,
`twilio.rest.Client`) to a Twilio that misbehaves in one way per group of citizens. Then Twilio
is well again, time passes and the scheduler's dispatch job runs. The delivery rules
(docs/domain.md §5.3): a 429 or a refused connection certainly did not send, so it is sent
again after the backoff; a 5xx or a timeout may have sent, so it is held for review and never
sent again by itself. Counted per stored reply against what Twilio created: none lost, none
sent twice, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from router import create_app
from router.domain.commands import ReceiveMessage
from router.domain.model import DeliveryState
from router.entrypoints import jobs
from router.entrypoints.bootstrap import kanal_of
from tests.fakes import ScriptedBot
from tests.faults.support import FakeTwilio, Tally

pytestmark = pytest.mark.faults

SAFE_TO_RETRY = ("429", "refused")
MAYBE_SENT = ("500", "500-created", "slow-created")
GROUPS = ("ok", *SAFE_TO_RETRY, *MAYBE_SENT)
PER_GROUP = 3


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def twilio():
    server = FakeTwilio()
    yield server
    server.stop()


def test_twilio_failing_in_every_way_loses_and_doubles_no_reply(app_config, twilio):
    clock = Clock()
    config = {
        **app_config,
        "KANAL_TWILIO_SANDBOX": True,
        "KANAL_TWILIO_SANDBOX_URL": twilio.url,
        "KANAL_TWILIO_TIMEOUT": 0.5,
    }
    app = create_app(config, bot=ScriptedBot(), clock=clock)
    kanal = kanal_of(app)
    port = twilio.server_address[1]
    numbers: dict[str, list[str]] = {}
    try:
        for g, group in enumerate(GROUPS):
            if group == "refused":
                twilio.stop()  # nothing listens: the connection is refused
            else:
                twilio.behaviour = group
            numbers[group] = [f"+45200{g:02d}{i:03d}" for i in range(PER_GROUP)]
            for number in numbers[group]:
                entry = kanal.turns.accept(
                    ReceiveMessage(
                        channel="sms", address=number, text="When is my pension paid?",
                        provider_id=f"SM-in-{number}", received_at=clock.now,
                    )
                )  # fmt: skip
                kanal.turns.take(entry)
            if group == "refused":
                twilio = FakeTwilio(port, after=twilio)  # reachable again, on the same address
            clock.now += timedelta(seconds=1)

        twilio.behaviour = "ok"
        for _ in range(10):  # an hour at a time: longer than any backoff and the claim lease
            clock.now += timedelta(hours=1)
            jobs.dispatch_outbound(kanal)

        tally = Tally("twilio 429/500/slow/refused")
        states: dict[str, list[str]] = {}
        with kanal.uow() as uow:
            for group, group_numbers in numbers.items():
                for number in group_numbers:
                    contact = uow.contacts.latest_on("sms", number)
                    replies = [
                        m for m in uow.messages.for_contact(contact.id) if m.direction == "out"
                    ]
                    assert replies, f"{group}: the citizen got no reply at all"
                    for reply in replies:
                        tally.expected.add(reply.id)
                        tally.copies[reply.id] = twilio.created_for(reply.id)
                        if reply.delivery_status == DeliveryState.REVIEW:
                            tally.held.add(reply.id)
                        states.setdefault(group, []).append(str(reply.delivery_status))
    finally:
        if twilio is not None:
            twilio.stop()
        kanal.close()

    for group in ("ok", *SAFE_TO_RETRY):
        assert set(states[group]) == {"queued"}, f"{group}: sent once after the backoff"
    for group in MAYBE_SENT:
        assert set(states[group]) == {"review"}, f"{group}: held for a person, not resent"
    tally.check(
        "by group: "
        + ", ".join(f"{g} {sorted(set(s))[0]}" for g, s in states.items())
        + f"; Twilio answered {dict(twilio.answers)}"
    )
