"""What `kanal web`'s loop reads itself: one whole, plain `POST /twilio/sms`; anything else,
however slightly unusual, is left to gunicorn's parser (router/entrypoints/web_worker.py)."""

import socket

import pytest

from router.entrypoints.web_worker import MORE, _may_be_sms, plain_request

pytestmark = pytest.mark.unit

BODY = b"MessageSid=SM1&From=%2B4512345678&Body=Hello"


def request(*headers: str, body: bytes = BODY, line: str = "POST /twilio/sms HTTP/1.1") -> bytes:
    head = [line, "Host: kanal.example", *headers]
    if not any(h.lower().startswith("content-length") for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def test_a_whole_plain_webhook_is_read_with_its_headers_in_lower_case():
    data = request("X-Twilio-Signature: abc=", "Content-Type: application/x-www-form-urlencoded")
    headers, body, length = plain_request(data)
    assert body == BODY
    assert length == len(data)
    assert headers["x-twilio-signature"] == "abc="
    assert headers["content-type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    "data",
    [
        request() + request(),  # a second request pipelined behind it
        request("Transfer-Encoding: chunked"),
        request("Expect: 100-continue"),
        request("Connection: close"),
        request("Upgrade: h2c"),
        request("Content-Length: 45", "Content-Length: 45"),  # repeated: smuggling's tool
        request("X-Twilio-Signature: a", "x-twilio-signature: b"),
        request("Content-Length : 45"),  # whitespace before the colon (RFC 9112: refuse)
        request("Content-Length: -1"),
        request("Content-Length: 4 5"),
        request("NoColonHere"),
        request(line="POST /twilio/sms?x=1 HTTP/1.1"),
        request(line="POST /twilio/sms/status HTTP/1.1"),
        request(line="POST /twilio/sms HTTP/1.0"),
        request(line="GET /twilio/sms HTTP/1.1"),
        request(line="post /twilio/sms HTTP/1.1"),
        b"POST /twilio/sms HTTP/1.1\r\n" + b"X-Long: " + b"a" * 9000 + b"\r\n\r\n",
        request("Content-Length: 99999999"),  # a body too long to wait for here
        b"GET / HTTP/1.1\r\n\r\n",
        b"",  # nothing came after all: a thread waits for it, as gthread's would
    ],
    ids=lambda d: d[:60].decode("latin-1"),
)
def test_anything_less_plain_is_left_to_gunicorn(data):
    assert plain_request(data) is None


@pytest.mark.parametrize(
    "data",
    [
        request()[:-3],  # the body still on its way (sent apart from the headers)
        request()[: request().index(b"\r\n\r\n") + 4],  # the headers alone
        b"POST /twilio/sms HTTP/1.1\r\nContent-Length: 0\r\n",  # headers not ended
        b"POST /twil",
    ],
    ids=lambda d: d[:60].decode("latin-1"),
)
def test_a_request_that_may_become_plain_is_waited_for(data):
    assert plain_request(data) == MORE


@pytest.mark.parametrize(
    ("arrived", "may_be"),
    [
        (b"POST /api/v1/chat/sessions/s_1/messages HTTP/1.1\r\nHost: x\r\n\r\n", False),
        (b"GET /healthz HTTP/1.1\r\n\r\n", False),
        (b"POST /twilio/smsX HTTP/1.1\r\n", False),
        (b"POST /twi", True),  # the rest of the line is on its way
        (b"POST /twilio/sms HTTP/1.1\r\nContent-Length: 0\r\n\r\n", True),
    ],
)
def test_the_loop_peeks_and_leaves_other_requests_unread(arrived, may_be):
    """A chat message or a page is left on the socket for gunicorn's parser: the loop only
    peeks at the request line, and reads nothing it would have to put back."""
    ours, theirs = socket.socketpair()
    try:
        ours.setblocking(False)
        theirs.sendall(arrived)
        assert _may_be_sms(ours) is may_be
        assert ours.recv(len(arrived) + 10) == arrived  # nothing was consumed
    finally:
        ours.close()
        theirs.close()


def test_a_closed_connection_is_left_to_the_read_that_meets_it():
    ours, theirs = socket.socketpair()
    theirs.close()
    try:
        assert _may_be_sms(ours) is True
    finally:
        ours.close()
