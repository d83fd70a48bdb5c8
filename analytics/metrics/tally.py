"""The shared fold: one contact's figures added to a tally of plain counts, named counts and
histograms of seconds, which add up across contacts, groups and days (the rollup keeps them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from analytics.metrics.containment import is_contained
from analytics.metrics.cost import cost_kind
from analytics.metrics.facts import ContactFacts
from analytics.metrics.service_level import (
    handle_time,
    is_abandoned,
    is_queued_caller,
    microseconds,
    queue_outcome,
    seconds_down,
    seconds_up,
    wait_between,
)
from analytics.metrics.take_up import is_in_progress, is_resolved, need_completion

# Plain counts a tally holds; they add up across contacts and days.
COUNTS = (
    "contacts",
    "in_progress",
    "bot_conversations",
    "bot_in_progress",
    "bot_contained",
    "bot_repeat_contacts",
    "handed_off",
    "assisted",
    "needs_started",
    "completed_needs",
    "completed_digital",
    "completed_assisted_digital",
    "completed_other",
    "resolved_contacts",
    "repeat_contacts",
    "resolved_with_repeat",
    "queue_in_progress",
    "queue_other",
    # The answered contacts' waits summed exactly (the mean's numerator): whole seconds, and
    # the microseconds past them (under a second a contact: each fits the rollup's 32 bits).
    "answered_wait_seconds",
    "answered_wait_microseconds",
    "handled",
    # The handling times summed exactly, the same way (the mean handle time's numerator).
    "handle_seconds",
    "handle_microseconds",
    "identified_contacts",
    "exempt_contacts",
    "deflection_offered",
    "deflection_accepted",
    "deflection_completed",
    "callbacks_booked",
    "callbacks_placed",
    "callback_calls",
    "callbacks_answered",
    "callbacks_failed",
    "callbacks_settled",
    "phone_queued",
    "phone_abandoned",
)
# Counts by a name (reasons, scores, cost kinds) and histograms of whole seconds: answered waits
# rounded up, abandons' rounded down (analytics/metrics/service_level.py says why).
NAMED = (
    "handoff_reasons",
    "callback_reasons",
    "callback_failures",
    "satisfaction_scores",
    "cost_kinds",
    "answered_waits",
    "abandoned_waits",
    "phone_abandoned_waits",
)


def empty_tally() -> dict:
    # `people`: each identified citizen's pseudonym → 1 if exempt on a day of contact, else 0
    # (distinct people do not add up; a merge takes the union).
    return {**dict.fromkeys(COUNTS, 0), **{name: {} for name in NAMED}, "people": {}}


def _bump(counts: dict, key, by: int = 1) -> None:
    key = str(key)
    counts[key] = counts.get(key, 0) + by


def add_contact(t: dict, c: ContactFacts, repeats: frozenset[int] = frozenset()) -> None:
    """Add one contact's figures to a tally (in place)."""
    t["contacts"] += 1
    t["in_progress"] += is_in_progress(c)
    if c.bot:
        t["bot_conversations"] += 1
        if c.handed_off:
            t["handed_off"] += 1
            _bump(t["handoff_reasons"], c.handoff_rule or "unknown")
        elif c.ended_at is None:
            t["bot_in_progress"] += 1
        elif is_contained(c, repeats):
            t["bot_contained"] += 1
        else:
            t["bot_repeat_contacts"] += 1
    t["assisted"] += c.assisted
    if not c.continues:
        t["needs_started"] += 1
    kind = need_completion(c)
    if kind is not None:
        t["completed_needs"] += 1
        t["completed_" + kind] += 1
    if is_resolved(c):
        t["resolved_contacts"] += 1
        again = c.repeats_after or (c.contact_id in repeats)
        t["repeat_contacts"] += int(again)
        t["resolved_with_repeat"] += bool(again)
    if c.satisfaction is not None:
        _bump(t["satisfaction_scores"], c.satisfaction)
    queue = queue_outcome(c)
    if queue is not None:
        what, wait = queue
        if what == "answered":
            _bump(t["answered_waits"], seconds_up(wait))
            whole, rest = divmod(microseconds(wait), 1_000_000)
            t["answered_wait_seconds"] += whole
            t["answered_wait_microseconds"] += rest
        elif what == "abandoned":
            _bump(t["abandoned_waits"], seconds_down(wait))
        else:
            t["queue_" + what] += 1
    handled = handle_time(c)
    if handled is not None:
        t["handled"] += 1
        whole, rest = divmod(microseconds(handled), 1_000_000)
        t["handle_seconds"] += whole
        t["handle_microseconds"] += rest
    if c.identified:
        t["identified_contacts"] += 1
        t["exempt_contacts"] += bool(c.exempt)
        if c.citizen:
            people = t["people"]
            people[c.citizen] = max(people.get(c.citizen, 0), int(bool(c.exempt)))
    _bump(t["cost_kinds"], cost_kind(c))
    # The phone.
    t["deflection_offered"] += c.deflection_offered
    if c.deflection_accepted_at is not None:
        t["deflection_accepted"] += 1
        t["deflection_completed"] += c.deflection_completed
    for cb in c.callbacks:
        t["callbacks_booked"] += 1
        t["callbacks_placed"] += bool(cb.calls)
        t["callback_calls"] += cb.calls
        _bump(t["callback_reasons"], cb.reason or "unknown")
        if cb.answered:
            t["callbacks_answered"] += 1
        elif cb.failed:
            t["callbacks_failed"] += 1
            _bump(t["callback_failures"], cb.failure_status or "unknown")
        elif cb.settled:
            t["callbacks_settled"] += 1
    if is_queued_caller(c):
        t["phone_queued"] += 1
        if is_abandoned(c):
            t["phone_abandoned"] += 1
            if c.call_ended_at is not None:
                waited = wait_between(c.call_ended_at, c.queued_at)
                _bump(t["phone_abandoned_waits"], seconds_down(waited))


def tally(contacts: Iterable[ContactFacts], repeats: frozenset[int] = frozenset()) -> dict:
    t = empty_tally()
    for c in contacts:
        add_contact(t, c, repeats)
    return t


def merge(tallies: Iterable[Mapping]) -> dict:
    """Return the sum of tallies (of several groups, or several days)."""
    out = empty_tally()
    for t in tallies:
        for name in COUNTS:
            out[name] += t.get(name, 0)
        for name in NAMED:
            target = out[name]
            for key, n in t.get(name, {}).items():
                target[key] = target.get(key, 0) + n
        people = out["people"]
        for who, exempt in t.get("people", {}).items():
            if exempt or who not in people:
                people[who] = exempt
    return out
