"""Everything the phone says, and how each language is spoken.

One table (`VOICES`) pairs each language with Twilio's recognition `language`, the Amazon
Polly voice that reads it and the speech model: an unsupported voice/language pair makes
`<Say>` fail, so the pairs live here only and the tests check them. The phone speaks the
languages of that table.

The words are English message ids marked with `N_()`, translated through kanal's Babel
catalogues like every other text kanal writes to citizens (`router/translations/`,
docs/translations.md): `text()` says a prompt in the caller's language and fills in its
placeholders. What the caller may say (person, yes, no, callback words) and the recogniser's
hints are word lists per language below, not prompts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from router.service.translations import N_, translator


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
# TRANSLATORS: the next four are not said: a keypad choice is given to the bot as these words,
# so write them as a citizen would say the need in your language.
NEED_PHRASES = {
    "payment_date": N_("when is my payment"),
    "application_status": N_("has my application been processed"),
    "change_address": N_("I want to change my address"),
    "report_change": N_("I want to report a change"),
}
NEED_NAMES = {
    "payment_date": N_("payments"),
    "application_status": N_("your application"),
    "change_address": N_("a new address"),
    "report_change": N_("reporting a change"),
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

# The language choice: each offered language says this in itself ("For dansk, tryk 1.").
# TRANSLATORS: said in your language to offer it on the phone: name your language in itself.
CHOOSE_LANGUAGE = N_("For English, press {digit}.")

# Everything the phone says, as English message ids; `text()` says it in the caller's language.
PROMPTS: dict[str, str] = {
    # TRANSLATORS: the phone's greeting; {agency} is the agency's name (KANAL_AGENCY_NAME).
    "welcome": N_("Welcome to {agency}."),
    "welcome_known": N_("Welcome to {agency}. We recognise your number."),
    "ask": N_(
        "In a few words, what are you calling about? You can also use the keypad: {menu}. Press 0 "
        "or say person to talk to a person."
    ),
    # TRANSLATORS: one item of the keypad menu read out in the question ({menu}); {name} is a need's
    # name.
    "menu_item": N_("for {name} press {digit}"),
    "ask_again": N_(
        "Sorry, I didn't catch that. Please say it in other words, for example 'when is my "
        "payment', or press 0 for a person."
    ),
    "silence": N_(
        "I didn't hear anything. Please tell me what you are calling about, or press 0 for a "
        "person."
    ),
    "anything_else": N_(
        "Is there anything else? Say it now, or say no to end the call. Press 0 for a person."
    ),
    "offer": N_(
        "I can text you a link to do this online, at any time. To get the text, press 1 or say "
        "yes. Press 2 or say no to talk to a person."
    ),
    "offer_again": N_("To get the link by text message, press 1. For a person, press 2 or 0."),
    "link_sent": N_(
        "I have sent you a text message with the link. Thank you for calling. Goodbye."
    ),
    "link_blocked": N_(
        "You have asked us not to send text messages to this number, so I cannot text you. I will "
        "put you through to a person."
    ),
    "no_link": N_(
        "I'm sorry, I cannot text you a link for this. I will put you through to a person."
    ),
    "to_person": N_("I will put you through to a person."),
    "queue_position": N_("You are number {position} in the queue."),
    "queue_wait": N_("The expected wait is about {minutes} minutes."),
    "queue_wait_short": N_("Someone should be with you in about a minute."),
    "queue_next": N_("You are next in line."),
    "callback_offer": N_("To be called back instead, press 1. You keep your place in the queue."),
    "callback_booked": N_(
        "Thank you. We will call you back on this number {when}. You keep your place. Goodbye."
    ),
    "callback_closed": N_(
        "We are closed now. Our staff answer {hours}. We will call you back on this number {when}."
        " You won't need to repeat anything. Goodbye."
    ),
    "callback_failed": N_("I'm sorry, I could not book a call back. Please stay on the line."),
    # A caller with a callback booked on an earlier call (flow step "pending").
    "callback_pending": N_(
        "You already have a call back booked: we will call you {when}. To keep it, press 1. To "
        "cancel it, press 2. For something else, press 3."
    ),
    "callback_kept": N_("Thank you. We will call you back as booked. Goodbye."),
    "callback_cancelled": N_("Your call back is cancelled."),
    "callback_not_cancelled": N_(
        "I'm sorry, we are calling you back right now, so the call back could not be cancelled."
    ),
    # TRANSLATORS: said to a citizen who answers a callback, before the adviser is put through.
    "calling_back": N_(
        "Hello, this is {agency} calling you back, as you asked. Please hold while we connect you "
        "to an adviser."
    ),
    "calling_back_gone": N_(
        "Hello, this is {agency}. We tried to call you back, but the adviser is no longer "
        "available. Please call us again. Goodbye."
    ),
    "when_soon": N_("as soon as an adviser is free"),
    # TRANSLATORS: when a callback will be made: {day} is a weekday name, {time} is HH:MM.
    "when_at": N_("on {day} at {time}"),
    "still_waiting": N_("Thank you for waiting. You keep your place."),
    "connected": N_("You are now connected to an adviser."),
    "goodbye": N_("Thank you for calling. Goodbye."),
    # The satisfaction survey's keypad rating (GOV.UK's 5-point scale), after a self-service
    # answer, for the share of calls surveyed.
    "rating": N_(
        "Before you go: overall, how did you feel about the service you received today? Press 5 "
        "for very satisfied, 4 for satisfied, 3 for neither satisfied or dissatisfied, 2 for "
        "dissatisfied, or 1 for very dissatisfied."
    ),
    "rating_thanks": N_("Thank you for your answer. Goodbye."),
    "queue_problem": N_("I'm sorry, we could not keep you in the queue."),
    "call_again": N_("I'm sorry, this conversation has already ended. Please call us again."),
    # TRANSLATORS: opening hours as said on the phone ({hours} in the callback when closed).
    "hours": N_("from {opens} to {closes} on weekdays"),
    # TRANSLATORS: the text message that carries the link a caller accepted on the phone (keep it
    # GSM-7).
    "link_sms": N_("Here is the link you asked for on the phone: {link}"),
}
WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
            N_("Saturday"), N_("Sunday"))  # fmt: skip


def language_of(language: str | None, offered: tuple[str, ...]) -> str:
    """Return the language to speak: the one asked for if offered, else the first offered."""
    if language in offered and language in VOICES:
        return language
    return next((lang for lang in offered if lang in VOICES), DEFAULT_LANGUAGE)


def text(language: str, key: str, **values: object) -> str:
    """Return one prompt in a language (English when the catalogue has no translation)."""
    return translator(language)(PROMPTS[key], **values)


def choose_language(language: str, digit: int) -> str:
    """Return how a language offers itself, in itself: "For dansk, tryk 1."."""
    return translator(language)(CHOOSE_LANGUAGE, digit=digit)


def need_phrase(language: str, need: str) -> str:
    """Return the words a keypad choice stands for, as a citizen says them in a language."""
    return translator(language)(NEED_PHRASES[need])


def weekday(language: str, index: int) -> str:
    """Return a weekday's name (Monday is 0) in a language."""
    return translator(language)(WEEKDAYS[index])


def menu(language: str) -> str:
    """Return the keypad menu as it is read out: "for payments press 1, ..."."""
    _ = translator(language)
    return ", ".join(
        text(language, "menu_item", name=_(NEED_NAMES[need]), digit=i)
        for i, need in enumerate(MENU, 1)
    )


def has_word(words: dict[str, tuple[str, ...]], language: str, said: str) -> bool:
    """Return True when what the caller said holds one of the words, in any language."""
    spoken = " " + " ".join(re.sub(r"[^\w']+", " ", said.lower()).split()) + " "
    for_language = words.get(language, ()) + tuple(w for ws in words.values() for w in ws)
    return any(f" {w} " in spoken for w in for_language)
