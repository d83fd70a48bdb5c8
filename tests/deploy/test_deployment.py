"""The deployment of deploy/README.md on loopback: the chat, SMS and phone journeys through
nginx, with one web process killed (kill -9) in the middle, and Redis lost.

Counted as in the fault tests (tests/faults/support.Tally): every citizen's message is filed
exactly once and its turn finished; every reply is handed to Twilio exactly once (or held for
a person to check, when the kill cut its send). One citizen's SMS are filed in the order they
were sent, though nginx spreads them over both web processes; one scheduler is active, the
other stands by and takes over when the active one is killed.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter

import pytest
import requests
from sqlalchemy import create_engine, text

from channels.twilio_signature import sign
from ivr import prompts as p
from ivr.phone import Line, Phone
from ivr.phone_transport import http_send
from tests.conftest import scratch_postgres
from tests.deploy.topology import deployment
from tests.faults.support import AGENCY, TWILIO_TOKEN, Tally, wait_for
from tests.live_streams import open_stream

# The first test brings the deployment up (Rasa takes most of a minute on loaded cores).
pytestmark = [pytest.mark.deploy, pytest.mark.faults, pytest.mark.timeout(600)]

SMS_CITIZENS = 8
SMS_EACH = 3
QUESTIONS = ("when is my pension paid", "and my child benefit?", "thank you")


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    with (
        scratch_postgres("deploy_kanal") as url,
        deployment(tmp_path_factory.mktemp("deployment"), url) as running,
    ):
        yield running


# -- the citizens --------------------------------------------------------------------------


class Texter:
    """Citizens texting through nginx as Twilio delivers: each one's messages in order, a
    webhook not answered 2xx sent again (same MessageSid) before the citizen's next one."""

    def __init__(self, url: str) -> None:
        self.url = url + "/twilio/sms"
        self.sent: dict[str, list[str]] = {}  # number -> MessageSids in the order sent
        self.acknowledged = 0
        self.retried = 0
        self.lock = threading.Lock()

    def text(self, session: requests.Session, number: str, body: str) -> str:
        sid = "SM" + secrets.token_hex(16)
        form = {
            "MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": number,
            "To": AGENCY, "Body": body, "NumMedia": "0",
        }  # fmt: skip
        headers = {
            "X-Twilio-Signature": sign(self.url, form, TWILIO_TOKEN),
            "I-Twilio-Idempotency-Token": f"idem-{sid}",
        }
        for attempt in range(60):
            try:
                if session.post(self.url, data=form, headers=headers, timeout=15).ok:
                    break
            except requests.RequestException:
                pass
            with self.lock:
                self.retried += 1
            threading.Event().wait(0.25 * min(attempt + 1, 4))
        else:
            pytest.fail(f"an SMS webhook was never acknowledged: {sid}")
        with self.lock:
            self.sent.setdefault(number, []).append(sid)
            self.acknowledged += 1
        return sid

    def citizen(self, number: str, texts: tuple[str, ...]) -> None:
        with requests.Session() as session:
            for body in texts:
                self.text(session, number, body)


def chat_turn(url: str, session: dict, text_: str) -> dict:
    """Post a chat message as the widget does: a client id, sent again until answered."""
    client_id = secrets.token_hex(8)
    for attempt in range(40):
        try:
            answer = requests.post(
                f"{url}/api/v1/chat/sessions/{session['session_id']}/messages",
                json={"text": text_, "client_id": client_id},
                headers={"Authorization": f"Bearer {session['token']}"},
                timeout=20,
            )
            if answer.status_code == 200:
                session.setdefault("client_ids", []).append(client_id)
                return answer.json()
        except requests.RequestException:
            pass
        threading.Event().wait(0.25 * min(attempt + 1, 4))
    pytest.fail("a chat message was never answered")


def new_chat(url: str) -> dict:
    """Open a chat session as the widget does, trying again after an error."""
    for attempt in range(20):
        try:
            answer = requests.post(
                f"{url}/api/v1/chat/sessions", json={"language": "en"}, timeout=20
            )
            if answer.ok:
                return answer.json()
        except requests.RequestException:
            pass
        threading.Event().wait(0.25 * min(attempt + 1, 4))
    pytest.fail("a chat session was never opened")


# -- what the database and Twilio say ------------------------------------------------------


def inbound(database_url: str) -> dict[tuple[str, str], tuple[int, bool, int]]:
    """(channel, provider id) -> (message id, turn finished, copies) of citizens' messages."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT channel, provider_id, min(id), bool_and(processed), count(*) "
                    "FROM messages WHERE direction = 'in' AND provider_id IS NOT NULL "
                    "GROUP BY channel, provider_id"
                )
            )
            return {(c, pid): (mid, done, n) for c, pid, mid, done, n in rows}
    finally:
        engine.dispose()


def sms_replies(database_url: str) -> list[tuple[int, str, str]]:
    """(id, to, delivery status) of every SMS kanal decided to send."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, address, delivery_status FROM messages "
                    "WHERE direction = 'out' AND channel = 'sms' ORDER BY id"
                )
            )
            return [tuple(r) for r in rows]
    finally:
        engine.dispose()


def settled(topology, expected: set[tuple[str, str]]) -> bool:
    found = inbound(topology.database_url)
    if not all(key in found and found[key][1] for key in expected):
        return False
    return not any(
        status in ("pending", "retry") for _, _, status in sms_replies(topology.database_url)
    )


def tally_of(topology, name: str, expected: set[tuple[str, str]]) -> Tally:
    """Citizens' messages filed and finished once; replies handed to Twilio once."""
    found = inbound(topology.database_url)
    tally = Tally(name)
    for key in expected:
        tally.expected.add(key)
        message = found.get(key)
        tally.copies[key] = message[2] if message and message[1] else 0
    sent = Counter()
    for created in topology.twilio.created:
        callback = created.get("StatusCallback", "")
        if "?m=" in callback:
            sent[int(callback.rsplit("?m=", 1)[1])] += 1
    for message_id, _to, status in sms_replies(topology.database_url):
        key = ("reply", message_id)
        tally.expected.add(key)
        tally.copies[key] = sent[message_id]
        if status in ("review", "sending_local") and not sent[message_id]:
            # A send the kill cut: its claim's lease runs out, then a person checks it.
            tally.held.add(key)
    return tally


# -- the journeys --------------------------------------------------------------------------


def test_chat_sms_and_phone_through_nginx_lose_and_double_nothing_when_a_web_process_dies(
    topology,
):
    url = topology.url
    # Chat: the widget's first question, its answer on the live stream (through nginx, unbuffered).
    chat = new_chat(url)
    stream = open_stream(
        f"{url}/api/v1/chat/sessions/{chat['session_id']}/stream", chat["token"], timeout=30
    )
    first = chat_turn(url, chat, "when will my pension be paid")
    assert first["state"] == "bot", first
    assert any(m["author"] == "bot" for m in first["messages"]), "the bot answered"
    seen = stream.until(lambda e: e["event"] == "message" and e["data"]["author"] == "bot")
    stream.close()
    assert seen["data"]["text"], "the bot's answer reached the widget's stream"

    # SMS: citizens text three questions each over both web processes; web-1 dies a third in.
    texter = Texter(url)
    numbers = [f"+4529{secrets.randbelow(10**6):06d}" for _ in range(SMS_CITIZENS)]
    senders = [threading.Thread(target=texter.citizen, args=(n, QUESTIONS)) for n in numbers]
    for sender in senders:
        sender.start()
    wait_for(lambda: texter.acknowledged >= SMS_CITIZENS * SMS_EACH // 3, 120, "SMS to get going")
    topology.kill("web-1")

    # The chat goes on, and a caller rings, while web-1 is dead: nginx sends them to web-2.
    second = chat_turn(url, chat, "I want to talk to a person")
    assert second["state"] == "queued", second
    caller = f"+4528{secrets.randbelow(10**6):06d}"
    phone = Phone(Line(url, TWILIO_TOKEN), caller, http_send(url, url)).dial()
    phone.press("2")  # English
    phone.say("when is my pension paid")
    assert phone.said[-1] == p.text("en", "offer"), phone.said
    phone.press("1")
    assert phone.said[-1] == p.text("en", "link_sent") and phone.ended, phone.said
    for sender in senders:
        sender.join(180)
    assert texter.acknowledged == SMS_CITIZENS * SMS_EACH

    expected = {("sms", sid) for sids in texter.sent.values() for sid in sids}
    expected |= {("webchat", f"{chat['session_id']}:{c}") for c in chat["client_ids"]}
    # Turns the dead process left are finished by the active scheduler's sweep.
    wait_for(lambda: settled(topology, expected), 150, "every turn to finish", every=1.0)
    # The call's link, then the follow-up job's offer of a callback (due at once here).
    to_caller = wait_for(
        lambda: [c for c in topology.twilio.created if c.get("To") == caller][1:] and
        [c for c in topology.twilio.created if c.get("To") == caller],
        60, "the link and the follow-up's offer to reach the caller", every=0.5,
    )  # fmt: skip
    assert "https://" in to_caller[0]["Body"], to_caller[0]

    found = inbound(topology.database_url)
    for number, sids in texter.sent.items():  # filed in the order the citizen sent them
        filed = [found[("sms", sid)][0] for sid in sids]
        assert filed == sorted(filed), f"{number}'s messages were filed out of order"
    tally_of(topology, "deployment: kill -9 of a web process", expected).check(
        f"{len(texter.sent)} texters × {SMS_EACH} SMS, a chat and a call through nginx; "
        f"{texter.retried} webhooks sent again after the kill"
    )

    # Exactly one scheduler was active; kill it and the other takes over.
    logs = {n: topology.log(n, 400) for n in ("scheduler-1", "scheduler-2")}
    active = [n for n, log in logs.items() if "scheduler active" in log]
    assert len(active) == 1, logs
    standby = "scheduler-2" if active == ["scheduler-1"] else "scheduler-1"
    assert "standing by" in logs[standby]
    topology.kill(active[0])
    wait_for(
        lambda: "scheduler active" in topology.log(standby, 400), 30, "the standby to take over"
    )


def test_losing_redis_sends_citizens_to_people_and_loses_nothing(topology):
    url = topology.url
    topology.kill("redis")  # Rasa's conversations and locks are gone
    chat = new_chat(url)
    answer = chat_turn(url, chat, "when will my pension be paid")
    assert answer["messages"][-1]["author"] != "citizen", "the citizen was answered"
    texter = Texter(url)
    numbers = [f"+4527{secrets.randbelow(10**6):06d}" for _ in range(3)]
    for number in numbers:
        texter.citizen(number, QUESTIONS[:1])
    expected = {("sms", sid) for sids in texter.sent.values() for sid in sids}
    expected.add(("webchat", f"{chat['session_id']}:{chat['client_ids'][0]}"))
    wait_for(lambda: settled(topology, expected), 90, "every turn to finish", every=1.0)
    texted = {c.get("To") for c in topology.twilio.created}
    assert set(numbers) <= texted, "every texter got an answer while Redis was gone"
    tally_of(topology, "deployment: Redis lost", expected).check(
        f"Redis stopped under Rasa; {len(expected)} messages by chat and SMS; chat said "
        f"{answer['state']!r}"
    )

    topology.start_redis()  # back: the bot answers again once its circuit closes

    def bot_answers() -> bool:
        reply = chat_turn(url, new_chat(url), "when will my pension be paid")
        return reply["state"] == "bot" and any(m["author"] == "bot" for m in reply["messages"])

    wait_for(bot_answers, 60, "the bot to answer again after Redis came back", every=2.0)


def test_nginx_refuses_oversized_requests_in_kanals_own_formats(topology):
    url = topology.url
    long_query = "?q=" + "a" * 5000  # past kanal's 4,096 bytes of URL
    huge_query = "?q=" + "a" * 20000  # past nginx's own request-line buffers too
    big_body = "a" * (65 * 1024)  # past kanal's 64 KB of body
    for query in (long_query, huge_query):
        api = requests.get(f"{url}/api/v1/chat/sessions/1/messages{query}", timeout=10)
        assert api.status_code == 414 and api.headers["Content-Type"].startswith("application/json")
        assert "longer than 4096 bytes" in api.json()["error"]
        twilio = requests.post(f"{url}/twilio/sms{query}", data={"a": "b"}, timeout=10)
        assert twilio.status_code == 414 and twilio.headers["Content-Type"].startswith("text/plain")
        assert twilio.text.startswith("414 ")
    api = requests.post(
        f"{url}/api/v1/chat/sessions", data=big_body, timeout=10,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert api.status_code == 413 and api.json() == {
        "error": "The request body is larger than 64 KB."
    }
    twilio = requests.post(f"{url}/twilio/sms", data={"Body": big_body}, timeout=10)
    assert twilio.status_code == 413 and twilio.headers["Content-Type"].startswith("text/plain")
