"""Handing a waiting contact to an agent: what claims and accepted offers share.

`match` says what an agent may take now (their profile against what they hold: assigned
contacts and open offers); `hand_over` gives a claimed item's contact to the agent and
closes an offer of it. Claims (router/service/assignments.py) and offers
(router/service/offers.py) both end here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from router.domain.model import QueueItem
from router.domain.offers import Offer
from router.domain.routing import AgentProfile, Match, Routing, load_of, match_for
from router.service.access import team_queues
from router.service.unit_of_work import UnitOfWork

# Presence is written at most this often for an agent who is only seen at the desk.
SEEN_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class Claimed:
    contact_id: int
    queue_item_id: int
    wait_seconds: int


def hand_over(
    uow: UnitOfWork, item: QueueItem, offer: Offer | None, agent_id: int, now: datetime
) -> Claimed:
    """The claimed item's contact goes to the agent; an offer of it is closed."""
    if offer is not None and offer.is_overdue(now):
        offer.expire(now)
    elif offer is not None:
        offer.accept(agent_id, now)
    contact = uow.contacts.get(item.contact_id, for_update=True)
    happened = contact.assign(item, agent_id, now)
    return Claimed(contact.id, item.id, happened[0].data["wait_seconds"])


def match_of(
    routing: Routing,
    agent_id: int,
    profile: AgentProfile | None,
    held: dict[str, int],
    offers: list[Offer],
) -> Match:
    """What the agent may take, given their profile, what they hold by channel and their
    open offers (which count as held)."""
    load = load_of(o.channel for o in offers)
    for channel, n in held.items():
        load[channel] = load.get(channel, 0) + n
    return match_for(agent_id, profile, routing, load)


def match(
    uow: UnitOfWork, routing: Routing, agent_id: int, offers: list[Offer] | None = None
) -> Match:
    """What the agent may take now, read in this unit of work (`offers`: their open offers,
    when the caller has them)."""
    if offers is None:
        offers = uow.offers.open_for_agent(agent_id)
    held = uow.contacts.held_by(agent_id)
    return within_team(
        uow, routing, match_of(routing, agent_id, uow.agents.get(agent_id), held, offers)
    )


def within_team(uow: UnitOfWork, routing: Routing, found: Match) -> Match:
    """Narrow a supervisor's match to their teams' queues: Take next and offers never hand
    them a conversation the access rule would not let them open (another team's)."""
    team = team_queues(uow, routing, found.agent_id)
    if team is None:
        return found
    # Their own skills, if they have any, within the team's queues.
    queues = team if found.queues is None else tuple(q for q in found.queues if q in team)
    return replace(found, queues=queues or ("-",))
