"""Profiles written to trap citizens, each refused on load naming the rule that traps
(router.policy.refuse_traps, which kanal runs at start as `kanal policy check` does)."""

from __future__ import annotations

import pytest

from router.policy import ProfileError, load_profile, parse_profile, refuse_traps

# The ways out every hostile profile keeps, so that only its own rule traps.
WAYS_OUT = """
[[rule]]
id = "person"
when = { asked_for_person = true }
action = "assisted"
reason = "You asked for a person."

[[rule]]
id = "failed"
when = { bot_failures = { at_least = 2 } }
action = "assisted"
reason = "The assistant could not help."

[[rule]]
id = "exempt"
when = { exempt = true }
action = "assisted"
reason = "Registered exemption."
"""
BOT_FIRST = """
[default]
action = "self_service"
reason = "The assistant answers first."
"""


def profile(first: str, *, ways_out: str = WAYS_OUT, default: str = BOT_FIRST, surge: str = ""):
    return f'name = "hostile"\ndescription = "written to trap"\n{first}{ways_out}{surge}{default}'


def rule(rule_id: str, when: str, action: str) -> str:
    return f'\n[[rule]]\nid = "{rule_id}"\nwhen = {when}\naction = "{action}"\nreason = "x"\n'


def surge_rule(rule_id: str, when: str, action: str) -> str:
    return "\n[surge]\n[" + rule(rule_id, when, action).replace("[[rule]]", "[surge.rule]]")[1:]


HOSTILE = {
    "exempt-bot-only": profile(rule("exempt-bot-only", "{ exempt = true }", "self_service")),
    "closed-no-callback": profile(
        rule("closed-no-callback", "{ business_hours = false }", "self_service")
    ),
    "closed-hang-up": profile(rule("closed-hang-up", "{ business_hours = false }", "close")),
    "surge-exempt-digital": profile(
        "", surge=surge_rule("surge-exempt-digital", "{ exempt = true }", "offer_digital")
    ),
    "surge-exempt-callback": profile(
        "", surge=surge_rule("surge-exempt-callback", "{ exempt = true }", "callback")
    ),
    "surge-refuses": profile("", surge=surge_rule("surge-refuses", "{ exempt = false }", "close")),
    "phone-digital-only": profile(
        rule("phone-digital-only", '{ channel = "voice" }', "offer_digital")
    ),
    "fallback-disabled": profile(
        rule("fallback-disabled", "{ bot_failures = { at_least = 1 } }", "self_service")
    ),
    "emigrated-to-mitid": profile(
        rule("emigrated-to-mitid", '{ exemption = "emigrated" }', "offer_digital")
    ),
    "emigrated-offered-then-bot": profile(
        rule(
            "emigrated-mitid",
            '{ exemption = "emigrated", digital_offered = false }',
            "offer_digital",
        )
        + rule("emigrated-offered-then-bot", '{ exemption = "emigrated" }', "self_service")
    ),  # fmt: skip
    "long-wait-hang-up": profile(
        rule("long-wait-hang-up", "{ queue_wait_seconds = { at_least = 3600 } }", "close")
    ),
    "bot-down-hang-up": profile(rule("bot-down-hang-up", "{ bot_available = false }", "close")),
    # By channel, hours, exemption ground, age, identification, repeat, a digital offer.
    "phone-exempt-bot": profile(
        rule("phone-exempt-bot", '{ exempt = true, channel = "voice" }', "self_service")
    ),
    "night-exempt-offered": profile(
        rule("night-exempt-offered", "{ exempt = true, business_hours = false }", "offer_digital")
    ),
    "language-ground-bot": profile(
        rule("language-ground-bot", '{ exemption = "language" }', "self_service")
    ),
    "oldest-closed": profile(rule("oldest-closed", '{ age_band = "80_plus" }', "close")),
    "minors-closed": profile(rule("minors-closed", '{ age_band = "under_15" }', "close")),
    "unknown-closed": profile(rule("unknown-closed", "{ identified = false }", "close")),
    "repeat-closed": profile(rule("repeat-closed", "{ repeat_contact = true }", "close")),
    "offered-closed": profile(rule("offered-closed", "{ digital_offered = true }", "close")),
    "surge-flag-exempt-bot": profile(
        rule("surge-flag-exempt-bot", "{ surge = true, exempt = true }", "self_service")
    ),
    "surge-asked-bot": profile(
        "", surge=surge_rule("surge-asked-bot", "{ asked_for_person = true }", "self_service")
    ),
    # A request only the bot hears (words kanal's own list does not know): before, accepted.
    "request-heard-by-bot-ignored": profile(
        rule("request-heard-by-bot-ignored", '{ need = "request_person" }', "self_service")
    ),
    "sure-bot-keeps-them": profile(
        rule("sure-bot-keeps-them", "{ confidence = { above = 0.95 } }", "self_service")
    ),
    "default": profile("", default='\n[default]\naction = "close"\nreason = "Goodbye."\n'),
}


@pytest.mark.parametrize("trap", sorted(HOSTILE))
def test_a_profile_written_to_trap_citizens_is_refused_naming_its_rule(trap):
    loaded = parse_profile(HOSTILE[trap], source=f"{trap}.toml")
    with pytest.raises(ProfileError) as refused:
        refuse_traps(loaded)
    message = str(refused.value)
    assert f"rule '{trap}'" in message
    assert "kanal does not run a profile that traps citizens" in message


def test_the_shipped_profiles_are_run():
    for name in ("denmark", "australia", "canada", "france"):
        assert refuse_traps(load_profile(name)).name == name
