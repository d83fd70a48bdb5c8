"""Handing assisted work to agents: claims, offers, presence and transfers.

The rules of who may take what are pure (router/domain/routing.py); this module runs them
in units of work. An agent's presence row is locked first in every step that gives them
work, so one agent's claims and offers queue behind each other and their capacity holds;
the item itself is locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL, SQLite's single writer)
and looked at again under the lock before it is handed over, so two agents never get the
same contact, whatever the number of web processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from router.domain.model import ContactState, QueueItem
from router.domain.offers import Offer
from router.domain.presence import Presence, PresenceState
from router.domain.routing import (
    AgentProfile,
    Match,
    Routing,
    load_of,
    match_for,
    queues_of,
)
from router.domain.transfers import Transfer
from router.service import contacts
from router.service.errors import Conflict, Forbidden, NotFound
from router.service.translations import N_
from router.service.unit_of_work import UnitOfWork

# Presence is written at most this often for an agent who is only seen at the desk.
SEEN_EVERY = timedelta(seconds=30)
TRANSFER_ROLES = ("agent", "supervisor", "admin")


@dataclass(frozen=True)
class Claimed:
    contact_id: int
    queue_item_id: int
    wait_seconds: int


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

    # -- claims ------------------------------------------------------------------------------

    def claim(
        self, agent_id: int, queues: tuple[str, ...] = (), attempts: int = 5
    ) -> Claimed | None:
        """Give the agent the next contact they may take; None when nothing matches.

        An open offer to the agent is taken first; else the best-ranked waiting item of
        their queues, language and channels with room. Asking for work makes them available.

        One short transaction of two reads: the agent's presence locked with their profile
        and what they hold (`lock_at_desk`), then the item locked with its contact
        (`claim_next`, which the SQL pre-filters by the match); the domain decides and
        records the rest, written at the commit.
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
                    match = self._match_of(agent_id, desk.profile, desk.held, mine)
                    if queues:
                        match = replace(match, queues=tuple(queues))
                    item = uow.queue.claim_next(match) if match.channels else None
                    if item is None:
                        uow.commit()  # the presence
                        return None
                    if not match.allows(item.queue, item.channel, item.language):
                        uow.commit()  # the storage's pre-filter let through what may not be
                        return None
                    offer = next((o for o in mine if o.queue_item_id == item.id), None)
                if not contacts.claim_item(uow, item.id, agent_id, now):
                    continue  # another agent took it between the two looks
                claimed = self._hand_over(uow, item, offer, agent_id, now)
                uow.commit()
                return claimed
        return None

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
                claimed = self._hand_over(uow, item, offer, agent_id, now)
                uow.commit()
                return claimed
            uow.commit()
        raise Conflict(gone)

    def _hand_over(
        self, uow: UnitOfWork, item: QueueItem, offer: Offer | None, agent_id: int, now: datetime
    ) -> Claimed:
        """The claimed item's contact goes to the agent; an offer of it is closed."""
        if offer is not None and offer.is_overdue(now):
            offer.expire(now)
        elif offer is not None:
            offer.accept(agent_id, now)
        contact = uow.contacts.get(item.contact_id, for_update=True)
        happened = contact.assign(item, agent_id, now)
        return Claimed(contact.id, item.id, happened[0].data["wait_seconds"])

    def _match(self, uow: UnitOfWork, agent_id: int, offers: list[Offer] | None = None) -> Match:
        """What the agent may take now: their profile against what they hold (their
        assigned contacts and open offers, `offers` when the caller has them)."""
        if offers is None:
            offers = uow.offers.open_for_agent(agent_id)
        held = uow.contacts.held_by(agent_id)
        return self._match_of(agent_id, uow.agents.get(agent_id), held, offers)

    def _match_of(
        self,
        agent_id: int,
        profile: AgentProfile | None,
        held: dict[str, int],
        offers: list[Offer],
    ) -> Match:
        load = load_of(o.channel for o in offers)
        for channel, n in held.items():
            load[channel] = load.get(channel, 0) + n
        return match_for(agent_id, profile, self.routing, load)

    # -- offers ------------------------------------------------------------------------------

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
            fits = [a for a, (match, _) in room.items() if match.allows(queue, channel, language)]
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
        return self._match(uow, agent_id, offers), held

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
                if not self._match(uow, agent_id).allows(item.queue, item.channel, item.language):
                    continue  # took other work meanwhile
                self._make_offer(uow, item, agent_id, now)
                uow.commit()
                return agent_id
        return None

    def _make_offer(self, uow: UnitOfWork, item: QueueItem, agent_id: int, now: datetime) -> Offer:
        offer = uow.offers.add(
            Offer(
                queue_item_id=item.id, contact_id=item.contact_id, agent_id=agent_id,
                channel=item.channel, offered_at=now,
                expires_at=now + timedelta(seconds=self.routing.offer_seconds),
            )
        )  # fmt: skip
        offer.made()
        return offer

    def offers_for(self, agent_id: int) -> list[Offer]:
        """Return the agent's open offers still in their time."""
        now = self.clock()
        with self.uow() as uow:
            return [o for o in uow.offers.open_for_agent(agent_id) if not o.is_overdue(now)]

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
            item.transfer(now)
            skill = self._skill_of(to_queue, item.skill)
            new = uow.queue.add(
                contacts.new_item(contact, skill, item.priority, now, self.routing, to_queue)
            )
            contact.enqueue(new)
            if agent is not None:
                self._make_offer(uow, new, agent, now)
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
