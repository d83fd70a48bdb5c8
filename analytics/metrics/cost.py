"""Cost per contact: each contact priced by kind (docs/domain.md §4.3)."""

from __future__ import annotations

from analytics.metrics.facts import PHONE, ContactFacts
from analytics.metrics.take_up import is_served_by_person

# Cost of one contact by kind, in pounds (SOCITM 2012, UK councils; docs/domain.md §4.3):
# phone £2.83, web £0.15; a person on web chat or SMS is priced as a phone contact (an
# agent's time; SOCITM has no figure for it), face to face £8.62 (kanal has no such channel).
DEFAULT_COSTS = {"digital": 0.15, "phone": 2.83, "assisted_written": 2.83, "face_to_face": 8.62}


def cost_kind(c: ContactFacts) -> str:
    """Return the cost category of a contact: phone, assisted_written (a person on web chat
    or SMS) or digital (self-service on a digital channel)."""
    if c.channel == PHONE:
        return "phone"
    if is_served_by_person(c):
        return "assisted_written"
    return "digital"
