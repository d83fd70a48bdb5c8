"""The citizens and the desk of the surge benchmark: chat, SMS and voice contacts through
kanal's real HTTP entry points, and agents answering through the desk's API.

Each contact follows a short script: most ask something the bot answers ("when is my
payment"), some ask for a person and, when offered the digital route first, ask again. A
tenth of the citizens are registered as exempt. Every answer that is not a success (an HTTP
error, a refused connection, a timeout) is counted as *refused*.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode

import requests

from channels.twilio_signature import sign
from channels.webchat_session import identity_token
from ivr.phone import CallFailed, Line, Phone
from ivr.phone_transport import http_send

ASK_BOT = "When is my payment?"
ASK_PERSON = "I want to talk to a person"


@dataclass
class Tally:
    """What the load generator saw, across its threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: Counter = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)

    def add(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.counts[key] += n

    def refuse(self, what: str) -> None:
        with self.lock:
            self.counts["refused"] += 1
            if len(self.refused) < 20:
                self.refused.append(what)


@dataclass(frozen=True)
class Citizen:
    phone: str
    pseudonym: str
    exempt: bool


@dataclass
class Traffic:
    url: str  # where kanal listens (its public URL too)
    token: str  # Twilio's auth token
    secret: str  # kanal's secret (signs the portal's chat identities)
    citizens: list[Citizen]
    tally: Tally = field(default_factory=Tally)
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def contact(self, channel: str, citizen: Citizen, asks_person: bool) -> None:
        """One contact's script on one channel; what fails is counted as refused."""
        self.tally.add(f"contacts_{channel}")
        try:
            {"webchat": self._chat, "sms": self._sms, "voice": self._call}[channel](
                citizen, asks_person
            )
        except (requests.RequestException, CallFailed, AssertionError) as exc:
            self.tally.refuse(f"{channel}: {str(exc)[:160]}")

    # -- web chat -------------------------------------------------------------------------

    def _chat(self, citizen: Citizen, asks_person: bool) -> None:
        identity = identity_token(self.secret, citizen.pseudonym)
        started = requests.post(
            f"{self.url}/api/v1/chat/sessions", json={"identity": identity}, timeout=30
        )
        assert started.status_code == 201, f"open chat: HTTP {started.status_code}"
        body = started.json()
        sid, auth = body["session_id"], {"Authorization": f"Bearer {body['token']}"}
        for text in (ASK_PERSON, ASK_PERSON) if asks_person else (ASK_BOT,):
            answer = requests.post(
                f"{self.url}/api/v1/chat/sessions/{sid}/messages",
                json={"text": text},
                headers=auth,
                timeout=30,
            )
            assert answer.status_code == 200, f"chat message: HTTP {answer.status_code}"
            if answer.json().get("state") in ("queued", "callback"):
                break

    # -- SMS ------------------------------------------------------------------------------

    def _sms(self, citizen: Citizen, asks_person: bool) -> None:
        for text in (ASK_PERSON, ASK_PERSON) if asks_person else (ASK_BOT,):
            self._post_sms(citizen.phone, text)
            if asks_person:
                time.sleep(2.0)  # the citizen reads the answer, then asks again

    def _post_sms(self, sender: str, text: str) -> None:
        sid = "SM" + secrets.token_hex(16)
        form = {
            "MessageSid": sid, "SmsSid": sid, "AccountSid": "ACbenchmark", "From": sender,
            "To": "+4570000000", "Body": text, "NumMedia": "0", "NumSegments": "1",
            "SmsStatus": "received", "ApiVersion": "2010-04-01",
        }  # fmt: skip
        url = f"{self.url}/twilio/sms"
        answer = requests.post(
            url,
            data=urlencode(form),
            headers={
                "X-Twilio-Signature": sign(url, form, self.token),
                "Content-Type": "application/x-www-form-urlencoded",
            },
            timeout=30,
        )
        assert answer.status_code == 200, f"SMS webhook: HTTP {answer.status_code}"

    # -- voice ----------------------------------------------------------------------------

    def _call(self, citizen: Citizen, asks_person: bool) -> None:
        line = Line(self.url, self.token)
        call = Phone(line, citizen.phone, http_send(self.url, self.url, timeout=30))
        call.dial()
        call.say(ASK_PERSON if asks_person else ASK_BOT)
        if call.gather is not None and asks_person:
            call.say("person")  # offered the digital route first: asks again
        if call.gather is not None and not asks_person:
            call.say("yes")  # the link to the digital route, texted
        # A caller in the queue stays there (their call is answered or called back).


def run_load(traffic: Traffic, rate: float, seconds: float, person_share: float) -> float:
    """Start `rate` contacts a second for `seconds`, spread over the channels; return the
    seconds it took to start them (a load generator that falls behind shows it)."""
    total = int(rate * seconds)
    channels = ("webchat", "sms", "voice")
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=96) as pool:
        for i in range(total):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            citizen = traffic.citizens[i % len(traffic.citizens)]
            channel = channels[i % 3] if i % 10 else "voice" if i % 20 else "sms"
            asks = citizen.exempt or traffic.rng.random() < person_share
            pool.submit(traffic.contact, channel, citizen, asks)
        behind = time.monotonic() - start
    return behind


class Desk:
    """`agents` agents answering through the desk's API: claim, hold `handle` s, resolve.

    An agent who takes a contact waiting for its callback calls the citizen back (the desk's
    Call back now; the sandbox's phone answers and is put through), then resolves it. A
    callback the scheduler places while an agent is free is assigned to that agent when the
    citizen answers: each agent also resolves the conversations assigned to them that they
    did not claim (`assigned`: the ids their desk lists, read from kanal's database).
    """

    def __init__(
        self,
        url: str,
        agents: list[tuple[str, int]],
        handle: float,
        assigned: Callable[[int], list[int]] | None = None,
    ) -> None:
        self.url = url
        self.handle = handle
        self.assigned = assigned
        self.stop = threading.Event()
        self.answered = Counter()
        self.called_back = 0
        self.swept = 0
        self.errors = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._agent, args=a) for a in agents]

    def __enter__(self) -> Desk:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)

    def _resolve(self, session: requests.Session, auth: dict, contact_id: int) -> bool:
        done = session.post(
            f"{self.url}/api/v1/desk/conversations/{contact_id}/resolve",
            json={"wrap_up": "answered", "outcome": "resolved"},
            headers=auth,
            timeout=30,
        )
        return done.status_code == 200

    def _agent(self, token: str, agent_id: int) -> None:
        auth = {"Authorization": f"Bearer {token}"}
        session = requests.Session()
        session.post(f"{self.url}/api/v1/desk/presence", json={"status": "available"},
                     headers=auth, timeout=30)  # fmt: skip
        while not self.stop.is_set():
            try:
                for contact_id in self.assigned(agent_id) if self.assigned else ():
                    # Put through by a callback the scheduler placed: talk, then resolve.
                    self.stop.wait(self.handle)
                    if self._resolve(session, auth, contact_id):
                        with self.lock:
                            self.swept += 1
                got = session.post(f"{self.url}/api/v1/desk/claim", headers=auth, timeout=30)
                if got.status_code == 204:
                    self.stop.wait(0.5)
                    continue
                if got.status_code != 200:
                    self.errors += 1
                    self.stop.wait(0.5)
                    continue
                claimed = got.json()
                contact_id = claimed["conversation_id"]
                back = session.post(
                    f"{self.url}/api/v1/desk/conversations/{contact_id}/call-back",
                    headers=auth,
                    timeout=30,
                )
                if back.status_code == 200 and back.json().get("callback") == "calling":
                    with self.lock:
                        self.called_back += 1
                elif back.status_code not in (200, 409):
                    self.errors += 1
                self.stop.wait(self.handle)
                self.errors += not self._resolve(session, auth, contact_id)
                self.answered[claimed.get("channel", "?")] += 1
            except requests.RequestException:
                self.errors += 1
                self.stop.wait(0.5)
