"""The no-dead-end property through the real app: random callers, every path ends well.

Hypothesis plays random callers (speech, keys, silence, mumbling) through the phone driver
against kanal (scripted bot, SQLite and PostgreSQL): a call that ends has reached a person,
an answer, the link by SMS or a booked callback; a call still going can always reach a
person with 0.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr import prompts as p
from ivr.phone import Line, Phone
from ivr.phone_transport import flask_send
from router.domain.calls import Call

pytestmark = pytest.mark.integration

PUBLIC = "http://127.0.0.1:9"
ENDINGS = {p.text(lang, key) for lang in p.VOICES for key in ("goodbye", "link_sent")}

said = st.one_of(
    st.just(("silence", "")),
    st.tuples(st.just("press"), st.sampled_from(list("0123456789*#"))),
    st.tuples(
        st.just("say"),
        st.sampled_from(["when is my payment", "my address", "yes", "no", "ja", "nej", "bye",
                         "hello", "blah blah", "person", "medarbejder", "pension"]),
    ),
    st.tuples(st.just("mumble"), st.text(max_size=12)),
)  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(said, min_size=1, max_size=10), first=st.sampled_from(["1", "2", ""]))
def test_no_call_ends_without_a_person_an_answer_the_link_or_a_callback(app, kanal, steps, first):
    line = Line(public_url=PUBLIC, auth_token=app.config["TWILIO_AUTH_TOKEN"])
    number = "+4530" + str(abs(hash((tuple(steps), first))) % 10**6).zfill(6)
    call = Phone(line, number, flask_send(app.test_client(), PUBLIC)).dial()
    call.press(first) if first else call.silence()
    for kind, value in steps:
        if call.ended or call.gather is None:
            break
        if kind == "silence":
            call.silence()
        elif kind == "press":
            call.press(value)
        elif kind == "say":
            call.say(value)
        else:
            call.say(value, confidence=0.1)
    with kanal.uow() as uow:
        row = uow.calls.by_sid(call.call_sid)
        contact = uow.contacts.get(row.contact_id)
        booked = any(
            e.type in ("callback_booked", "callback_scheduled")
            for e in uow.events.for_contact(contact.id)
        )
        decisions = uow.decisions.for_contact(contact.id)
        said_goodbye = bool(decisions) and decisions[-1].action == "close"
    if call.ended:
        # An answer (goodbye after it), the link, a callback, a person, or the caller's goodbye.
        ended_well = call.said[-1] in ENDINGS or booked or row.queue_result or said_goodbye
        assert ended_well, call.said[-3:]
    elif call.queue is None:
        assert call.gather is not None, "a caller still on the line is listened to"
        call.press("0")
        assert call.queue is not None or call.ended and booked
    assert isinstance(row, Call)
