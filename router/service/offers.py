"""Offers: a waiting contact held for one agent for a short time (router/domain/offers.py).

The `offer_waiting` job offers each waiting item to the least loaded available agent who may
take it; the agent accepts (Accept, or Take next) or declines; an offer not accepted in the
routing's `offer_seconds` expires and the item goes to the next agent, never back to one
who let it expire or declined it. An agent's presence row is locked before an offer is made
or accepted, so their claims and offers queue behind each other and their capacity holds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from router.domain.model import QueueItem
from router.domain.offers import Offer
from router.domain.routing import Match, Routing
from router.service import contacts
from router.service.errors import Conflict, NotFound
from router.service.handover import SEEN_EVERY, Claimed, hand_over, match
from router.service.translations import N_
from router.service.unit_of_work import UnitOfWork


def make_offer(
    uow: UnitOfWork, routing: Routing, item: QueueItem, agent_id: int, now: datetime
) -> Offer:
    """Offer the item to the agent for the routing's `offer_seconds` (recorded)."""
    offer = uow.offers.add(
        Offer(
            queue_item_id=item.id, contact_id=item.contact_id, agent_id=agent_id,
            channel=item.channel, offered_at=now,
            expires_at=now + timedelta(seconds=routing.offer_seconds),
        )
    )  # fmt: skip
    offer.made()
    return offer


class Offers:
    """Offers of waiting work to agents: made by the job, accepted or declined at the desk."""

    def __init__(
        self, uow: Callable[[], UnitOfWork], routing: Routing, clock: Callable[[], datetime]
    ) -> None:
        self.uow = uow
        self.routing = routing
        self.clock = clock

    def offer_waiting(self, limit: int = 200) -> dict[str, int]:
        """Expire offers past their time, then offer waiting items to available agents.

        The scheduler's job (`offer_waiting`). An item goes to an available agent who may
        take it and has room, the least loaded first, never to one who let it expire or
        declined it. What each agent may take is read once per run; each offer is one short
        transaction that looks again under the locks, so claims are never held up.
        """
        now = self.clock()
        expired = self._expire(now)
        made = 0
        with self.uow() as uow:
            waiting = [(i.id, i.queue, i.channel, i.language) for i in uow.queue.offerable(limit)]
            agents = [p.agent_id for p in uow.presence.online() if p.takes_offers]
            room = {a: self._room(uow, a) for a in agents}
        for item_id, queue, channel, language in waiting:
            fits = [a for a, (m, _) in room.items() if m.allows(queue, channel, language)]
            if not fits:
                continue
            offered_to = self._offer_one(item_id, fits, room, now)
            if offered_to is not None:
                made += 1
                with self.uow() as uow:
                    room[offered_to] = self._room(uow, offered_to)
        return {"expired": expired, "offered": made}

    def _room(self, uow: UnitOfWork, agent_id: int) -> tuple[Match, int]:
        """What the agent may take now, and how much they hold (contacts and offers)."""
        offers = uow.offers.open_for_agent(agent_id)
        held = sum(uow.contacts.held_by(agent_id).values()) + len(offers)
        return match(uow, self.routing, agent_id, offers), held

    def _expire(self, now: datetime) -> int:
        with self.uow() as uow:
            overdue = uow.offers.overdue(now)
            for offer in overdue:
                offer.expire(now)
            uow.commit()
        return len(overdue)

    def _offer_one(
        self, item_id: int, fits: list[int], room: dict[int, tuple[Match, int]], now: datetime
    ) -> int | None:
        """Offer the item to the least loaded of `fits` who may still take it; their id."""
        with self.uow() as uow:
            passed = uow.offers.passed_over(item_id)
            for agent_id in sorted((a for a in fits if a not in passed), key=lambda a: room[a][1]):
                presence = uow.presence.lock(agent_id)
                item = uow.queue.lock(item_id)
                if item is None or not item.is_waiting or uow.offers.open_for_item(item_id):
                    return None
                if not presence.takes_offers:
                    continue
                if not match(uow, self.routing, agent_id).allows(
                    item.queue, item.channel, item.language
                ):
                    continue  # took other work meanwhile
                make_offer(uow, self.routing, item, agent_id, now)
                uow.commit()
                return agent_id
        return None

    def offers_for(self, agent_id: int) -> list[Offer]:
        """Return the agent's open offers still in their time."""
        now = self.clock()
        with self.uow() as uow:
            return [o for o in uow.offers.open_for_agent(agent_id) if not o.is_overdue(now)]

    def accept(self, agent_id: int, offer_id: int) -> Claimed:
        """The agent takes the contact offered to them (Accept at the desk)."""
        now = self.clock()
        with self.uow() as uow:
            presence = uow.presence.lock(agent_id)  # their claims and offers queue behind it
            offer = uow.offers.get(offer_id)
            if offer is None or offer.agent_id != agent_id:
                raise NotFound(N_("No such offer."))
            if not offer.is_open:
                raise Conflict(N_("This offer is no longer open."))
            item = uow.queue.lock(offer.queue_item_id)
            if offer.is_overdue(now):
                offer.expire(now)
                gone = N_("This offer has expired: it goes to the next agent.")
            elif item is None or not contacts.claim_item(uow, item.id, agent_id, now):
                offer.withdraw(now, why="taken")
                gone = N_("Someone else took this contact.")
            else:
                presence.working(now, every=SEEN_EVERY)
                claimed = hand_over(uow, item, offer, agent_id, now)
                uow.commit()
                return claimed
            uow.commit()
        raise Conflict(gone)

    def decline(self, agent_id: int, offer_id: int) -> None:
        """The agent says no to an offer: it goes to the next agent."""
        with self.uow() as uow:
            offer = uow.offers.get(offer_id)
            if offer is None or offer.agent_id != agent_id:
                raise NotFound(N_("No such offer."))
            if not offer.is_open:
                raise Conflict(N_("This offer is no longer open."))
            offer.decline(self.clock())
            uow.commit()
