"""The acknowledging lane reads a webhook's form as the standard parser does (the signature
is computed over what it reads, so a difference would refuse Twilio or accept a forgery)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.sms_lane import form_fields


def standard(body: bytes) -> list[tuple[str, str]] | type[Exception]:
    try:
        return parse_qsl(body.decode("ascii"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        return type(exc)


def ours(body: bytes) -> list[tuple[str, str]] | type[Exception]:
    try:
        return form_fields(body)
    except (UnicodeDecodeError, ValueError) as exc:
        return type(exc)


@pytest.mark.parametrize(
    "body",
    [
        b"Body=When+is+my+payment%3F&From=%2B4531000000&MessageSid=SM1",
        b"", b"&&", b"a", b"a=", b"=b", b"a=b=c", b"a=1&a=2", b"%zz=1", b"x=%C3%A6%C3%B8",
        b"x=%ff", b"x=\xc3\xa6", b"a+b=c+d", b"a%26b=c%3Dd", b"x=%",
    ],
)  # fmt: skip
def test_tricky_forms_read_as_the_standard_parser_reads_them(body):
    assert ours(body) == standard(body)


@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=12)), max_size=6))
def test_any_encoded_form_reads_back_as_sent(fields):
    body = urlencode(fields).encode()
    assert ours(body) == standard(body) == fields


@given(st.binary(max_size=40))
def test_any_bytes_read_as_the_standard_parser_reads_them(body):
    assert ours(body) == standard(body)
