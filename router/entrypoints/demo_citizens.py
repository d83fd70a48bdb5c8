"""What the demo's citizens do (`kanal demo traffic`, router/entrypoints/demo_traffic.py): when
they get in touch and on which channel, their ages and exemptions, and what they say, by need
and language (words the bot is trained on)."""

from __future__ import annotations

import random

from router.domain.channels import SMS, VOICE, WEBCHAT

# Contacts by hour of the day (agency time): a working day's shape.
HOUR_WEIGHTS = (0, 0, 0, 0, 0, 1, 2, 5, 10, 12, 12, 11, 10, 10, 9, 8, 6, 4, 3, 3, 2, 2, 1, 1)
CHANNELS = ((WEBCHAT, 45), (SMS, 20), (VOICE, 35))
AGE_BIRTH_YEARS = (("15_64", 1985, 60), ("65_79", 1952, 27), ("80_plus", 1940, 13))
EXEMPT_SHARE = {"15_64": 0.04, "65_79": 0.12, "80_plus": 0.30}
GROUNDS = ("impairment", "no_computer", "language", "no_digital_id")
# What citizens say, by need and language: words the bot is trained on.
PHRASES = {
    "payment_date": {
        "en": ("When is my pension paid?", "What day is the pension payment?"),
        "da": ("Hvornår bliver min pension udbetalt?", "hvilken dag kommer pengene"),
    },
    "missing_payment": {
        "en": ("My payment has not arrived", "I did not get my pension payment this month"),
        "da": ("pengene er ikke kommet i dag", "jeg har ikke fået penge i denne måned"),
    },
    "change_address": {
        "en": ("I have moved, how do I change my address?", "new address"),
        "da": ("jeg flytter", "hvordan giver jeg jer min nye adresse"),
    },
    "application_status": {
        "en": ("Has my application been approved yet?", "I applied three weeks ago"),
        "da": ("er min ansøgning blevet godkendt endnu", "jeg søgte for tre uger siden"),
    },
}
NEEDS = (("payment_date", 40), ("missing_payment", 20), ("change_address", 20),
         ("application_status", 20))  # fmt: skip
PERSON = {"en": "I want to talk to a person", "da": "jeg skal tale med nogen"}
BYE = {"en": "thanks, bye", "da": "tak farvel"}
GIBBERISH = ("xyzzy qwerty", "asdf ghjk")
YES = {"en": "yes", "da": "ja"}


def pick(rng: random.Random, pairs) -> str:  # noqa: ANN001
    """Pick a name of (name, weight) pairs, by weight."""
    names, weights = zip(*pairs, strict=True)
    return rng.choices(names, weights)[0]
