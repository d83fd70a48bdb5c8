"""What the shipped profiles decide on the phone: exempt callers are never offered the link."""

from __future__ import annotations

import pytest

from router.policy import Action, PolicyContext, available_profiles, decide, load_profile

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("profile", available_profiles())
@pytest.mark.parametrize("is_open", [True, False])
def test_an_exempt_caller_goes_to_a_person_with_priority_never_to_the_digital_offer(
    profile, is_open
):
    heard = PolicyContext(
        channel="voice", exemptions=("impairment",), identified=True, need="payment_date",
        confidence=0.95, business_hours=is_open,
    )  # fmt: skip
    decision = decide(heard, load_profile(profile))
    assert decision.action == (Action.ASSISTED if is_open else Action.CALLBACK)
    assert decision.priority > 0


@pytest.mark.parametrize("profile", available_profiles())
def test_every_profile_offers_a_self_servable_need_on_the_phone_at_most_once(profile):
    heard = PolicyContext(channel="voice", identified=True, need="payment_date", confidence=0.95)
    offered = decide(heard, load_profile(profile))
    again = decide(PolicyContext(**{**heard.__dict__, "digital_offered": True}),
                   load_profile(profile))  # fmt: skip
    assert again.action != Action.OFFER_DIGITAL
    if profile in ("denmark", "australia", "canada"):
        assert offered.action == Action.OFFER_DIGITAL
