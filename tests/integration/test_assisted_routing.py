"""Routing of assisted work end to end, on SQLite and PostgreSQL (issue 15, done-when 1).

Two agents with different skills and capacities are fed 50 mixed contacts across chat, SMS
and phone: each receives only what matches them, never above their capacity, the best
ranked first (oldest first within a priority; an exempt citizen answered first), and an
offer not accepted in time moves on to the next agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from router.domain.commands import ClaimNext, ReceiveMessage, Resolve
from router.domain.model import Citizen, ContactState, Exemption
from router.domain.presence import PresenceState
from router.entrypoints.bootstrap import bootstrap
from router.policy.profile import PROFILES_DIR
from tests.fakes import OPEN_HOURS, FakeClock, RecordingSender, ScriptedBot, ScriptedLanguages

pytestmark = pytest.mark.integration

ROUTING = """
[routing]
aging_seconds = 600
offer_seconds = 30

[[routing.queue]]
name = "danish"
languages = ["da"]

[[routing.queue]]
name = "english"
languages = ["en"]
"""
ASK = {"da": "Jeg vil tale med en person", "en": "I want a person"}
CHANNELS = ("webchat", "sms", "voice")
EXEMPT = 40  # a Danish SMS, one of the last to arrive


@dataclass
class Waiting:
    n: int
    contact_id: int
    channel: str
    language: str
    priority: int
    arrived: object

    def rank(self, aging: int):
        return (self.arrived - timedelta(seconds=self.priority * aging), self.contact_id)


@pytest.fixture
def routed(database_url, tmp_path):
    profile = tmp_path / "agency.toml"
    profile.write_text((PROFILES_DIR / "denmark.toml").read_text() + ROUTING)
    clock = FakeClock(OPEN_HOURS)
    kanal = bootstrap(
        {
            "KANAL_DATABASE_URL": database_url,
            "KANAL_INSTANCE_PATH": str(tmp_path),
            "KANAL_POLICY": str(profile),
            "KANAL_ALWAYS_OPEN": True,
            "KANAL_LANGUAGES": "da,en",
            "KANAL_PUBLIC_URL": "http://127.0.0.1:9",
        },
        bot=ScriptedBot(),
        senders={"sms": RecordingSender()},
        clock=clock,
        identify=ScriptedLanguages({v: k for k, v in ASK.items()}),
        env={},
    )
    yield kanal, clock
    kanal.close()


def register(kanal, phone, language, exempt=False):
    with kanal.uow() as uow:
        citizen = uow.citizens.add(
            Citizen(pseudonym=f"p{phone[-6:]}", phone=phone, language=language)
        )
        if exempt:
            uow.citizens.add_exemption(
                Exemption(citizen.id, "impairment", OPEN_HOURS.date() - timedelta(days=30))
            )
        uow.commit()


def agent(kanal, username, **profile):
    from router.entrypoints.auth import create_user

    create_user(kanal.uow, username, "correct horse", "agent")
    with kanal.uow() as uow:
        user_id = uow.users.by_username(username).id
    kanal.assignments.set_profile(user_id, **profile)
    return user_id


def feed(kanal, clock, count=50):
    """Contacts arrive 10 s apart: chat, SMS and phone in turn, Danish and English."""
    waiting = []
    for n in range(count):
        channel, language = CHANNELS[n % 3], ("da", "en")[n % 2]
        address = f"+4520{n:06d}" if channel != "webchat" else f"session-{n}"
        if channel != "webchat":
            register(kanal, address, language, exempt=n == EXEMPT)
        clock.advance(seconds=10)
        result = kanal.turns.receive(
            ReceiveMessage(channel, address, ASK[language], provider_id=f"m{n}")
        )
        assert result.state == ContactState.QUEUED, (n, channel)
        waiting.append(
            Waiting(n, result.contact_id, channel, language, 2 if n == EXEMPT else 0, clock())
        )
    return waiting


def test_two_agents_receive_only_what_matches_within_capacity_best_ranked_first(routed):
    kanal, clock = routed
    aging = kanal.settings.routing.aging_seconds
    agents = {
        agent(kanal, "ann", languages=["da"], capacity={"webchat": 2, "sms": 3, "voice": 1}): {
            "language": "da", "capacity": {"webchat": 2, "sms": 3, "voice": 1},
        },
        agent(kanal, "bo", languages=["en"], capacity={"webchat": 1, "sms": 0, "voice": 1}): {
            "language": "en", "capacity": {"webchat": 1, "sms": 0, "voice": 1},
        },
    }  # fmt: skip
    waiting = {w.contact_id: w for w in feed(kanal, clock)}
    held = {a: [] for a in agents}
    taken_by = {a: [] for a in agents}

    def expected_for(agent_id):
        spec = agents[agent_id]
        load = {c: sum(1 for w in held[agent_id] if w.channel == c) for c in CHANNELS}
        fits = [
            w for w in waiting.values()
            if w.language == spec["language"] and load[w.channel] < spec["capacity"][w.channel]
        ]  # fmt: skip
        return min(fits, key=lambda w: w.rank(aging)) if fits else None

    for _round in range(30):
        progress = False
        for agent_id in agents:
            while True:
                expected = expected_for(agent_id)
                claimed = kanal.desk.claim_next(ClaimNext(agent_id=agent_id))
                if claimed is None:
                    assert expected is None  # nothing left that matches, or no room
                    break
                assert expected is not None and claimed.contact_id == expected.contact_id
                got = waiting.pop(claimed.contact_id)
                held[agent_id].append(got)
                taken_by[agent_id].append(got)
                progress = True
        # Every agent is at capacity or out of work: each resolves one contact, oldest held.
        for agent_id, mine in held.items():
            if mine:
                done = mine.pop(0)
                clock.advance(seconds=5)
                kanal.desk.resolve(Resolve(agent_id, done.contact_id, "answered"))
                progress = True
        if not progress:
            break

    ann, bo = agents
    # The exempt citizen (priority 2) arrived among the last and was answered first.
    assert taken_by[ann][0].n == EXEMPT
    # Each took only their language; Bo no SMS at all; the English SMS still wait.
    assert {w.language for w in taken_by[ann]} == {"da"}
    assert {w.language for w in taken_by[bo]} == {"en"}
    assert "sms" not in {w.channel for w in taken_by[bo]}
    assert sorted(w.n for w in waiting.values()) == [n for n in range(50) if n % 6 == 1]
    # Within a priority, on one channel, each agent took the oldest first.
    for mine in taken_by.values():
        for channel in CHANNELS:
            arrivals = [w.n for w in mine if w.channel == channel and w.priority == 0]
            assert arrivals == sorted(arrivals)
    assert len(taken_by[ann]) == 25 and len(taken_by[bo]) == 25 - 9  # all, but English SMS

    # An offer nobody accepts in time moves on to the next agent.
    cy = agent(kanal, "cy", languages=["da"])
    for agent_id in (ann, cy):
        kanal.assignments.set_presence(agent_id, PresenceState.AVAILABLE)
    kanal.assignments.set_presence(bo, PresenceState.AVAILABLE)
    clock.advance(seconds=10)
    late = kanal.turns.receive(ReceiveMessage("webchat", "session-late", ASK["da"], "late"))
    assert kanal.assignments.offer_waiting()["offered"] == 1
    first = [a for a in (ann, bo, cy) if kanal.assignments.offers_for(a)]
    assert len(first) == 1 and first[0] in (ann, cy)  # never to Bo: not his language
    clock.advance(seconds=30)
    assert kanal.assignments.offer_waiting() == {"expired": 1, "offered": 1}
    [second] = [a for a in (ann, cy) if a != first[0]]
    assert [o.contact_id for o in kanal.assignments.offers_for(second)] == [late.contact_id]
    assert kanal.assignments.offers_for(first[0]) == []
    assert kanal.desk.claim_next(ClaimNext(agent_id=second)).contact_id == late.contact_id


def test_a_contact_is_not_moved_or_transferred_to_a_queue_of_another_language(routed):
    from router.domain.access import Viewer
    from router.service.errors import Conflict

    kanal, clock = routed
    register(kanal, "+4529000001", "en", exempt=True)
    clock.advance(seconds=10)
    english = kanal.turns.receive(ReceiveMessage("sms", "+4529000001", ASK["en"], provider_id="e"))
    with kanal.uow() as uow:
        item = uow.queue.open_for_contact(english.contact_id)
    assert (item.queue, item.language) == ("english", "en")
    boss = agent(kanal, "boss", languages=["da", "en"])
    with kanal.uow() as uow:
        uow.users.get(boss).role = "supervisor"
        uow.commit()
    # Before, the move was done: an English citizen waited where only Danish is served.
    with pytest.raises(Conflict, match="Queue danish takes contacts in da, not this one in en"):
        kanal.supervision.move(Viewer(boss, "boss", "supervisor"), item.id, "danish")
    taker = agent(kanal, "eve", languages=["en"])
    assert kanal.desk.claim_next(ClaimNext(agent_id=taker)).contact_id == english.contact_id
    with pytest.raises(Conflict, match="Queue danish takes contacts in da"):
        kanal.assignments.transfer(taker, english.contact_id, queue="danish", note="dansk?")
    with kanal.uow() as uow:
        assert uow.queue.open_for_contact(english.contact_id).queue == "english"
