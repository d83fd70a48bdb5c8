"""Read-side queries for channels and the desk (no side effects).

Every query copies what it read into plain objects before its unit of work ends: leaving the
block rolls the session back, which expires the ORM's instances, so they must not escape it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from router.domain import events as ev
from router.domain.citizens import age_band, register_day
from router.service.background import Background, background
from router.service.channels import Channels
from router.service.unit_of_work import UnitOfWork

# The policy inputs an agent needs to see why a decision was taken, in display order.
KEY_INPUTS = (
    "need",
    "confidence",
    "bot_failures",
    "asked_for_person",
    "exemptions",
    "age_band",
    "identified",
    "repeat_contact",
    "business_hours",
    "queue_wait_seconds",
    "bot_available",
)

# Values an ordinary turn has; the desk leaves them out of the trail.
_UNREMARKABLE = {
    "bot_failures": 0,
    "asked_for_person": False,
    "repeat_contact": False,
    "business_hours": True,
    "queue_wait_seconds": 0,
    "bot_available": True,
}


def _plain(obj):
    """Return a copy of a mapped dataclass that outlives its session."""
    if obj is None:
        return None
    return type(obj)(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})


@dataclass(frozen=True)
class QueueEntry:
    """One contact in the assisted queue, as the desk lists it."""

    item_id: int
    contact_id: int
    channel: str
    skill: str
    priority: int
    state: str
    enqueued_at: datetime
    wait_seconds: int
    rule_id: str | None
    reason: str | None
    need: str | None
    identified: bool
    queue: str | None = None  # the queue it waits in (router/domain/routing.py)
    # The decision's profile and inputs (no personal data), to say its reason in the desk's
    # language.
    profile: str | None = None
    all_inputs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DecisionView:
    """One recorded policy decision with the stage it was taken at and its key inputs."""

    stage: str
    rule_id: str
    action: str
    reason: str
    profile: str
    decided_at: datetime
    skill: str | None
    priority: int
    inputs: dict
    all_inputs: dict = field(default_factory=dict)  # everything the policy saw (no PII)


@dataclass(frozen=True)
class ExemptionView:
    ground: str
    valid_from: date
    valid_until: date | None
    registered_by: str
    valid_now: bool


@dataclass(frozen=True)
class CitizenFacts:
    """What the register says about the citizen: the agent never asks for it again."""

    pseudonym: str
    name: str | None
    language: str
    age_band: str | None
    exemptions: tuple[ExemptionView, ...] = ()

    @property
    def exempt(self) -> bool:
        return any(e.valid_now for e in self.exemptions)


@dataclass(frozen=True)
class Conversation:
    """A contact with its transcript, decision trail, queue item and citizen facts."""

    contact: object
    messages: list = field(default_factory=list)
    decisions: list[DecisionView] = field(default_factory=list)
    citizen: CitizenFacts | None = None
    queue_item: object | None = None
    opted_out: bool = False
    call_ended: bool = False  # a phone contact whose caller's call has ended (hung up)
    call_connected: bool = False  # the caller is on the line with the agent
    background: Background = field(default_factory=Background)  # history, calls, notes


def _wait(since: datetime, now: datetime) -> int:
    return max(0, int((now - since).total_seconds()))


def _key_inputs(inputs: dict) -> dict:
    """Return the inputs worth an agent's glance: what differs from an ordinary turn."""
    shown = {}
    for key in KEY_INPUTS:
        value = inputs.get(key)
        if key != "identified" and (value in (None, (), []) or _UNREMARKABLE.get(key) == value):
            continue
        shown[key] = value
    return shown


class Views:
    """Read-side queries for channels and the desk (no side effects)."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Callable[[], datetime] | None = None,
        channels: Channels | None = None,
        timezone: str | None = None,
    ) -> None:
        self.uow = uow_factory
        self.channels = channels or Channels()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.timezone = timezone  # the agency's: its day is the register's (valid now, age)

    def contact_on(self, channel: str, address: str):
        """Return the latest contact on a channel address, or None."""
        with self.uow() as uow:
            return _plain(uow.contacts.latest_on(channel, address))

    def session_key(self, channel: str, address: str):
        """Return the latest contact on a channel address as its session's key (id, state,
        secret hash, language), or None: what every chat request checks, read alone."""
        with self.uow() as uow:
            return uow.contacts.key_on(channel, address)

    def contact(self, contact_id: int):
        """Return a contact, or None."""
        with self.uow() as uow:
            return _plain(uow.contacts.get(contact_id))

    def messages(self, contact_id: int, after: int = 0) -> list:
        """Return a contact's messages after a message id, oldest first."""
        with self.uow() as uow:
            return [_plain(m) for m in uow.messages.for_contact(contact_id, after)]

    def message_id_of(self, channel: str, provider_id: str) -> int | None:
        """Return the id of the message a provider delivered under its own id, if filed."""
        with self.uow() as uow:
            found = uow.messages.by_provider_id(channel, provider_id)
            return found.id if found else None

    # -- the desk ---------------------------------------------------------------------------

    def queue(self, limit: int = 200) -> list[QueueEntry]:
        """Return the waiting contacts: highest priority first, oldest first within it."""
        now = self.clock()
        with self.uow() as uow:
            items = uow.queue.waiting(limit)
            latest = uow.decisions.latest_for_contacts([i.contact_id for i in items])
            return [self._entry(uow, item, latest.get(item.contact_id), now) for item in items]

    def assigned_to(self, agent_id: int) -> list[QueueEntry]:
        """Return the open conversations an agent has taken, longest quiet first."""
        now = self.clock()
        with self.uow() as uow:
            contacts = uow.contacts.assigned_to(agent_id)
            latest = uow.decisions.latest_for_contacts([c.id for c in contacts])
            entries = []
            for contact in contacts:
                item = uow.queue.open_for_contact(contact.id)
                if item is not None:
                    entries.append(self._entry(uow, item, latest.get(contact.id), now, contact))
            return entries

    def _entry(self, uow, item, decision, now, contact=None) -> QueueEntry:
        contact = contact or uow.contacts.get(item.contact_id)
        return QueueEntry(
            item_id=item.id,
            contact_id=item.contact_id,
            channel=contact.channel,
            skill=item.skill,
            priority=item.priority,
            state=item.state,
            enqueued_at=item.enqueued_at,
            wait_seconds=_wait(item.enqueued_at, now),
            rule_id=decision.rule_id if decision else None,
            reason=decision.reason if decision else None,
            need=contact.need,
            identified=contact.citizen_id is not None,
            queue=item.queue,
            profile=decision.profile if decision else None,
            all_inputs=dict(decision.inputs or {}) if decision else {},
        )

    def conversation(self, contact_id: int, after: int = 0) -> Conversation | None:
        """Return a contact with everything the desk shows about it; None if unknown."""
        today = register_day(self.clock(), self.timezone)
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id)
            if contact is None:
                return None
            messages = [_plain(m) for m in uow.messages.for_contact(contact_id, after)]
            stages = [
                e.data.get("stage", "")
                for e in uow.events.for_contact(contact_id)
                if e.type == ev.DECISION_MADE
            ]
            decisions = uow.decisions.for_contact(contact_id)
            if len(stages) != len(decisions):  # the trail and the log are written together
                stages = [""] * len(decisions)
            trail = [
                DecisionView(
                    stage=stage,
                    rule_id=d.rule_id,
                    action=d.action,
                    reason=d.reason,
                    profile=d.profile,
                    decided_at=d.decided_at,
                    skill=d.skill,
                    priority=d.priority,
                    inputs=_key_inputs(d.inputs or {}),
                    all_inputs=dict(d.inputs or {}),
                )
                for stage, d in zip(stages, decisions, strict=True)
            ]
            facts = None
            if contact.citizen_id is not None:
                citizen = uow.citizens.get(contact.citizen_id)
                facts = CitizenFacts(
                    pseudonym=citizen.pseudonym,
                    name=citizen.name,
                    language=citizen.language,
                    age_band=age_band(citizen.birth_year, today),
                    exemptions=tuple(
                        ExemptionView(
                            ground=e.ground,
                            valid_from=e.valid_from,
                            valid_until=e.valid_until,
                            registered_by=e.registered_by,
                            valid_now=e.is_valid_on(today),
                        )
                        for e in uow.citizens.exemptions(citizen.id)
                    ),
                )
            consent = uow.consents.get(contact.channel, contact.address)
            on_calls = self.channels[contact.channel].calls
            calls = uow.calls.for_contact(contact_id) if on_calls else []
            return Conversation(
                contact=_plain(contact),
                messages=messages,
                decisions=trail,
                citizen=facts,
                queue_item=_plain(uow.queue.open_for_contact(contact_id)),
                opted_out=consent is not None and not consent.opted_in,
                call_ended=bool(calls) and calls[-1].ended_at is not None,
                call_connected=bool(calls)
                and calls[-1].ended_at is None
                and calls[-1].queue_result == "bridged",
                background=background(uow, contact, self.clock()),
            )
