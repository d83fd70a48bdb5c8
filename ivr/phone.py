"""A phone call in a terminal (and in the tests): plays Twilio's part against kanal.

The driver posts signed requests exactly as Twilio would (CallSid, AccountSid, From, To,
CallStatus, Direction, then SpeechResult + Confidence or Digits at each <Gather>), reads the
TwiML answers with ElementTree, collects what <Say> says, follows <Redirect>, and plays the
queue: <Enqueue> requests the wait URL with QueueTime as the wait goes on, <Leave> and hanging
up post the Enqueue action with QueueResult, and the end of the call posts the status
callback. Its `send` is the only way out, so the tests drive it through Flask's test client
and `kanal phone` through HTTP (ivr/phone_transport.py).

In sandbox mode the caller's place in the Twilio queue is held by the sandbox's voice queue
endpoints (POST/DELETE /sandbox/voice/queues/<name>/members, GET /sandbox/voice/calls/<sid>):
an agent's `<Dial><Queue>` bridges the caller there. Where the sandbox does not answer them
(404), the driver plays the queue alone.
"""

from __future__ import annotations

import json
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from channels.twilio_signature import sign
from ivr.phone_transport import Send


class CallFailed(RuntimeError):
    """kanal answered something Twilio would not accept; the text says what."""


@dataclass
class Line:
    """The agency's number and credentials, as Twilio knows them."""

    public_url: str
    auth_token: str
    account_sid: str = "ACkanal0000000000000000000000sandbox"
    agency_number: str = "+4570000000"


@dataclass
class Phone:
    """One call from `caller` to the agency; `said` holds everything <Say> said, in order."""

    line: Line
    caller: str
    send: Send
    call_sid: str = field(default_factory=lambda: "CA" + secrets.token_hex(16))
    said: list[str] = field(default_factory=list)
    gather: dict | None = None  # the pending <Gather>: action, input, numDigits
    queue: dict | None = None  # while waiting: name, waitUrl, action
    queue_time: int = 0
    status: str = "ringing"
    voices: list[tuple[str, str]] = field(default_factory=list)  # (language, voice) per Say
    show: Callable[[str], None] = lambda line: None  # what the phone says
    note: Callable[[str], None] = lambda line: None  # what happens on the line (not spoken)
    sandbox_queue: bool = True
    bridged_to: str | None = None  # the agent an agent's <Dial><Queue> bridged the caller to

    # -- Twilio's requests ----------------------------------------------------------------

    def _form(self, **extra: str) -> dict:
        form = {
            "CallSid": self.call_sid,
            "AccountSid": self.line.account_sid,
            "From": self.caller,
            "To": self.line.agency_number,
            "Caller": self.caller,
            "Called": self.line.agency_number,
            "CallStatus": self.status,
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        form.update({k: v for k, v in extra.items() if v is not None})
        return form

    def _absolute(self, url: str) -> str:
        if url.startswith("http"):
            return url
        return self.line.public_url.rstrip("/") + "/" + url.lstrip("/")

    def request(self, url: str, **extra: str) -> str:
        """Post a signed request to kanal and return the TwiML it answered."""
        url = self._absolute(url)
        form = self._form(**extra)
        headers = {
            "X-Twilio-Signature": sign(url, form, self.line.auth_token),
            "User-Agent": "TwilioProxy/1.1 (kanal phone)",
        }
        status, body = self.send("POST", url, form, headers)
        if status == 204:
            return ""
        if status != 200:
            raise CallFailed(f"kanal answered HTTP {status} to {urlsplit(url).path}: {body}")
        return body

    # -- the caller -----------------------------------------------------------------------

    def dial(self) -> Phone:
        """Call the agency: kanal answers the call."""
        self.status = "ringing"
        twiml = self.request("/twilio/voice")
        self.status = "in-progress"
        self.play(twiml)
        return self

    def say(self, speech: str, confidence: float = 0.92) -> Phone:
        """Say something at the prompt (Twilio's transcript and its confidence)."""
        return self._answer(SpeechResult=speech, Confidence=f"{confidence:.6f}")

    def press(self, digits: str) -> Phone:
        """Press keys at the prompt."""
        return self._answer(Digits=digits)

    def silence(self) -> Phone:
        """Say nothing until the prompt times out (actionOnEmptyResult posts anyway)."""
        return self._answer()

    def _answer(self, **heard: str) -> Phone:
        if self.gather is None:
            raise CallFailed("Nobody is listening: the call has no open <Gather>.")
        action, self.gather = self.gather["action"], None
        twiml = self.request(action, **heard)
        self.play(twiml, waiting=self.queue is not None)
        return self

    def wait(self, seconds: int = 30) -> Phone:
        """Wait in the queue this long: Twilio asks the wait URL again."""
        if self.queue is None:
            raise CallFailed("The caller is not waiting in a queue.")
        if self._is_bridged():
            return self
        self.queue_time += seconds
        self.gather = None
        twiml = self.request(
            self.queue["waitUrl"],
            QueueSid="QU" + self.call_sid[2:], QueuePosition="1", QueueTime=str(self.queue_time),
            AvgQueueTime=str(self.queue_time), CurrentQueueSize="1",
        )  # fmt: skip
        self.play(twiml, waiting=True)
        return self

    def hang_up(self) -> Phone:
        """Hang up: in a queue the Enqueue action hears `hangup` (`bridged` after talking to an
        agent); the status callback follows."""
        if self.bridged_to is not None and self.queue is not None:
            self._leave_queue("bridged")
        elif self.queue is not None:
            self._leave_queue("hangup")
        self.end("completed")
        return self

    def end(self, status: str = "completed") -> None:
        """The call is over: Twilio posts the status callback."""
        if self.status in ("completed", "busy", "failed", "no-answer", "canceled"):
            return
        self.status = status
        self.gather = None
        self.request("/twilio/voice/status", CallDuration="60")

    @property
    def ended(self) -> bool:
        return self.status == "completed"

    # -- TwiML ----------------------------------------------------------------------------

    def play(self, twiml: str, *, waiting: bool = False) -> None:
        """Carry out a TwiML answer verb by verb, as Twilio does."""
        if not twiml:
            return
        root = ET.fromstring(twiml)
        if root.tag != "Response":
            raise CallFailed(f"TwiML must start with <Response>, not <{root.tag}>.")
        for verb in root:
            if verb.tag == "Say":
                self._said(verb)
            elif verb.tag == "Gather":
                for inner in verb:
                    if inner.tag == "Say":
                        self._said(inner)
                self.gather = {
                    "action": verb.get("action"),
                    "input": verb.get("input", "dtmf"),
                    "numDigits": verb.get("numDigits"),
                    "language": verb.get("language"),
                }
                return
            elif verb.tag == "Redirect":
                self.play(self.request(verb.text.strip()), waiting=waiting)
                return
            elif verb.tag == "Enqueue":
                self._enqueue(verb)
                return
            elif verb.tag == "Leave":
                self._leave_queue("leave")
                return
            elif verb.tag == "Hangup":
                if self.queue is not None:
                    self._leave_queue("hangup")
                self.end("completed")
                return
            elif verb.tag in ("Play", "Pause"):
                continue
            else:
                raise CallFailed(f"The phone driver does not play <{verb.tag}>.")
        if not waiting and self.queue is None and self.gather is None:
            self.end("completed")  # Twilio hangs up when the TwiML runs out

    def _said(self, say: ET.Element) -> None:
        text = (say.text or "").strip()
        self.said.append(text)
        self.voices.append((say.get("language", ""), say.get("voice", "")))
        self.show(text)

    def _enqueue(self, verb: ET.Element) -> None:
        name = (verb.text or "").strip()
        if not name or len(name) > 64:
            raise CallFailed("A queue name has 1 to 64 characters.")
        self.queue = {"name": name, "waitUrl": verb.get("waitUrl"), "action": verb.get("action")}
        self.queue_time = 0
        self._sandbox("POST", f"/sandbox/voice/queues/{name}/members", CallSid=self.call_sid)
        self.wait(0)

    def _leave_queue(self, result: str) -> None:
        queue, self.queue = self.queue, None
        if queue is None:
            return
        if result != "bridged":
            self._sandbox(
                "DELETE", f"/sandbox/voice/queues/{queue['name']}/members/{self.call_sid}"
            )
        twiml = self.request(queue["action"], QueueResult=result, QueueTime=str(self.queue_time),
                             QueueSid="QU" + self.call_sid[2:])  # fmt: skip
        if result in ("hangup", "bridged"):
            return  # the caller is gone: Twilio ignores the action's TwiML
        self.play(twiml)

    def bridged(self) -> dict | None:
        """Return the sandbox's view of this call (bridged to an agent?), if it has one."""
        status, body = self.send("GET", self._absolute(f"/sandbox/voice/calls/{self.call_sid}"),
                                 {}, {})  # fmt: skip
        if status != 200:
            return None
        return json.loads(body)

    def check_bridged(self) -> bool:
        """Ask the sandbox whether an agent's leg has bridged the caller; announce it if so."""
        return self._is_bridged()

    def _is_bridged(self) -> bool:
        if not self.sandbox_queue or self.bridged_to is not None:
            return self.bridged_to is not None
        state = self.bridged()
        if not state or state.get("state") != "bridged":
            return False
        self.bridged_to = state.get("bridged_to") or "an agent"
        if state.get("announce_url"):
            self.play(self.request(state["announce_url"]), waiting=True)
        self.note(f"(connected to {self.bridged_to}: you are talking to the adviser)")
        return True

    def _sandbox(self, method: str, path: str, **form: str) -> None:
        """Hold the caller's place in the sandbox's voice queue; skipped where none serves."""
        if not self.sandbox_queue:
            return
        status, _ = self.send(method, self._absolute(path), form, {})
        if status in (404, 405):
            self.sandbox_queue = False  # this kanal has no sandbox voice queues
