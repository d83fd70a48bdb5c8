"""Everything the phone says, in English and Danish, and how each language is spoken.

One table (`VOICES`) pairs each language with Twilio's recognition `language`, the Amazon
Polly voice that reads it and the speech model: an unsupported voice/language pair makes
`<Say>` fail, so the pairs live here only and the tests check them. Texts are plain
`str.format` templates; the lead moves them into the Babel catalogues.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Voice:
    """How one language is spoken and heard on the phone."""

    language: str  # Twilio's <Say>/<Gather> language tag
    voice: str  # Amazon Polly voice for that tag
    speech_model: str  # Twilio <Gather speechModel>


VOICES: dict[str, Voice] = {
    "en": Voice("en-GB", "Polly.Amy", "phone_call"),
    "da": Voice("da-DK", "Polly.Naja", "default"),
}
# Polly voices per Twilio language tag (docs/domain.md §5.7): a voice outside its tag fails.
POLLY_VOICES = {
    "en-GB": frozenset({"Polly.Amy", "Polly.Brian", "Polly.Emma", "Polly.Arthur"}),
    "da-DK": frozenset({"Polly.Naja", "Polly.Mads", "Polly.Sofie"}),
}
DEFAULT_LANGUAGE = "en"

# What a keypad digit at the main menu stands for: a need, said as a citizen would say it
# (so the digit goes through the same turn as speech), and how the menu names it.
MENU = ("payment_date", "application_status", "change_address", "report_change")
NEED_PHRASES = {
    "en": {
        "payment_date": "when is my payment",
        "application_status": "what is the status of my application",
        "change_address": "I want to change my address",
        "report_change": "I want to report a change",
    },
    "da": {
        "payment_date": "hvornår bliver min ydelse udbetalt",
        "application_status": "hvordan går det med min ansøgning",
        "change_address": "jeg vil ændre min adresse",
        "report_change": "jeg vil melde en ændring",
    },
}
NEED_NAMES = {
    "en": {
        "payment_date": "payments",
        "application_status": "your application",
        "change_address": "a new address",
        "report_change": "reporting a change",
    },
    "da": {
        "payment_date": "udbetalinger",
        "application_status": "din ansøgning",
        "change_address": "ny adresse",
        "report_change": "at melde en ændring",
    },
}
# Words that help the recogniser, per language and per need the bot serves (the needs of
# bots/rasa/digital_routes.yml; a test keeps them in step): `hints()` joins them with the way
# out (person words) and yes/no.
NEED_HINTS = {
    "en": {
        "payment_date": "payment date, when is my payment, pension paid",
        "missing_payment": "missing payment, payment did not arrive",
        "application_status": "application status, my case",
        "change_address": "change address, new address, moving",
        "report_change": "report a change, income, work",
        "login_help": "log in, digital ID, MitID",
        "document_upload": "upload documents, send papers",
        "complaint": "complaint, appeal",
        "apply_benefit": "apply, pension, unemployment, child benefit, housing benefit",
    },
    "da": {
        "payment_date": "udbetaling, hvornår får jeg penge, pension udbetalt",
        "missing_payment": "mangler udbetaling, pengene er ikke kommet",
        "application_status": "ansøgning, min sag",
        "change_address": "ny adresse, flytte, adresseændring",
        "report_change": "melde ændring, indtægt, arbejde",
        "login_help": "logge ind, MitID",
        "document_upload": "sende dokumenter, uploade",
        "complaint": "klage, anke",
        "apply_benefit": "søge, pension, dagpenge, børnetilskud, boligstøtte",
    },
}


def hints(language: str) -> str:
    """Return the recogniser's hints for a language: the bot's needs, a person, yes and no."""
    lang = language if language in NEED_HINTS else DEFAULT_LANGUAGE
    words = [*NEED_HINTS[lang].values(), ", ".join(PERSON_WORDS[lang])]
    words.append(", ".join(YES_WORDS[lang][:2] + NO_WORDS[lang][:2]))
    return ", ".join(words)


# Words that ask for a person at every step, with 0 on the keypad.
PERSON_WORDS = {
    "en": ("agent", "person", "operator", "human", "someone"),
    "da": ("medarbejder", "menneske", "person", "sagsbehandler"),
}
# Words that ask to be called back instead of waiting (when a person is what the policy says).
CALLBACK_WORDS = {
    "en": ("call me back", "call back", "callback", "ring me back", "phone me back"),
    "da": (
        "ring mig op",
        "ringe mig op",
        "ring tilbage",
        "ringe tilbage",
        "ringer tilbage",
        "ring mig tilbage",
        "ringe mig tilbage",
    ),
}
YES_WORDS = {
    "en": ("yes", "yeah", "yep", "please", "sure", "ok", "okay"),
    "da": ("ja", "gerne", "jo", "ok", "okay"),
}
NO_WORDS = {
    "en": ("no", "nope", "not", "nothing", "goodbye", "bye", "that's all", "thanks"),
    "da": ("nej", "ikke", "farvel", "tak", "intet", "det var det"),
}

# Language names as each language says itself, for the language choice.
CHOOSE_LANGUAGE = {
    "en": "For English, press {digit}.",
    "da": "For dansk, tryk {digit}.",
}

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "welcome": "Welcome to {agency}.",
        "welcome_known": "Welcome to {agency}. We recognise your number.",
        "ask": (
            "In a few words, what are you calling about? You can also use the keypad: {menu}. "
            "Press 0 or say person to talk to a person."
        ),
        "menu_item": "for {name} press {digit}",
        "ask_again": (
            "Sorry, I didn't catch that. Please say it in other words, for example "
            "'when is my payment', or press 0 for a person."
        ),
        "silence": "I didn't hear anything. Please tell me what you are calling about, "
        "or press 0 for a person.",
        "anything_else": "Is there anything else? Say it now, or say no to end the call. "
        "Press 0 for a person.",
        "offer": (
            "I can text you a link to do this online, at any time. To get the text, press 1 or "
            "say yes. Press 2 or say no to talk to a person."
        ),
        "offer_again": "To get the link by text message, press 1. For a person, press 2 or 0.",
        "link_sent": "I have sent you a text message with the link. Thank you for calling. "
        "Goodbye.",
        "link_blocked": (
            "You have asked us not to send text messages to this number, so I cannot text you. "
            "I will put you through to a person."
        ),
        "no_link": "I'm sorry, I cannot text you a link for this. I will put you through to a "
        "person.",
        "to_person": "I will put you through to a person.",
        "queue_position": "You are number {position} in the queue.",
        "queue_wait": "The expected wait is about {minutes} minutes.",
        "queue_wait_short": "Someone should be with you in about a minute.",
        "queue_next": "You are next in line.",
        "callback_offer": "To be called back instead, press 1. You keep your place in the queue.",
        "callback_booked": "Thank you. We will call you back on this number {when}. You keep "
        "your place. Goodbye.",
        "callback_closed": "We are closed now. Our staff answer {hours}. We will call you back "
        "on this number {when}. You won't need to repeat anything. Goodbye.",
        "callback_failed": "I'm sorry, I could not book a call back. Please stay on the line.",
        # A callback the citizen answered (ivr/legs.py): who calls, then the adviser.
        "calling_back": "Hello, this is {agency} calling you back, as you asked. Please hold "
        "while we connect you to an adviser.",
        "calling_back_gone": "Hello, this is {agency}. We tried to call you back, but the "
        "adviser is no longer available. Please call us again. Goodbye.",
        "when_soon": "as soon as an adviser is free",
        "when_at": "on {day} at {time}",
        "still_waiting": "Thank you for waiting. You keep your place.",
        "connected": "You are now connected to an adviser.",
        "goodbye": "Thank you for calling. Goodbye.",
        "queue_problem": "I'm sorry, we could not keep you in the queue.",
        "call_again": "I'm sorry, this conversation has already ended. Please call us again.",
        "hours": "from {opens} to {closes} on weekdays",
        "link_sms": "Here is the link you asked for on the phone: {link}",
    },
    "da": {
        "welcome": "Velkommen til {agency}.",
        "welcome_known": "Velkommen til {agency}. Vi kan se, hvem du er ud fra dit nummer.",
        "ask": (
            "Fortæl kort, hvad du ringer om. Du kan også bruge tastaturet: {menu}. "
            "Tryk 0 eller sig medarbejder for at tale med en medarbejder."
        ),
        "menu_item": "tryk {digit} for {name}",
        "ask_again": (
            "Undskyld, det forstod jeg ikke. Sig det gerne med andre ord, for eksempel "
            "'hvornår får jeg min pension', eller tryk 0 for en medarbejder."
        ),
        "silence": "Jeg hørte ikke noget. Fortæl, hvad du ringer om, eller tryk 0 for en "
        "medarbejder.",
        "anything_else": "Er der andet, jeg kan hjælpe med? Sig det nu, eller sig nej for at "
        "afslutte. Tryk 0 for en medarbejder.",
        "offer": (
            "Jeg kan sende dig et link i en sms, så du kan klare det selv på nettet, når det "
            "passer dig. Tryk 1 eller sig ja for at få sms'en. Tryk 2 eller sig nej for at tale "
            "med en medarbejder."
        ),
        "offer_again": "Tryk 1 for at få linket i en sms. Tryk 2 eller 0 for en medarbejder.",
        "link_sent": "Jeg har sendt dig en sms med linket. Tak for opkaldet. Farvel.",
        "link_blocked": (
            "Du har bedt os om ikke at sende sms til dette nummer, så jeg kan ikke sende linket. "
            "Jeg stiller dig videre til en medarbejder."
        ),
        "no_link": "Jeg kan desværre ikke sende et link til det her. Jeg stiller dig videre til "
        "en medarbejder.",
        "to_person": "Jeg stiller dig videre til en medarbejder.",
        "queue_position": "Du er nummer {position} i køen.",
        "queue_wait": "Den forventede ventetid er cirka {minutes} minutter.",
        "queue_wait_short": "En medarbejder er hos dig om cirka et minut.",
        "queue_next": "Du er den næste i køen.",
        "callback_offer": "Tryk 1, hvis du hellere vil ringes op. Du beholder din plads i køen.",
        "callback_booked": "Tak. Vi ringer dig op på dette nummer {when}. Du beholder din "
        "plads. Farvel.",
        "callback_closed": "Vi har lukket nu. Vores medarbejdere svarer {hours}. Vi ringer dig "
        "op på dette nummer {when}. Du skal ikke gentage noget. Farvel.",
        "callback_failed": "Jeg kunne desværre ikke bestille et opkald. Bliv venligst i røret.",
        "calling_back": "Hej, det er {agency}, der ringer dig op, som du bad om. Vent venligst, "
        "mens vi stiller dig om til en rådgiver.",
        "calling_back_gone": "Hej, det er {agency}. Vi prøvede at ringe dig op, men rådgiveren er "
        "ikke længere ledig. Ring venligst til os igen. Farvel.",
        "when_soon": "så snart en medarbejder er ledig",
        "when_at": "{day} klokken {time}",
        "still_waiting": "Tak fordi du venter. Du beholder din plads.",
        "connected": "Du er nu forbundet til en medarbejder.",
        "goodbye": "Tak for opkaldet. Farvel.",
        "queue_problem": "Vi kunne desværre ikke holde dig i køen.",
        "call_again": "Beklager, denne samtale er allerede afsluttet. Ring venligst igen.",
        "hours": "fra {opens} til {closes} på hverdage",
        "link_sms": "Her er linket, du bad om i telefonen: {link}",
    },
}
WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "da": ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
}


def language_of(language: str | None, offered: tuple[str, ...]) -> str:
    """Return the language to speak: the one asked for if offered, else the first offered."""
    if language in offered and language in TEXTS:
        return language
    return next((lang for lang in offered if lang in TEXTS), DEFAULT_LANGUAGE)


def text(language: str, key: str, **values: object) -> str:
    """Return one prompt in a language (English when the language has no such prompt)."""
    template = TEXTS.get(language, TEXTS[DEFAULT_LANGUAGE]).get(key) or TEXTS["en"][key]
    return template.format(**values)


def menu(language: str) -> str:
    """Return the keypad menu as it is read out: "for payments press 1, ..."."""
    names = NEED_NAMES.get(language, NEED_NAMES["en"])
    return ", ".join(
        text(language, "menu_item", name=names[need], digit=i) for i, need in enumerate(MENU, 1)
    )


def has_word(words: dict[str, tuple[str, ...]], language: str, said: str) -> bool:
    """Return True when what the caller said holds one of the words, in any language."""
    spoken = " " + " ".join(re.sub(r"[^\w']+", " ", said.lower()).split()) + " "
    for_language = words.get(language, ()) + tuple(w for ws in words.values() for w in ws)
    return any(f" {w} " in spoken for w in for_language)
