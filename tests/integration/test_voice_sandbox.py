"""The sandbox places calls like Twilio: the Calls API through the official client, signed
fetches of the call's Url, signed status callbacks, and voice queues an agent's leg bridges."""

from __future__ import annotations

import threading

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from router.adapters.twilio_rest import SandboxHttpClient
from tests.integration import sms_support
from tests.integration.sms_support import ACCOUNT, AGENCY, TOKEN, new_number, wait_for

live = sms_support.live


class Peer:
    """A web app of the agency's as Twilio sees it: serves TwiML, records what Twilio posts."""

    def __init__(self, twiml: str) -> None:
        self.twiml = twiml
        self.requests: list[tuple[str, dict, bool]] = []
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wsgi(self, environ, start_response):
        request = Request(environ)
        form = request.form.to_dict()
        signed = RequestValidator(TOKEN).validate(
            request.base_url, form, request.headers.get("X-Twilio-Signature", "")
        )
        self.requests.append((request.path, form, signed))
        if request.path == "/missing":
            return Response("Not Found", status=404)(environ, start_response)
        body = self.twiml if request.path == "/answer" else ""
        return Response(body, mimetype="text/xml")(environ, start_response)

    def posted(self, path: str) -> list[dict]:
        return [form for p, form, _signed in self.requests if p == path]

    def statuses(self) -> list[str]:
        return [form["CallStatus"] for form in self.posted("/status")]

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def peer():
    made: list[Peer] = []

    def make(twiml: str = "<Response><Say>Hello</Say></Response>") -> Peer:
        made.append(Peer(twiml))
        return made[-1]

    yield make
    for p in made:
        p.close()


def twilio(live) -> Client:
    http = SandboxHttpClient(live.base_url + "/sandbox/twilio", timeout=5)
    return Client(ACCOUNT, TOKEN, http_client=http)


def place(live, to: str, peer: Peer, **kwargs):
    return twilio(live).calls.create(
        to=to,
        from_=AGENCY,
        url=peer.base + "/answer",
        status_callback=peer.base + "/status",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
        **kwargs,
    )


def calls_to(live, number: str) -> list[dict]:
    answer = requests.get(
        live.base_url + "/sandbox/outbox.json", params={"to": number, "kind": "calls"}, timeout=5
    )
    return answer.json()


def test_a_call_is_created_answered_fetched_and_reported_like_twilio(live, peer):
    agency = peer()
    number = new_number()
    call = place(live, number, agency)
    assert call.sid.startswith("CA") and len(call.sid) == 34
    assert (call.status, call.direction, call.to) == ("queued", "outbound-api", number)
    wait_for(lambda: "completed" in agency.statuses(), what="the completed callback")
    assert agency.statuses() == ["initiated", "ringing", "in-progress", "completed"]
    fetch = agency.posted("/answer")[0]
    assert fetch["CallSid"] == call.sid and fetch["Direction"] == "outbound-api"
    assert (fetch["To"], fetch["From"], fetch["AccountSid"]) == (number, AGENCY, ACCOUNT)
    assert fetch["CallStatus"] == "in-progress"
    assert all(signed for _p, _f, signed in agency.requests), "every request is signed"
    assert twilio(live).calls(call.sid).fetch().status == "completed"
    row = calls_to(live, number)[0]
    assert (row["sid"], row["said"], row["status"]) == (call.sid, "Hello", "completed")


def test_only_the_completed_event_is_reported_unless_more_are_asked_for(live, peer):
    agency = peer()
    number = new_number()
    twilio(live).calls.create(
        to=number,
        from_=AGENCY,
        url=agency.base + "/answer",
        status_callback=agency.base + "/status",
    )
    wait_for(lambda: agency.statuses(), what="a callback")
    wait_for(lambda: calls_to(live, number)[0]["status"] == "completed", what="the end")
    assert agency.statuses() == ["completed"]


@pytest.mark.parametrize("answer", ["busy", "no-answer", "failed"])
def test_a_number_told_to_refuse_ends_busy_no_answer_or_failed(live, peer, answer):
    agency = peer()
    number = new_number()
    control = requests.post(
        live.base_url + "/sandbox/voice/answers", data={"To": number, "Answer": answer}, timeout=5
    )
    assert control.status_code == 200
    place(live, number, agency)
    wait_for(lambda: answer in agency.statuses(), what=f"the {answer} callback")
    assert agency.statuses() == ["initiated", "ringing", answer]
    assert agency.posted("/answer") == [], "an unanswered call fetches no TwiML"


def test_a_counted_refusal_is_used_up_then_the_number_answers(live, peer):
    agency = peer()
    number = new_number()
    requests.post(
        live.base_url + "/sandbox/voice/answers",
        data={"To": number, "Answer": "busy", "Times": "1"},
        timeout=5,
    )
    place(live, number, agency)
    wait_for(lambda: "busy" in agency.statuses(), what="busy")
    place(live, number, agency)
    wait_for(lambda: "completed" in agency.statuses(), what="answered the second time")


def test_magic_numbers_answer_busy(live, peer):
    agency = peer()
    place(live, "+15005550010", agency)
    wait_for(lambda: "busy" in agency.statuses(), what="busy")


@pytest.mark.parametrize(
    ("to", "code"),
    [
        ("12345", 13223),
        ("+4512", 21211),
        ("+15005550001", 21217),
        ("+15005550002", 21214),
        ("+15005550003", 21215),
        ("+15005550004", 21216),
    ],
)
def test_refused_calls_carry_twilios_error_codes(live, peer, to, code):
    agency = peer()
    with pytest.raises(TwilioRestException) as refused:
        place(live, to, agency)
    assert (refused.value.status, refused.value.code) == (400, code)


def test_a_call_without_url_or_twiml_and_wrong_credentials_are_refused(live):
    with pytest.raises(TwilioRestException) as no_url:
        twilio(live).calls.create(to=new_number(), from_=AGENCY, url="")
    assert no_url.value.code == 21205
    http = SandboxHttpClient(live.base_url + "/sandbox/twilio", timeout=5)
    wrong = Client(ACCOUNT, "not-the-token", http_client=http)
    with pytest.raises(TwilioRestException) as unauthorised:
        wrong.calls.create(to=new_number(), from_=AGENCY, twiml="<Response/>")
    assert (unauthorised.value.status, unauthorised.value.code) == (401, 20003)


def test_a_dial_queue_bridges_the_first_caller_waiting_in_that_queue(live, peer):
    queue = "contact-41"
    base = live.base_url + "/sandbox/voice"
    first, second = "CA" + "1" * 32, "CA" + "2" * 32
    for sid in (first, second):
        joined = requests.post(f"{base}/queues/{queue}/members", data={"CallSid": sid}, timeout=5)
        assert joined.status_code == 201
    assert requests.get(f"{base}/calls/{first}", timeout=5).json()["state"] == "queued"
    agency = peer(
        '<Response><Dial><Queue url="/twilio/voice/connecting">contact-41</Queue></Dial></Response>'
    )
    place(live, "client:agent-3", agency)
    wait_for(
        lambda: requests.get(f"{base}/calls/{first}", timeout=5).json()["state"] == "bridged",
        what="the bridge",
    )
    state = requests.get(f"{base}/calls/{first}", timeout=5).json()
    assert state == {
        "state": "bridged",
        "queue": queue,
        "bridged_to": "client:agent-3",
        "announce_url": "/twilio/voice/connecting",
    }
    assert requests.get(f"{base}/calls/{second}", timeout=5).json()["state"] == "queued"


def test_a_caller_who_hangs_up_leaves_the_queue_and_is_never_bridged(live, peer):
    base = live.base_url + "/sandbox/voice"
    sid = "CA" + "3" * 32
    requests.post(f"{base}/queues/contact-7/members", data={"CallSid": sid}, timeout=5)
    assert requests.delete(f"{base}/queues/contact-7/members/{sid}", timeout=5).status_code == 204
    assert requests.get(f"{base}/calls/{sid}", timeout=5).json()["state"] == "left"
    agency = peer(
        '<Response><Dial action="/dialed"><Queue url="/c">contact-7</Queue></Dial></Response>'
    )
    place(live, "client:agent-1", agency)
    wait_for(lambda: agency.posted("/dialed"), what="the Dial's action")
    assert agency.posted("/dialed")[0]["DialCallStatus"] == "no-answer"
    assert requests.get(f"{base}/calls/{sid}", timeout=5).json()["state"] == "left"
    assert requests.get(f"{base}/calls/CAunknown", timeout=5).status_code == 404


def test_the_outbox_page_lists_calls_beside_messages(live, peer):
    agency = peer(
        "<Response><Say>Calling you back</Say><Dial><Client>agent-2</Client></Dial></Response>"
    )
    number = new_number()
    place(live, number, agency)
    wait_for(lambda: calls_to(live, number)[0]["status"] == "completed", what="the call")
    assert calls_to(live, number)[0]["connected_to"] == "client:agent-2"
    html = requests.get(live.base_url + "/sandbox/outbox", params={"to": number}, timeout=5).text
    assert "1 call to " + number in html
    assert "Calling you back" in html and "client:agent-2" in html


def test_an_application_error_is_spoken_and_the_answered_call_completes(live, peer):
    agency = peer()
    number = new_number()
    twilio(live).calls.create(
        to=number,
        from_=AGENCY,
        url=agency.base + "/missing",
        status_callback=agency.base + "/status",
    )
    wait_for(lambda: agency.statuses(), what="the completed callback")
    assert agency.statuses() == ["completed"]
    assert "application error" in calls_to(live, number)[0]["said"]
