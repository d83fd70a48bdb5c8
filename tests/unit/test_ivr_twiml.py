"""Exact TwiML for each step: parsed XML, compared element by element."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ivr import flow, twiml
from ivr import prompts as p

pytestmark = pytest.mark.unit

SETTINGS = flow.LineSettings(languages=("da", "en"), agency="kanal")


def tree(response) -> list[tuple]:  # noqa: ANN001
    """Return the TwiML as nested (tag, attributes, text, children) tuples."""

    def walk(e: ET.Element) -> tuple:
        return (e.tag, dict(e.attrib), (e.text or "").strip(), [walk(c) for c in e])

    root = ET.fromstring(str(response))
    assert root.tag == "Response"
    return [walk(c) for c in root]


def url(step: str) -> str:
    return f"https://kanal.example/twilio/voice/{step}?c=5"


def nobody(task, call):  # noqa: ANN001, ANN201
    raise AssertionError(f"no task expected, got {task}")


def say(lang: str, text: str) -> tuple:
    v = p.VOICES[lang]
    return ("Say", {"voice": v.voice, "language": v.language}, text, [])


def test_the_greeting_of_a_known_danish_caller_gathers_speech_and_keys_in_danish():
    reply = flow.respond("start", flow.CallState(contact=5, lang="da", known=True), flow.Heard(),
                         nobody, SETTINGS)  # fmt: skip
    assert tree(twiml.render(reply, url)) == [
        (
            "Gather",
            {
                "input": "speech dtmf",
                "action": url("heard"),
                "method": "POST",
                "actionOnEmptyResult": "true",
                "timeout": "5",
                "language": "da-DK",
                "speechModel": "default",
                "speechTimeout": "auto",
                "hints": p.hints("da"),
            },
            "",
            [
                say("da", p.text("da", "welcome_known", agency="kanal")),
                say("da", p.text("da", "ask", menu=p.menu("da"))),
            ],
        )
    ]


def test_the_language_choice_gathers_one_key():
    reply = flow.respond("start", flow.CallState(contact=5), flow.Heard(), nobody, SETTINGS)
    assert tree(twiml.render(reply, url)) == [
        (
            "Gather",
            {"input": "dtmf", "action": url("language"), "method": "POST",
             "actionOnEmptyResult": "true", "timeout": "5", "numDigits": "1"},
            "",
            [say("da", "Velkommen til kanal."), say("da", "For dansk, tryk 1."),
             say("da", "For English, press 2.")],
        )
    ]  # fmt: skip


def test_a_caller_for_a_person_is_enqueued_in_the_contacts_own_queue():
    def perform(task, call):  # noqa: ANN001, ANN202
        return flow.TurnOutcome("assisted")

    reply = flow.respond("heard", flow.CallState(contact=5, lang="en"), flow.Heard(digits="0"),
                         perform, SETTINGS)  # fmt: skip
    assert tree(twiml.render(reply, url, queue="contact-5")) == [
        say("en", p.text("en", "to_person")),
        ("Enqueue", {"waitUrl": url("wait"), "waitUrlMethod": "POST", "action": url("queued"),
                     "method": "POST"}, "contact-5", []),
    ]  # fmt: skip


def test_the_wait_loop_announces_then_pauses_or_plays_hold_music():
    reply = flow.wait(flow.CallState(contact=5, lang="en"), 2, 240, 10, SETTINGS)
    assert tree(twiml.render(reply, url)) == [
        say("en", "You are number 2 in the queue."),
        say("en", "The expected wait is about 4 minutes."),
        ("Pause", {"length": str(twiml.PAUSE_SECONDS)}, "", []),
    ]
    music = tree(twiml.render(reply, url, hold_music="https://x.example/hold.mp3"))
    assert music[-1] == ("Play", {}, "https://x.example/hold.mp3", [])


def test_the_callback_offer_gathers_one_key_inside_the_wait_loop():
    reply = flow.wait(flow.CallState(contact=5, lang="da"), 1, 30, 300, SETTINGS)
    assert tree(twiml.render(reply, url)) == [
        ("Gather", {"input": "dtmf", "action": url("wait-choice"), "method": "POST",
                    "actionOnEmptyResult": "true", "timeout": "5", "numDigits": "1"}, "",
         [say("da", "Du er den næste i køen."), say("da", p.text("da", "callback_offer"))]),
    ]  # fmt: skip


def test_a_booked_callback_leaves_the_queue_and_the_link_sent_hangs_up():
    def perform(task, call):  # noqa: ANN001, ANN202
        return flow.CallbackTime(True) if isinstance(task, flow.Book) else flow.Texted("sent")

    call = flow.CallState(contact=5, lang="en")
    booked = flow.respond("wait-choice", call, flow.Heard(digits="1"), perform, SETTINGS)
    assert tree(twiml.render(booked, url)) == [
        say("en", p.text("en", "callback_booked", when=p.text("en", "when_soon"))),
        ("Leave", {}, "", []),
    ]
    sent = flow.respond("offer", call, flow.Heard(digits="1"), perform, SETTINGS)
    assert tree(twiml.render(sent, url)) == [
        say("en", p.text("en", "link_sent")),
        ("Hangup", {}, "", []),
    ]


def test_the_agent_leg_dials_the_callers_queue_and_announces_the_adviser():
    assert tree(twiml.agent_leg("contact-5", "https://kanal.example/twilio/voice/connecting")) == [
        ("Dial", {}, "", [("Queue", {"url": "https://kanal.example/twilio/voice/connecting"},
                           "contact-5", [])]),
    ]  # fmt: skip
    assert tree(twiml.render(flow.connecting("da"), url)) == [
        say("da", "Du er nu forbundet til en medarbejder.")
    ]


def test_the_digital_offer_speaks_the_answer_then_gathers_yes_or_a_key_at_the_offer_step():
    def perform(task, call):  # noqa: ANN001, ANN202
        return flow.TurnOutcome("offer_digital", said=("See the agency's website.",))

    reply = flow.respond("heard", flow.CallState(contact=5, lang="en", n=3),
                         flow.Heard(speech="when is my pension paid", confidence=0.8), perform,
                         SETTINGS)  # fmt: skip
    [gather] = tree(twiml.render(reply, url))
    assert gather[0] == "Gather" and gather[1]["action"] == url("offer")
    assert gather[1]["input"] == "speech dtmf" and gather[1]["language"] == "en-GB"
    assert gather[1]["speechModel"] == "phone_call"
    assert gather[3] == [say("en", "See the agency's website."), say("en", p.text("en", "offer"))]
    assert reply.state.n == 4


def test_a_wait_that_ends_in_a_queue_error_books_a_callback_and_says_so():
    def perform(task, call):  # noqa: ANN001, ANN202
        assert task == flow.Book("waited_too_long")
        return flow.CallbackTime(True)

    reply = flow.queued(flow.CallState(contact=5, lang="da"), "queue-full", perform)
    assert tree(twiml.render(reply, url)) == [
        say("da", p.text("da", "queue_problem")),
        say("da", p.text("da", "callback_booked", when=p.text("da", "when_soon"))),
        ("Hangup", {}, "", []),
    ]
    bridged = flow.queued(flow.CallState(contact=5, lang="da"), "bridged", perform)
    assert tree(twiml.render(bridged, url)) == [("Hangup", {}, "", [])]
