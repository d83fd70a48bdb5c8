"""Surge mode on both databases: it starts when the queue's wait passes the profile's
threshold and ends by itself when the wait falls; the supervisor board shows it; the log
has its start and end; and what a citizen is told while it lasts, in their language.

The Danish profile's thresholds: a surge starts at a wait of 900 s, ends at 300 s or less
once it has lasted 600 s (router/policy/profiles/denmark.toml).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from channels.webchat_session import identity_token
from router.domain.surge import SURGE_ENDED, SURGE_EVENTS, SURGE_STARTED
from router.service.surges import SurgeWatch
from tests.conftest import SECRET
from tests.integration import sms_support
from tests.integration.sms_support import new_number, wait_for
from tests.integration.test_desk import chat, page, queued_chat, sign_in

pytestmark = pytest.mark.integration


def watch(kanal, at: datetime) -> SurgeWatch:
    return SurgeWatch(kanal.uow, kanal.turns.profile, lambda: at, 240)


def surge_events(kanal) -> list:
    found = []
    with kanal.uow() as uow:
        for type_ in SURGE_EVENTS:
            latest = uow.events.latest((type_,))
            if latest is not None:
                found.append(latest)
    return sorted(found, key=lambda e: e.at)


def start_surge(client, kanal) -> datetime:
    """Queue one chat and let it wait past the threshold: surge mode starts."""
    queued_chat(client, kanal)
    now = datetime.now(UTC) + timedelta(seconds=901)
    assert watch(kanal, now).check().active
    return now


def texts(body) -> list[str]:
    return [m["text"] for m in body["messages"] if m["author"] == "system"]


def test_a_surge_starts_past_the_threshold_and_ends_by_itself_when_the_wait_falls(
    client, kanal, app, staff
):
    contact_id = queued_chat(client, kanal)
    now = datetime.now(UTC)

    assert not watch(kanal, now + timedelta(seconds=600)).check().active  # under 900 s
    started = watch(kanal, now + timedelta(seconds=905)).check()
    assert started.active and started.started_wait_seconds >= 900

    (event,) = surge_events(kanal)
    assert event.type == SURGE_STARTED and event.contact_id is None and event.channel == "all"
    assert event.data["enter_wait_seconds"] == 900 and event.data["profile"] == "denmark"

    # The supervisor board says so: since when and why.
    board = sign_in(app, staff, "super1", "supervisor")
    shown = page(board.get("/desk/supervisor"))
    assert "Surge mode is on" in shown
    assert "past the profile&#39;s threshold of 15 min 00 s" in shown

    # An agent takes the contact: nobody waits. The surge lasts its minimum, then ends.
    agent = sign_in(app, staff, "agent1", "agent")
    assert agent.post("/desk/claim").status_code in (200, 302)
    with kanal.uow() as uow:
        assert uow.queue.open_for_contact(contact_id).claimed_at is not None
    assert watch(kanal, now + timedelta(seconds=905 + 300)).check().active  # too soon
    ended = watch(kanal, now + timedelta(seconds=905 + 600)).check()
    assert not ended.active

    types = [e.type for e in surge_events(kanal)]
    assert types == [SURGE_STARTED, SURGE_ENDED]
    assert surge_events(kanal)[-1].data["lasted_seconds"] == 600
    assert "Surge mode is off" in page(board.get("/desk/supervisor"))
    # A second check with nothing changed records nothing more.
    watch(kanal, now + timedelta(seconds=2000)).check()
    assert [e.type for e in surge_events(kanal)] == [SURGE_STARTED, SURGE_ENDED]


def test_in_a_surge_a_request_is_offered_the_digital_route_first_then_a_callback(
    client, kanal, add_citizen
):
    start_surge(client, kanal)
    pseudonym = add_citizen(phone="+4512345678", name="Karen Jensen")

    sid, auth, first = chat(
        client, "I want to talk to a person", identity=identity_token(SECRET, pseudonym)
    )
    (told,) = texts(first)
    assert told.startswith("We are very busy right now and the wait for a person is long.")
    assert first["state"] != "queued"

    again = client.post(
        f"/api/v1/chat/sessions/{sid}/messages", json={"text": "person"}, headers=auth
    ).get_json()
    (booked,) = texts(again)
    assert "instead of waiting in the queue, a person will contact you" in booked
    assert "A person will call you on the phone number we have registered" in booked
    assert "You are number 2 in the queue and keep your turn." in booked
    contact_id = kanal.views.contact_on("webchat", sid).id
    with kanal.uow() as uow:
        # A surge's callback, told apart from the ones citizens ask for (analytics).
        assert [c.reason for c in uow.callbacks.for_contact(contact_id)] == ["surge"]
        assert uow.queue.open_for_contact(contact_id).is_waiting  # keeps their turn


NO_PHONE = {
    "en": (
        "We can't call you back: we have no phone number for you. I'm passing you to a person "
        "now. They will see everything you have written here, so you won't need to repeat it. "
        "We are very busy right now. You are number 2 in the queue."
    ),
    "da": (
        "Vi kan ikke ringe dig op: vi har intet telefonnummer på dig. {handoff} "
        "Vi har meget travlt lige nu. Du er nummer 2 i køen."
    ),
}


@pytest.mark.parametrize(
    ("language", "asks", "again"),
    [("en", "I want to talk to a person", "person"), ("da", "jeg vil tale med en medarbejder",
                                                       "medarbejder")],
)  # fmt: skip
def test_in_a_surge_a_chat_with_no_phone_number_is_told_so_and_waits_with_its_place(
    client, kanal, add_citizen, language, asks, again
):
    from router.service.translations import translator
    from router.service.wording import HANDOFF

    start_surge(client, kanal)
    pseudonym = add_citizen(phone=None, language=language)  # registered, no phone number

    sid, auth, first = chat(client, asks, identity=identity_token(SECRET, pseudonym))
    assert first["state"] != "queued"  # the digital route first
    second = client.post(
        f"/api/v1/chat/sessions/{sid}/messages", json={"text": again}, headers=auth
    ).get_json()

    (told,) = texts(second)
    handoff = translator("da")(HANDOFF, done="skrevet")
    assert told.startswith(NO_PHONE[language].format(handoff=handoff)), told
    assert "instead of waiting" not in told and "i stedet for at vente" not in told
    assert second["state"] == "queued"  # it waits for a person here
    contact_id = kanal.views.contact_on("webchat", sid).id
    with kanal.uow() as uow:
        assert uow.callbacks.for_contact(contact_id) == []
        assert uow.queue.position(contact_id) == 2
        (handed,) = [e for e in uow.events.for_contact(contact_id) if e.type == "handed_off"]
    assert handed.data["callback_refused"] == "no_phone" and not handed.data["callback"]


def test_a_place_in_the_queue_is_counted_by_rank_priority_first_then_the_oldest(
    client, kanal, add_citizen, app, staff
):
    first = queued_chat(client, kanal)
    second = queued_chat(client, kanal, "can I speak to a human")
    exempt = queued_chat(
        client, kanal, "when is my pension paid",
        identity=identity_token(SECRET, add_citizen(exempt_ground="impairment")),
    )  # fmt: skip

    with kanal.uow() as uow:
        by_rank = [item.contact_id for item in uow.queue.waiting()]
        places = {c: uow.queue.position(c) for c in (first, second, exempt)}
    assert by_rank == [exempt, first, second]  # an exempt citizen's priority comes first
    assert places == {exempt: 1, first: 2, second: 3}

    agent = sign_in(app, staff, "agent1", "agent")
    assert agent.post("/desk/claim").status_code in (200, 302)  # takes the exempt citizen
    with kanal.uow() as uow:
        assert [uow.queue.position(c) for c in (exempt, first, second)] == [0, 1, 2]
        assert uow.queue.position(10**6) == 0  # no such contact


def test_in_a_surge_an_exempt_citizen_reaches_a_person_and_is_told_their_place(
    client, kanal, add_citizen
):
    start_surge(client, kanal)
    pseudonym = add_citizen(phone="+4512345679", exempt_ground="no_computer")

    _sid, _auth, body = chat(
        client, "when is my pension paid", identity=identity_token(SECRET, pseudonym)
    )

    assert body["state"] == "queued"
    (told,) = texts(body)
    assert told.startswith("Registered exemption from digital self-service (no computer at home)")
    assert "I'm passing you to a person now." in told
    # Exempt contacts go first (priority 2): number 1, ahead of the one waiting.
    assert "We are very busy right now. You are number 1 in the queue." in told
    assert "The expected wait is about" in told or "about a minute" in told


def test_in_a_surge_the_citizen_is_told_in_danish(client, kanal, add_citizen):
    start_surge(client, kanal)
    pseudonym = add_citizen(phone="+4512345670", exempt_ground="language", language="da")

    _sid, _auth, body = chat(
        client, "hvornår bliver min pension udbetalt", identity=identity_token(SECRET, pseudonym)
    )

    (told,) = texts(body)
    assert "Vi har meget travlt lige nu. Du er nummer 1 i køen." in told


def test_without_a_surge_nothing_changes(client, kanal):
    _sid, _auth, body = chat(client, "I want to talk to a person")

    assert body["state"] == "queued"
    assert not any("very busy" in t for t in texts(body))
    assert surge_events(kanal) == []


def test_the_scheduler_watches_the_wait_every_ten_seconds(kanal):
    from router.entrypoints import jobs

    assert ("surge_watch", jobs.surge_watch, 10) in jobs.JOBS
    jobs.surge_watch(kanal)  # nobody waits: no surge
    assert surge_events(kanal) == []


live = sms_support.live  # a running kanal, texted through signed webhooks


def test_in_a_surge_an_sms_citizen_is_told_why_and_keeps_their_turn(live, add_citizen):
    waiting, number = new_number(), new_number()
    add_citizen(phone=number)
    live.text(waiting, "I want to talk to a person")
    wait_for(lambda: live.outbox(waiting), what="the first handoff")
    at = datetime.now(UTC) + timedelta(seconds=901)
    assert watch(live.kanal, at).check().active

    live.text(number, "I want to talk to a person")
    first = wait_for(lambda: live.outbox(number), what="the digital route first")
    assert first[0]["body"].startswith("We are very busy right now and the wait for a person")

    live.text(number, "person")
    wait_for(lambda: len(live.outbox(number)) == 2, what="the callback booked")
    booked = live.outbox(number)[1]["body"]
    assert "instead of waiting in the queue" in booked
    assert "You are number 2 in the queue and keep your turn." in booked
    with live.kanal.uow() as uow:
        contact = live.kanal.views.contact_on("sms", number)
        assert [c.reason for c in uow.callbacks.for_contact(contact.id)] == ["surge"]


def test_in_a_surge_a_caller_is_offered_the_link_first_then_booked_a_callback(live, add_citizen):
    from ivr import prompts as p
    from ivr.phone import Line, Phone
    from ivr.phone_transport import http_send

    waiting, number = new_number(), new_number()
    add_citizen(phone=number)
    live.text(waiting, "I want to talk to a person")
    wait_for(lambda: live.outbox(waiting), what="the first handoff")
    assert watch(live.kanal, datetime.now(UTC) + timedelta(seconds=901)).check().active
    line = Line(
        public_url=live.base_url,
        auth_token=sms_support.TOKEN,
        account_sid=live.phone.account_sid,
        agency_number=live.phone.agency_number,
    )
    call = Phone(line, number, http_send(live.base_url, live.base_url)).dial()

    call.say("I want to talk to a person")
    assert call.said[-1] == p.text("en", "offer")  # the digital route first, by SMS
    call.say("person")

    assert call.said[-1] == p.text("en", "callback_booked", when=p.text("en", "when_soon"))
    assert call.ended
    with live.kanal.uow() as uow:
        contact = live.kanal.views.contact_on("voice", number)
        booked = uow.callbacks.for_contact(contact.id)
        assert [(c.state, c.reason) for c in booked] == [("booked", "surge")]
