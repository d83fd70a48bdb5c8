"""Rendering the call flow's replies as TwiML, with twilio.twiml.voice_response only.

Every <Say> and speech <Gather> names its language and voice from the one table in
`ivr.prompts.VOICES`; the prompt is said inside the <Gather>, so the caller can answer (or
press a key) before it ends.
"""

from __future__ import annotations

from collections.abc import Callable

from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr import prompts
from ivr.call import Reply

# What the wait loop plays between announcements when no hold music is configured.
PAUSE_SECONDS = 20


def _say(target, lang: str, line: str) -> None:  # noqa: ANN001 - a VoiceResponse or Gather
    voice = prompts.VOICES.get(lang, prompts.VOICES[prompts.DEFAULT_LANGUAGE])
    target.say(line, voice=voice.voice, language=voice.language)


def render(
    reply: Reply,
    url: Callable[[str], str],
    *,
    queue: str | None = None,
    hold_music: str | None = None,
) -> VoiceResponse:
    """Return the TwiML for a reply; `url(step)` is the signed-for URL of a step."""
    response = VoiceResponse()
    lang = reply.lang
    if reply.gather is not None:
        g = reply.gather
        voice = prompts.VOICES.get(lang, prompts.VOICES[prompts.DEFAULT_LANGUAGE])
        attrs: dict[str, object] = {
            "input": g.input,
            "action": url(g.step),
            "method": "POST",
            "action_on_empty_result": True,
            "timeout": g.timeout,
        }
        if "speech" in g.input:
            attrs.update(
                language=voice.language,
                speech_model=voice.speech_model,
                speech_timeout="auto",
                hints=prompts.hints(lang),
            )
        if g.num_digits:
            attrs["num_digits"] = g.num_digits
        gather = Gather(**attrs)
        for line in reply.say:
            _say(gather, lang, line)
        response.append(gather)
        return response
    for line in reply.say:
        _say(response, lang, line)
    if reply.next == "enqueue":
        response.enqueue(
            queue, wait_url=url("wait"), wait_url_method="POST", action=url("queued"),
            method="POST",
        )  # fmt: skip
    elif reply.next == "hangup":
        response.hangup()
    elif reply.next == "leave":
        response.leave()
    elif reply.next == "pause":
        if hold_music:
            response.play(hold_music)
        else:
            response.pause(length=PAUSE_SECONDS)
    return response


def agent_leg(queue: str, connecting_url: str) -> VoiceResponse:
    """The agent's leg: bridge the caller waiting in the contact's own queue."""
    response = VoiceResponse()
    dial = response.dial()
    dial.queue(queue, url=connecting_url)
    return response
