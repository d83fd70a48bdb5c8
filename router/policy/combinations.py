"""Every course of one turn, one combination of values at a time: the reference.

`Search(profile, exhaustive=True)` decides each combination of the values the search gives
each variable (router/policy/search.py) with `first_rule()` itself, one by one. It is what the
invariant check did before it cut turns into boxes (router/policy/turns.py), and the tests
(tests/unit/test_policy_check_boxes.py) and benchmarks/policy_check compare the two: the
same rules trap, the same verdict. Its cost is the product of the values, so it is for small
profiles only.
"""

from __future__ import annotations

from dataclasses import replace

from router.domain.needs import NOT_UNDERSTOOD
from router.policy.context import Action, PolicyContext
from router.policy.engine import first_rule

FAILED_NEEDS = tuple(sorted(NOT_UNDERSTOOD))


def every_course(search, state, trigger: str):  # noqa: ANN001, ANN201 - a Search, a State
    """Yield every way one turn can go from a state of one citizen, as its stages."""
    channel, identified, grounds, age = state.who[0]
    # A request is heard from the words before the bot (router/domain/needs.py), or only
    # by the bot (its request_person intent or a handoff payload, under any need).
    asking = (True, False) if trigger == "request" else search.flag("asked_for_person", False)
    for asked in asking:
        for open_, wait, surge in _moments(search):
            ctx = PolicyContext(
                channel=channel,
                exemptions=grounds,
                age_band=age,
                identified=identified,
                bot_failures=state.failures,
                asked_for_person=asked,
                business_hours=open_,
                queue_wait_seconds=wait,
                digital_offered=state.offered,
                surge=surge,
            )
            rule = first_rule(ctx, search.profile)
            if rule.action != Action.SELF_SERVICE:
                yield ((ctx, rule),)
                continue
            for after in _bot_answers(search, ctx, trigger):
                yield ((ctx, rule), (after, first_rule(after, search.profile)))


def _moments(search):  # noqa: ANN001, ANN202
    """Yield (business hours, queue wait, surge) for every moment the profile tells apart."""
    for open_ in search.flag("business_hours", True):
        for wait in search.waits:
            for surge in search.surges:
                yield open_, wait, surge


def _bot_answers(search, ctx: PolicyContext, trigger: str):  # noqa: ANN001, ANN202
    """Yield the contexts after every answer the bot can give: good answers first."""
    answers = []
    # The request is the bot's to hear: it answers, understanding it (any need).
    heard = trigger == "request" and not ctx.asked_for_person
    for failed in (False, True):
        if (not failed and trigger == "failures") or (failed and heard):
            continue
        needs = ("nlu_fallback", *search.needs) if failed else search.needs
        confidences = search.confidences
        if failed:
            confidences = (0.1,) if len(confidences) == 1 else tuple(reversed(confidences))
        for need in dict.fromkeys(needs):
            if need in FAILED_NEEDS and not failed:
                continue
            answers += [(need, confidence, True, failed) for confidence in confidences]
    if "bot_available" in search.named and not heard:
        answers.append((None, None, False, True))  # down: no need, no confidence, a failure
    for need, confidence, available, failed in answers:
        for repeat in search.flag("repeat_contact", False):
            yield replace(
                ctx,
                need=need,
                confidence=confidence,
                bot_available=available,
                bot_failures=min(ctx.bot_failures + 1, search.cap) if failed else 0,
                asked_for_person=heard or ctx.asked_for_person or need == "request_person",
                repeat_contact=repeat,
            )
