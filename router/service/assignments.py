"""Handing assisted work to agents: claims, presence, profiles and transfers.

The rules of who may take what are pure (router/domain/routing.py); this module runs them
in units of work. Offers are router/service/offers.py (which `Assignments` fronts); what
claims and offers share, router/service/handover.py. An agent's presence row is locked
first in every step that gives them work, so one agent's claims and offers queue behind
each other and their capacity holds; the item itself is locked (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, SQLite's single writer) and looked at again under the lock before it is handed
over, so two agents never get the same contact, whatever the number of web processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from router.domain.model import ContactState
from router.domain.offers import Offer
from router.domain.presence import Presence, PresenceState
from router.domain.routing import AgentProfile, Routing, queues_of
from router.domain.transfers import Transfer
from router.service import contacts
from router.service.errors import Busy, Conflict, Forbidden, NotFound
from router.service.handover import SEEN_EVERY, Claimed, hand_over, match_of, within_team
from router.service.offers import Offers, make_offer
from router.service.unit_of_work import UnitOfWork

__all__ = ["Assignments", "Claimed", "Transferred"]

TRANSFER_ROLES = ("agent", "supervisor", "admin")
CLAIM_BUSY = "Others are taking work at this very moment: try Take next again."


@dataclass(frozen=True)
class Transferred:
    transfer_id: int
    contact_id: int
    to_queue: str
    to_agent_id: int | None


class Assignments:
    """Claims, offers, presence and transfers of assisted work."""

    def __init__(
        self, uow: Callable[[], UnitOfWork], routing: Routing, clock: Callable[[], datetime]
    ) -> None:
        self.uow = uow
        self.routing = routing
        self.clock = clock
        self.offers = Offers(uow, routing, clock)

    # -- claims ------------------------------------------------------------------------------

    def claim(
        self, agent_id: int, queues: tuple[str, ...] = (), attempts: int = 5
    ) -> Claimed | None:
        """Give the agent the next contact they may take; None when nothing matches.

        An open offer to the agent is taken first; else the best-ranked waiting item of
        their queues, language and channels with room. Asking for work makes them available.

        One short transaction of two reads: the agent's presence locked with their profile
        and what they hold (`lock_at_desk`), then the item locked with its contact and what
        they hold read again (`claim_next`, which the SQL pre-filters by the match); when
        the two reads differ the claim starts again. The domain decides and records the
        rest, written at the commit. When every attempt met a change (their own claims from
        other tabs, items taken under their eyes), the claim says so (`Busy`) rather than
        "nothing to take": items may well be waiting.
        """
        now = self.clock()
        for _ in range(attempts):
            with self.uow() as uow:
                desk = uow.presence.lock_at_desk(agent_id)
                desk.presence.working(now, every=SEEN_EVERY)
                mine = uow.offers.open_for_agent(agent_id) if desk.open_offers else []
                offer = next((o for o in mine if not o.is_overdue(now)), None)
                if offer is not None:
                    item = uow.queue.lock(offer.queue_item_id)
                    if item is None or not item.is_waiting:
                        offer.withdraw(now, why="taken")
                        uow.commit()
                        continue
                else:
                    match = match_of(self.routing, agent_id, desk.profile, desk.held, mine)
                    match = within_team(uow, self.routing, match)
                    if queues:
                        match = replace(match, queues=tuple(queues))
                    found = uow.queue.claim_next(match) if match.channels else None
                    if found is None:
                        uow.commit()  # the presence
                        return None
                    if (found.held, found.open_offers) != (desk.held, desk.open_offers):
                        # They took or were offered work while this claim waited for them
                        # (a statement that waits for a lock reads the rest as it was when
                        # it began): count again.
                        continue
                    item = found.item
                    if not match.allows(item.queue, item.channel, item.language):
                        uow.commit()  # the storage's pre-filter let through what may not be
                        return None
                    offer = next((o for o in mine if o.queue_item_id == item.id), None)
                if not contacts.claim_item(uow, item.id, agent_id, now):
                    continue  # another agent took it between the two looks
                claimed = hand_over(uow, item, offer, agent_id, now)
                uow.commit()
                return claimed
        raise Busy(CLAIM_BUSY)

    # -- offers (router/service/offers.py) ---------------------------------------------------

    def offer_waiting(self, limit: int = 200) -> dict[str, int]:
        """Expire offers past their time, then offer waiting items to available agents."""
        return self.offers.offer_waiting(limit)

    def offers_for(self, agent_id: int) -> list[Offer]:
        """Return the agent's open offers still in their time."""
        return self.offers.offers_for(agent_id)

    def accept(self, agent_id: int, offer_id: int) -> Claimed:
        """The agent takes the contact offered to them (Accept at the desk)."""
        return self.offers.accept(agent_id, offer_id)

    def decline(self, agent_id: int, offer_id: int) -> None:
        """The agent says no to an offer: it goes to the next agent."""
        self.offers.decline(agent_id, offer_id)

    # -- agents' profiles --------------------------------------------------------------------

    def profile_of(self, user_id: int) -> AgentProfile | None:
        with self.uow() as uow:
            return uow.agents.get(user_id)

    def set_profile(
        self,
        user_id: int,
        *,
        skills: list[str] | None = None,
        languages: list[str] | None = None,
        teams: list[str] | None = None,
        capacity: dict[str, int] | None = None,
    ) -> AgentProfile:
        """Set what an agent can take (a None part is left as it was)."""
        with self.uow() as uow:
            if uow.users.get(user_id) is None:
                raise NotFound("No such member of staff.")
            profile = uow.agents.get(user_id)
            if profile is None:
                profile = uow.agents.add(AgentProfile(user_id))
            if skills is not None:
                profile.skills = list(skills)
            if languages is not None:
                profile.languages = list(languages)
            if teams is not None:
                profile.teams = list(teams)
            if capacity is not None:
                profile.capacity = dict(capacity)
            uow.commit()
            return profile

    def queues_of(self, user_id: int) -> tuple[str, ...] | None:
        """Return the queues an agent serves (None: every queue)."""
        return queues_of(self.profile_of(user_id), self.routing)

    # -- presence ----------------------------------------------------------------------------

    def presence(self, agent_id: int) -> Presence:
        with self.uow() as uow:
            return uow.presence.get(agent_id) or Presence(agent_id=agent_id)

    def set_presence(self, agent_id: int, status: PresenceState, why: str = "agent") -> Presence:
        """The agent (or the desk) says where they are; offline withdraws their offers."""
        now = self.clock()
        with self.uow() as uow:
            presence = uow.presence.lock(agent_id)
            try:
                presence.change(status, now, why=why)
            except ValueError as exc:  # IllegalTransition
                raise Conflict(str(exc)) from exc
            if not presence.takes_offers:
                for offer in uow.offers.open_for_agent(agent_id):
                    offer.withdraw(now, why=str(presence.state))
            uow.commit()
            return presence

    def sign_out(self, agent_id: int) -> None:
        """The agent signed out of the desk: offline (staff never at the desk: nothing)."""
        with self.uow() as uow:
            found = uow.presence.get(agent_id)
            if found is None or not found.is_online:
                return
        self.set_presence(agent_id, PresenceState.OFFLINE, why="signed out")

    def seen(self, agent_id: int) -> None:
        """The agent used the desk: note it (at most every SEEN_EVERY)."""
        now = self.clock()
        with self.uow() as uow:
            found = uow.presence.get(agent_id)
            if found is None or not found.is_online:
                return  # signing in is their own move (Take next, or a status)
            if found.seen_at is not None and now - found.seen_at < SEEN_EVERY:
                return
            uow.presence.lock(agent_id).seen(now)
            uow.commit()

    def time_out_absent(self) -> int:
        """Take offline the agents not seen at the desk for the agency's timeout (a job)."""
        now = self.clock()
        after = timedelta(seconds=self.routing.presence_timeout_seconds)
        gone = 0
        with self.uow() as uow:
            for presence in uow.presence.online():
                if presence.time_out(now, after):
                    gone += 1
                    user = uow.users.get(presence.agent_id)
                    if user is not None:  # their desk session ends: its live tokens too
                        user.sign_out(now)
                    for offer in uow.offers.open_for_agent(presence.agent_id):
                        offer.withdraw(now, why="timed out")
            uow.commit()
        return gone

    # -- transfers ---------------------------------------------------------------------------

    def transfer(
        self,
        by: int,
        contact_id: int,
        *,
        queue: str | None = None,
        agent: int | None = None,
        note: str = "",
    ) -> Transferred:
        """Hand a contact the agent holds to another queue or agent, with a note.

        To a queue: it waits there, ranked by its priority from now. To an agent: it waits
        in its queue (or the one named) offered to that agent; when they do not take it in
        the offer's time, it goes to the queue's next agent.
        """
        if (queue is None) == (agent is None):
            raise Conflict("Transfer to a queue or to an agent (one of them).")
        now = self.clock()
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id, for_update=True)
            if contact is None:
                raise NotFound("No such contact.")
            if contact.state != ContactState.ASSIGNED or contact.agent_id != by:
                raise Forbidden("Only the agent holding a contact can transfer it.")
            item = uow.queue.open_for_contact(contact_id)
            if item is None:
                raise Conflict("This contact is not in a queue.")
            if queue is not None and queue not in self._queues(item.queue):
                raise NotFound(f"No such queue: {queue} (queues: {', '.join(self._queues())}).")
            if agent is not None:
                user = uow.users.get(agent)
                if user is None or not user.active or user.role not in TRANSFER_ROLES:
                    raise NotFound("No such agent.")
                if agent == by:
                    raise Conflict("The contact is yours already.")
            to_queue = queue or item.queue
            misfit = self.routing.misfit(to_queue, contact.channel, contact.language)
            if queue is not None and misfit is not None:
                raise Conflict(misfit)
            item.transfer(now)
            skill = self._skill_of(to_queue, item.skill)
            new = uow.queue.add(
                contacts.new_item(contact, skill, item.priority, now, self.routing, to_queue)
            )
            contact.enqueue(new)
            if agent is not None:
                make_offer(uow, self.routing, new, agent, now)
            record = uow.transfers.add(
                Transfer(
                    contact_id=contact_id, by_id=by, from_queue=item.queue, to_queue=to_queue,
                    note=note.strip(), at=now, to_agent_id=agent,
                )
            )  # fmt: skip
            record.made()
            uow.commit()
            return Transferred(record.id, contact_id, to_queue, agent)

    def agent_named(self, username: str) -> int:
        """Return the id of the active desk member with this username."""
        with self.uow() as uow:
            user = uow.users.by_username(username)
            if user is None or not user.active or user.role not in TRANSFER_ROLES:
                raise NotFound(f"No such agent: {username}.")
            return user.id

    def transfers(self, contact_id: int) -> list[Transfer]:
        """Return a contact's transfers, oldest first (with their notes, for the desk)."""
        with self.uow() as uow:
            return uow.transfers.for_contact(contact_id)

    def queues(self) -> tuple[str, ...]:
        return self._queues()

    def _queues(self, *extra: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.routing.names(), *extra)))

    def _skill_of(self, queue: str, current: str) -> str:
        found = self.routing.queue(queue)
        if found is None or not found.skills or current in found.skills:
            return current
        return found.skills[0]
