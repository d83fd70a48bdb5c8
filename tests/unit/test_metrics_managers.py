"""The managers' view (issue 17): each metric of docs/domain.md §4 on a hand-written history.

Every fixture is a short story of contacts; the expected figures are worked out in the
comments beside them.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from analytics.metrics import (
    ContactFacts,
    Settings,
    channel_migration,
    from_tally,
    link,
    linked,
    matches,
    merge,
    percentile,
    row,
    tally,
)

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
MIN = timedelta(minutes=1)


def c(contact_id, channel="webchat", at=T0, minutes=10, **kw) -> ContactFacts:
    """A contact opened at `at` and ended `minutes` later (None: still open)."""
    ended = at + timedelta(minutes=minutes) if minutes is not None else None
    return ContactFacts(contact_id=contact_id, channel=channel, opened_at=at, ended_at=ended, **kw)


def bot_done(contact_id, **kw) -> ContactFacts:
    """A bot conversation the bot answered and closed: a need completed by self-service."""
    base = {"bot": True, "bot_answered_last": True, "resolved": True, "resolved_by": "bot"}
    base.update(completed=True, digital=True, need="payment_date")
    return c(contact_id, **{**base, **kw})


def agent_done(contact_id, channel="voice", wait=30, handle=300, **kw) -> ContactFacts:
    """A contact an agent took after `wait` seconds and resolved `handle` seconds later."""
    queued = kw.pop("at", T0)
    assigned = queued + timedelta(seconds=wait)
    end = assigned + timedelta(seconds=handle)
    return ContactFacts(
        contact_id=contact_id,
        channel=channel,
        opened_at=queued,
        queued_at=queued,
        assisted=True,
        assigned_at=assigned,
        ended_at=end,
        resolved=True,
        resolved_by="agent",
        completed=kw.pop("completed", True),
        digital=channel != "voice",
        **kw,
    )


def linked_row(contacts, settings=None):
    return row("all", linked(contacts, [], WEEK), settings=settings or Settings())


# -- needs: digital take-up and completion rate --------------------------------------------


def test_take_up_counts_needs_and_a_person_on_chat_is_not_digital():
    contacts = [
        # Anna: the bot answers her payment date on Monday; she asks again by chat on
        # Wednesday and the bot answers again: one need, completed digitally once.
        bot_done(1, citizen="anna"),
        bot_done(2, citizen="anna", at=T0 + timedelta(days=2)),
        # Bo: an agent answers him on web chat: completed, not digital take-up.
        agent_done(3, "webchat", citizen="bo", need="tax_card"),
        # Carl: an agent shows him through the self-service by phone: assisted digital.
        agent_done(4, "voice", citizen="carl", need="tax_card", wrap_up="digital_route_shown"),
        # Dina: a phone call an agent resolves.
        agent_done(5, "voice", citizen="dina", need="tax_card"),
        # Eva: the bot recognised her need, then failed; she left: not completed.
        bot_done(6, citizen="eva", bot_answered_last=False),
    ]
    r = linked_row(contacts)
    # Needs started: Anna 1 (contact 2 continues it), Bo, Carl, Dina, Eva = 5.
    # Completed needs: Anna (digital), Bo (other), Carl (assisted digital), Dina (other) = 4.
    assert r.needs_started == 5 and r.completed_needs == 4
    assert (r.completed_digital, r.completed_assisted_digital, r.completed_other) == (1, 1, 2)
    assert r.digital_take_up == 0.5  # (1 digital + 1 assisted digital) ÷ 4
    assert r.assisted_digital_share == 0.25
    assert r.completion_rate == 0.8  # 4 ÷ 5


def test_a_bot_conversation_without_a_recognised_need_completes_nothing():
    r = linked_row([bot_done(1, need=None), bot_done(2, handed_off=True)])
    # Contact 1: no need recognised; contact 2: handed to a person, who has not resolved it.
    assert r.completed_needs == 0 and r.digital_take_up is None


def test_a_completed_deflection_is_a_need_completed_digitally():
    call = c(1, "voice", citizen="anna", need="tax_card", deflection_offered=True,
             deflection_accepted_at=T0, deflection_completed=True)  # fmt: skip
    r = linked_row([call])
    assert (r.completed_needs, r.completed_digital, r.digital_take_up) == (1, 1, 1.0)


# -- repeat contact and first contact resolution --------------------------------------------


def test_repeats_count_from_resolved_contacts_and_never_overlap():
    contacts = [
        # Anna, resolved by an agent at 09:05; she writes again 3 days later: a repeat.
        agent_done(1, "sms", wait=0, handle=300, citizen="anna", need="tax_card"),
        c(2, "sms", at=T0 + timedelta(days=3), citizen="anna", need="tax_card"),
        # Bo, resolved; he had also opened a chat while the call was going on (overlap:
        # not a repeat) and nothing after: first contact resolution.
        agent_done(3, "voice", wait=0, handle=1800, citizen="bo", need="tax_card"),
        c(4, at=T0 + timedelta(minutes=5), minutes=5, citizen="bo", need="tax_card"),
        # Carl: an agent referred him elsewhere (not completed, not resolved); he calls again.
        agent_done(5, "voice", citizen="carl", need="tax_card", completed=False),
        c(6, "voice", at=T0 + timedelta(days=1), citizen="carl", need="tax_card"),
    ]
    r = linked_row(contacts)
    # Resolved: 1 and 3 (5 was not completed; 2, 4, 6 were not resolved).
    assert r.resolved_contacts == 2
    assert r.repeat_contacts == 1  # contact 2 after contact 1
    assert r.repeat_rate == 0.5 and r.first_contact_resolution == 0.5


def test_a_repeat_a_second_after_the_window_does_not_count():
    first = agent_done(1, "sms", wait=0, handle=60, citizen="anna", need="tax_card")
    late = c(2, "sms", at=first.ended_at + WEEK + timedelta(seconds=1), citizen="anna",
             need="tax_card")  # fmt: skip
    on_time = c(3, "sms", at=first.ended_at + WEEK, citizen="anna", need="tax_card")
    assert link([first, late], WEEK)[1]["repeats_after"] == 0
    assert link([first, on_time], WEEK)[1]["repeats_after"] == 1


def test_containment_waits_for_open_conversations_and_the_repeat_window():
    contacts = [
        bot_done(1, citizen="anna"),  # contained
        bot_done(2, citizen="bo"),  # Bo calls back 2 days later: not contained
        c(3, "voice", at=T0 + timedelta(days=2), citizen="bo", need="payment_date"),
        c(4, bot=True, minutes=None),  # still open: in progress
        c(5, bot=True, handed_off=True, handoff_rule="asked", minutes=None),  # handed off
    ]
    r = linked_row(contacts)
    assert (r.bot_conversations, r.bot_in_progress, r.bot_contained) == (4, 1, 1)
    assert r.bot_repeat_contacts == 1 and r.handed_off == 1
    assert r.bot_containment == 0.3333  # 1 of the 3 settled (1, 2, 5)
    assert r.in_progress == 2  # contacts 4 and 5 are still open


# -- the queue: service level, speed of answer, abandonment, handle time ----------------------


def queue_story() -> list[ContactFacts]:
    left = T0 + timedelta(seconds=90)
    return [
        agent_done(1, wait=10, handle=200),
        agent_done(2, wait=20, handle=400),
        agent_done(3, wait=40, handle=600),
        agent_done(4, "webchat", wait=300, handle=100),
        # A caller who hung up after 60 s, one after 3 s (a short abandon).
        c(5, "voice", queued_at=T0, abandoned=True, call_ended_at=T0 + timedelta(seconds=60)),
        c(6, "voice", queued_at=T0, abandoned=True, call_ended_at=T0 + timedelta(seconds=3)),
        # A web chat left while waiting (closed 90 s after it entered the queue).
        ContactFacts(7, "webchat", T0, queued_at=T0, ended_at=left, left_queue=True),
        # Still waiting: in progress, in no ratio.
        ContactFacts(8, "sms", T0, queued_at=T0),
        # A caller who booked a callback from the queue: left it another way.
        c(9, "voice", queued_at=T0, call_ended_at=T0 + timedelta(seconds=30)),
    ]


def test_service_level_speed_of_answer_and_abandonment():
    r = linked_row(queue_story())
    # Queued and left the queue: 4 answered + 3 abandoned + 1 other = 8; 8 waits.
    assert (r.queued, r.answered, r.queue_in_progress) == (8, 4, 1)
    assert (r.abandoned, r.short_abandons) == (2, 1)  # 5 and 7; 6 is short
    # Answered within 20 s: contacts 1 and 2, of 8 − 1 short abandon.
    assert r.answered_in_time == 2 and r.service_level == 0.2857
    assert r.abandonment_rate == 0.2857  # 2 ÷ 7
    assert r.asa_seconds == 92.5  # (10 + 20 + 40 + 300) ÷ 4
    assert (r.answer_p50_seconds, r.answer_p90_seconds) == (20, 300)
    # Handle time: (200 + 400 + 600 + 100) ÷ 4.
    assert (r.handled, r.aht_seconds, r.agent_handling_seconds) == (4, 325.0, 1300)
    assert r.occupancy is None  # no agent availability in the log


def test_thresholds_are_settings():
    r = linked_row(queue_story(), Settings(short_abandon_seconds=61, service_level_seconds=40))
    # Now 5 and 6 are short abandons: 8 − 2 = 6 in the denominators; 1, 2, 3 within 40 s.
    assert (r.short_abandons, r.abandoned) == (2, 1)
    assert r.service_level == 0.5 and r.abandonment_rate == 0.1667


def test_percentiles_take_the_smallest_value_covering_the_share():
    assert percentile({}, 0.5) is None
    assert percentile({5: 1}, 0.9) == 5
    assert percentile({10: 1, 20: 1, 30: 1, 40: 1}, 0.5) == 20
    assert percentile({10: 9, 500: 1}, 0.9) == 10 and percentile({10: 8, 500: 2}, 0.9) == 500


# -- satisfaction, exemption, cost ----------------------------------------------------------


def test_user_satisfaction_counts_satisfied_and_very_satisfied():
    scores = [5, 4, 4, 3, 1, None]
    r = linked_row([c(i, satisfaction=s) for i, s in enumerate(scores, 1)])
    assert r.satisfaction_answers == 5 and r.satisfied == 3
    assert r.user_satisfaction == 0.6
    assert r.satisfaction_scores == {"1": 1, "2": 0, "3": 1, "4": 2, "5": 1}


def test_exemption_share_counts_citizens_not_contacts():
    contacts = [
        # Eva is exempt and called four times; Anna and Bo once each; one anonymous chat.
        *(c(i, "voice", citizen="eva", identified=True, exempt=True) for i in (1, 2, 3, 4)),
        c(5, citizen="anna", identified=True, exempt=False),
        c(6, citizen="bo", identified=True, exempt=False),
        c(7),
    ]
    r = linked_row(contacts)
    assert (r.citizens, r.exempt_citizens, r.exemption_share) == (3, 1, 0.3333)
    assert (r.identified_contacts, r.exempt_contacts) == (6, 4)
    assert r.exemption_share_contacts == 0.6667


def test_cost_per_contact_and_savings_against_the_phone():
    contacts = [
        bot_done(1),  # web self-service: £0.15
        bot_done(2, channel="sms"),  # £0.15
        agent_done(3, "webchat"),  # a person on chat: £2.83
        agent_done(4, "voice"),  # phone: £2.83
    ]
    r = linked_row(contacts)
    assert r.cost == 5.96  # 0.15 + 0.15 + 2.83 + 2.83
    assert r.cost_per_contact == 1.49 and r.cost_per_transaction == 1.49  # 4 completed needs
    assert r.phone_cost_same_demand == 11.32 and r.savings == 5.36  # 4 × 2.83 − 5.96
    cheap = linked_row(contacts, Settings(costs={"digital": 1, "phone": 5, "assisted_written": 3}))
    assert (cheap.cost, cheap.savings) == (10.0, 10.0)  # 1 + 1 + 3 + 5; 20 − 10


def test_figures_are_rounded_half_up_as_counted_by_hand():
    # Waits 20, 20, 20, 21 s: ASA 81 / 4 = 20.25 s, written 20.3 (Python's round gave 20.2).
    # Handle times 300, 300, 300, 301 s: AHT 300.25 s, written 300.3.
    contacts = [agent_done(i, wait=w, handle=h) for i, (w, h) in
                enumerate([(20, 300), (20, 300), (20, 300), (21, 301)], 1)]  # fmt: skip
    r = linked_row(contacts)
    assert (r.asa_seconds, r.aht_seconds) == (20.3, 300.3)
    # Handle times 300.9 and 301.2 s: AHT 301.05 s, written 301.1 (whole seconds read 300.5).
    r = linked_row([agent_done(1, handle=300.9), agent_done(2, handle=301.2)])
    assert (r.aht_seconds, r.agent_handling_seconds) == (301.1, 602)
    # 1 completed need on the phone at £2.675: £2.675, written 2.68 (round(2.675, 2) is 2.67).
    r = linked_row([agent_done(1)], Settings(costs={"phone": 2.675}))
    assert (r.cost, r.cost_per_contact, r.phone_cost_same_demand) == (2.68, 2.68, 2.68)
    # 3 contacts at £0.10: £0.30 exactly, not 0.30000000000000004; savings 3 × 0.1 − 0.3 = 0.
    r = linked_row([bot_done(i) for i in (1, 2, 3)], Settings(costs={"digital": 0.1, "phone": 0.1}))
    assert (r.cost, r.savings) == (0.3, 0.0)


# -- migration, groups and filters, tallies -------------------------------------------------


def test_channel_migration_compares_each_citizens_main_channel():
    march = [("anna", "voice"), ("anna", "voice"), ("anna", "webchat"), ("bo", "voice"),
             ("carl", "sms"), ("dina", "webchat")]  # fmt: skip
    april = [("anna", "webchat"), ("bo", "voice"), ("bo", "sms"), ("carl", "sms"),
             ("eva", "voice")]  # fmt: skip
    # Anna voice → webchat; Bo voice → a tie of sms and voice (sms, first by name); Carl
    # sms → sms; Dina and Eva were seen in one period only.
    assert channel_migration(march, april) == {"sms": {"sms": 1}, "voice": {"sms": 1, "webchat": 1}}


def test_groups_by_language_and_filters():
    da = c(1, language="da", identified=True, exempt=True)
    en = c(2, "sms", language="en")
    unknown = c(3)
    assert [matches(x, {"language": "da"}) for x in (da, en, unknown)] == [True, False, False]
    assert matches(da, {"language": "da", "exempt": "exempt"})
    assert not matches(en, {"channel": "webchat"})


def test_tallies_of_parts_add_up_to_the_tally_of_the_whole():
    story = [*queue_story(), bot_done(20, citizen="anna", satisfaction=5)]
    whole = from_tally("all", tally(story))
    halves = from_tally("all", merge([tally(story[:4]), tally(story[4:])]))
    assert whole.as_dict() == halves.as_dict()


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        (-3, "-3"),  # a number stays a number a spreadsheet sums, negative or not
        (-0.05, "-0.05"),
        (Decimal("-1.50"), "-1.50"),
        (3, "3"),
        (0.15, "0.15"),
        # What a citizen could type, were it ever written out: text, so guarded.
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("=1+1", "'=1+1"),
        (None, ""),
        ({"=a": 1, "b": 2}, "'=a=1; b=2"),
        ("payment_date", "payment_date"),
    ],
)
def test_no_csv_cell_starts_a_spreadsheet_formula(value, cell):
    from analytics.api import _cell

    assert _cell(value) == cell
