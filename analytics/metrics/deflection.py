"""Deflection completed: an accepted offer of the digital route whose need the agency's
self-service reported completed within the follow-up window, with no other assisted contact."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from analytics.metrics.facts import Completion, ContactFacts


def deflections_completed(
    contacts: Iterable[ContactFacts],
    completions: Iterable[Completion],
    others: Iterable[ContactFacts],
    within: timedelta,
) -> frozenset[int]:
    """Return the ids of accepted deflections completed digitally within the follow-up window.

    A deflection is completed when a completion names its contact, or its citizen and need,
    from the moment the link was texted until `within` after, and in that time the citizen
    neither asked for a callback about it (the follow-up's offer) nor opened another assisted
    contact (`others`: contacts that entered the queue) on the same need, or on a need never
    learnt.
    """
    by_contact: dict[int, list[datetime]] = {}
    by_need: dict[tuple[str, str | None], list[datetime]] = {}
    for x in completions:
        if x.contact_id is not None:
            by_contact.setdefault(x.contact_id, []).append(x.at)
        if x.citizen is not None:
            by_need.setdefault((x.citizen, x.need), []).append(x.at)
    # An assisted contact whose need was never learnt (the citizen asked for a person at once)
    # may be about the same need: it counts against the deflection, as one on the same need.
    assisted: dict[tuple[str, str | None], list[ContactFacts]] = {}
    for o in others:
        if o.citizen:
            assisted.setdefault((o.citizen, o.need), []).append(o)
    found: set[int] = set()
    for c in contacts:
        start = c.deflection_accepted_at
        if start is None:
            continue
        end = start + within
        if c.followup_accepted_at is not None and start <= c.followup_accepted_at <= end:
            continue  # a callback booked: the digital route did not work out
        need = c.need
        times = list(by_contact.get(c.contact_id, ()))
        if c.citizen is not None:
            times += by_need.get((c.citizen, need), ())
        if not any(start <= at <= end for at in times):
            continue
        if c.citizen is not None:
            again = (*assisted.get((c.citizen, need), ()), *assisted.get((c.citizen, None), ()))
            if any(o.contact_id != c.contact_id and start < o.opened_at <= end for o in again):
                continue
        found.add(c.contact_id)
    return frozenset(found)
