"""Repeat contact (failure demand proxy) and the links between one citizen's contacts on one
need: which are followed by a repeat, which continue an earlier need, which complete it again."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import timedelta

from analytics.metrics.facts import ContactFacts
from analytics.metrics.take_up import is_completed

# Two contacts of a citizen on a need are linked (repeat, same need) only when opened at most
# the repeat window + this apart, so a contact's figures never depend on the report's window.
LINK_MARGIN = timedelta(days=2)


def repeated(contacts: Iterable[ContactFacts], within: timedelta) -> frozenset[int]:
    """Return the ids of ended contacts followed by a repeat contact on the same need.

    A repeat is another contact of the same citizen on the same need opened after the first
    one ended (not while it was open) and no later than `within` after. `contacts` must hold
    the possible followers too.
    """
    return frozenset(k for k, v in link(contacts, within).items() if v["repeats_after"])


def link(contacts: Iterable[ContactFacts], within: timedelta) -> dict[int, dict]:
    """Return, for each contact with a citizen and a need, how it links to the same
    citizen's other contacts on the same need: `repeats_after` (contacts opened from its end
    to `within` after), `continues` (opened while an earlier one was open, or within `within`
    after an earlier one ended: the same need, not a new one) and `completes_again` (an
    earlier one that completed the need ended within `within` before it opened). Contacts
    opened more than `within` + LINK_MARGIN apart are never linked."""
    by_key: dict[tuple[str, str], list[ContactFacts]] = {}
    for c in contacts:
        if c.citizen and c.need:
            by_key.setdefault((c.citizen, c.need), []).append(c)
    reach = within + LINK_MARGIN
    out: dict[int, dict] = {}
    for same in by_key.values():
        same.sort(key=lambda c: (c.opened_at, c.contact_id))
        for i, c in enumerate(same):
            after = 0
            if c.ended_at is not None:
                limit = c.ended_at + within
                for later in same[i + 1 :]:
                    if later.opened_at > limit or later.opened_at > c.opened_at + reach:
                        break
                    if later.opened_at >= c.ended_at:
                        after += 1
            continues = completes_again = False
            for earlier in same[:i]:
                if earlier.opened_at < c.opened_at - reach:
                    continue
                if earlier.ended_at is None or c.opened_at <= earlier.ended_at + within:
                    continues = True
                    if (
                        earlier.ended_at is not None
                        and earlier.ended_at <= c.opened_at
                        and is_completed(earlier)
                    ):
                        completes_again = True
            out[c.contact_id] = {
                "repeats_after": after,
                "continues": continues,
                "completes_again": completes_again,
            }
    return out


def linked(
    cohort: Sequence[ContactFacts], neighbours: Iterable[ContactFacts], within: timedelta
) -> list[ContactFacts]:
    """Return the cohort with each contact's links to `neighbours` (the same citizens'
    contacts before and after) filled in."""
    links = link([*cohort, *neighbours], within)
    return [replace(c, **links[c.contact_id]) if c.contact_id in links else c for c in cohort]
