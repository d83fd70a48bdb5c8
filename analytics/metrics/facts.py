"""What the event log says about one contact, a callback and a reported completion: the
records `analytics.queries` folds the log into and every figure is computed from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

PHONE = "voice"  # the phone's channel name


@dataclass(frozen=True)
class CallbackFacts:
    """What the event log says about one callback (its events may span two contacts)."""

    callback_id: int
    reason: str | None = None
    calls: int = 0  # callback_placed events
    answered: bool = False
    failed: bool = False  # attempts used up, not booked again since
    failure_status: str | None = None
    settled: bool = False  # closed by the system: the conversation was resolved first


@dataclass(frozen=True)
class Completion:
    """A need the agency's self-service reported completed (a digital_completed event)."""

    at: datetime
    need: str | None
    citizen: str | None = None
    contact_id: int | None = None


@dataclass(frozen=True)
class ContactFacts:
    """What the event log says about one contact, folded into one record."""

    contact_id: int
    channel: str
    opened_at: datetime
    citizen: str | None = None  # pseudonym
    need: str | None = None
    identified: bool = False
    exempt: bool | None = None
    age_band: str | None = None
    bot: bool = False
    handed_off: bool = False
    handoff_rule: str | None = None
    assisted: bool = False
    ended_at: datetime | None = None
    completed: bool = False
    digital: bool = False
    # The phone's figures.
    deflection_offered: bool = False
    deflection_accepted_at: datetime | None = None  # when the link was texted
    queued_at: datetime | None = None  # first queued event
    abandoned: bool = False  # the call_ended event says abandoned
    call_ended_at: datetime | None = None
    reopens: int | None = None  # opened to call back about this earlier contact
    followup_accepted_at: datetime | None = None  # a callback asked for after the link
    callbacks: tuple[CallbackFacts, ...] = ()
    # Read from the log since the managers' view (docs/domain.md §4.2).
    language: str | None = None  # the conversation's language when it closed
    profile: str | None = None  # the policy profile of the last decision
    bot_turns: int = 0
    bot_answered_last: bool = False  # the bot's last turn answered (was not a failure)
    resolved: bool = False  # a resolved event
    resolved_by: str | None = None  # bot | agent | system
    wrap_up: str | None = None
    outcome: str | None = None  # the agent's outcome: resolved, assisted_digital, referred, …
    assigned_at: datetime | None = None  # first agent_assigned event
    # Time back in a queue after an agent took it (a transfer), until the next agent took it.
    requeued: timedelta = timedelta(0)
    left_queue: bool = False  # a written contact closed while waiting in the queue
    satisfaction: int | None = None  # the last satisfaction answer (1-5)
    # Links to the same citizen's other contacts on the same need (`link`).
    repeats_after: int = 0  # contacts opened after this one ended, within the repeat window
    continues: bool = False  # opened while an earlier one was open or within the window of it
    completes_again: bool = False  # an earlier one, completed, ended within the window before
    deflection_completed: bool = False
