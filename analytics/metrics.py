"""Channel-shift metrics as docs/domain.md §4 defines them, over facts read from the event log.

Pure: the standard library only. `analytics.queries` folds each contact's events into one
`ContactFacts`; everything a manager sees is computed here from those facts.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from itertools import accumulate
from zoneinfo import ZoneInfo

GROUPINGS = ("channel", "need", "exempt", "age_band", "language", "none")
REPEAT_WINDOW_DAYS = 7  # docs/domain.md §4.1: repeat contact "within 7 days"
FOLLOWUP_WINDOW_HOURS = 48  # the deflection follow-up window (KANAL_DEFLECTION_FOLLOWUP_HOURS)
SHORT_ABANDON_SECONDS = 5  # docs/domain.md §4.1: abandons shorter than this are excluded
SERVICE_LEVEL_SECONDS = 20  # Y of service level X/Y: the common 80/20 convention (WFM)
PHONE = "voice"  # the phone's channel name
# The desk's outcome for a person who took the citizen through the digital route
# (router/domain/wrapup.py); contacts resolved before the desk recorded outcomes said it with
# the wrap-up code alone.
ASSISTED_DIGITAL_OUTCOME = "assisted_digital"
ASSISTED_DIGITAL_WRAP_UP = "digital_route_shown"
# Cost of one contact by kind, in pounds (SOCITM 2012, UK councils; docs/domain.md §4.3):
# phone £2.83, web £0.15; a person on web chat or SMS is priced as a phone contact (an
# agent's time; SOCITM has no figure for it), face to face £8.62 (kanal has no such channel).
DEFAULT_COSTS = {"digital": 0.15, "phone": 2.83, "assisted_written": 2.83, "face_to_face": 8.62}
SATISFIED = (4, 5)
# Two contacts of a citizen on a need are linked (repeat, same need) only when opened at most
# the repeat window + this apart, so a contact's figures never depend on the report's window.
LINK_MARGIN = timedelta(days=2)  # "satisfied" and "very satisfied" on the 5-point scale

DEFINITIONS = {
    "window": (
        "A contact belongs to the window when its contact_opened event falls between 00:00 on "
        "`from` and 24:00 on `to` in the agency's time zone. Everything that happened to those "
        "contacts afterwards counts, up to the moment of the query."
    ),
    "contacts": "Contacts opened in the window, on every channel.",
    "bot_conversations": (
        "Contacts in which the bot took at least one turn (a bot_answered or bot_failed event; "
        "a failed turn, the bot down included, still makes a bot conversation)."
    ),
    "handed_off": (
        "Bot conversations with a handed_off event: the policy passed them to a person "
        "(assisted queue or callback)."
    ),
    "bot_contained": (
        "Bot conversations that ended (contact_closed event) without a handed_off event and "
        "with no contact by the same citizen on the same need opened from their end to "
        "{days} days after (not while they were open)."
    ),
    "bot_in_progress": (
        "Bot conversations still open at query time and not handed off: not settled, so "
        "neither contained nor failed; left out of bot_containment's denominator."
    ),
    "in_progress": "Contacts still open at query time (not a failure: not yet settled).",
    "bot_repeat_contacts": (
        "Bot conversations that ended without handoff but were followed by a repeat contact, "
        "so they are not contained."
    ),
    "repeat_contact": (
        "Another contact by the same citizen (same pseudonym, any channel) on the same need, "
        "opened after the first contact ended (a contact opened while the first was still "
        "open overlaps it and is not a repeat) and no later than {days} days after it ended."
    ),
    "resolved_contacts": (
        "Ended contacts that completed the citizen's need (completed_needs' rule, per contact)."
    ),
    "repeat_contacts": (
        "Repeat contacts ({days} days, not overlapping) after the resolved contacts, each "
        "counted for every resolved contact it follows."
    ),
    "repeat_rate": "repeat_contacts ÷ resolved_contacts (failure demand proxy).",
    "first_contact_resolution": (
        "Resolved contacts with no repeat contact within {days} days ÷ resolved_contacts."
    ),
    "assisted": (
        "Contacts that entered the assisted queue (a queued event), whether from the bot or "
        "routed straight to a person by the policy."
    ),
    "needs_started": (
        "Needs, not contacts: contacts that do not continue an earlier contact of the same "
        "citizen on the same need (opened while it was open, or within {days} days of its "
        "end). Anonymous contacts and contacts with no recognised need are each one need."
    ),
    "completed_needs": (
        "Needs completed, not contacts: a contact completes a need when its resolved event "
        "says completed=true (the agent's wrap-up code) or, for a bot conversation, when a "
        "need was recognised and the bot's last turn answered it (not a failure) before the "
        "conversation ended without a person; an accepted deflection completed digitally "
        "completes its contact's need too. A contact whose citizen completed the same need in "
        "an earlier contact ended within {days} days before is the same need, not counted "
        "again."
    ),
    "completed_digital": (
        "Completed needs completed by self-service on a digital channel (web chat, SMS) with "
        "no person, or by the agency's self-service after a deflection."
    ),
    "completed_assisted_digital": (
        "Completed needs where a person took the citizen through the digital route (the "
        "desk's outcome assisted_digital; before outcomes, the wrap-up digital_route_shown): "
        "assisted digital, shown apart."
    ),
    "completed_other": (
        "Completed needs served otherwise: by a person on any channel (a person answering on "
        "web chat or SMS is not digital take-up), or on the phone."
    ),
    "digital_take_up": (
        "(completed_digital + completed_assisted_digital) ÷ completed_needs (GOV.UK Service "
        "Manual); assisted_digital_share shows the assisted part apart."
    ),
    "assisted_digital_share": "completed_assisted_digital ÷ completed_needs.",
    "completion_rate": "completed_needs ÷ needs_started (GOV.UK Service Manual).",
    "bot_containment": (
        "bot_contained ÷ settled bot conversations (bot_conversations − bot_in_progress): "
        "a conversation still open is in progress, not a failure."
    ),
    "handoff_rate": "handed_off ÷ bot_conversations.",
    "handoff_reasons": (
        "Handed-off bot conversations counted by the policy rule that handed them off "
        "(rule_id of the first handed_off event)."
    ),
    "deflection_offered": (
        "Contacts on an assisted channel in which kanal offered the digital route: on the "
        "phone, a deflection_offered event (the IVR offered to text the link for the need). "
        "The digital_offered events of web chat and SMS do not count: those channels are "
        "already digital. No agent-offered route is recorded yet."
    ),
    "deflection_accepted": (
        "Offered contacts with a deflection_accepted event: the caller said yes and the link "
        "was texted. kanal cannot see whether the link was opened or a digital session "
        "started, so this is an upper bound of 'link opened'."
    ),
    "deflection_completed": (
        "Accepted deflections whose need the agency's self-service reported completed (a "
        "digital_completed event naming the same citizen and need, or the deflected contact) "
        "no later than {followup_hours} hours (the follow-up window) after the link was "
        "texted, with no other assisted contact (one that entered the queue, a callback "
        "included) by the same citizen on the same need opened in that window. kanal sees only "
        "completions the self-service reports; for a caller not in the register another "
        "assisted contact cannot be matched, so their completion is an upper bound. Provisional "
        "until the follow-up window of the last acceptance has passed."
    ),
    "deflection_acceptance_rate": "deflection_accepted ÷ deflection_offered.",
    "deflection_completion_rate": "deflection_completed ÷ deflection_accepted.",
    "callbacks_booked": (
        "Callbacks booked on contacts opened in the window (distinct callbacks: a staff 'call "
        "again' re-books the same callback and does not count twice). A callback booked for a "
        "closed contact (a follow-up after a deflection) belongs to the phone contact opened "
        "for it."
    ),
    "callbacks_placed": "Booked callbacks for which kanal placed at least one call.",
    "callback_calls": "Calls placed for the booked callbacks, retries included.",
    "callbacks_answered": (
        "Booked callbacks the citizen answered and were connected to an agent "
        "(callback_answered), counted once however many attempts it took."
    ),
    "callbacks_failed": (
        "Booked callbacks never answered whose attempts were used up (callback_failed) and "
        "that were not booked again by staff since, whether or not staff have closed them."
    ),
    "callbacks_settled": (
        "Booked callbacks closed unanswered because the conversation was resolved first."
    ),
    "callbacks_pending": "Booked callbacks still waiting for a call or an answer at query time.",
    "callback_answer_rate": "callbacks_answered ÷ callbacks_booked (callback completion rate).",
    "callback_reasons": (
        "Booked callbacks counted by the reason they were booked: waited_too_long, "
        "out_of_hours, asked, digital_not_completed (the deflection follow-up), policy, surge."
    ),
    "callback_failures": (
        "Failed callbacks counted by the status of the last attempt: busy, no-answer, failed, "
        "canceled, rejected, not placed, no status, ended unconnected."
    ),
    "phone_queued": (
        "Phone contacts that entered the assisted queue while the caller was on the line (a "
        "queued event; the contacts kanal opens to call someone back are not callers)."
    ),
    "phone_abandoned": (
        "Queued callers who hung up before an agent answered and without booking a callback "
        "(the call_ended event says abandoned). A caller still waiting at query time is not "
        "abandoned."
    ),
    "phone_short_abandons": (
        "Abandoned callers who hung up less than {short_abandon} seconds after entering the "
        "queue (the short-abandon threshold, KANAL_SHORT_ABANDON_SECONDS)."
    ),
    "phone_abandonment_rate": (
        "(phone_abandoned − phone_short_abandons) ÷ (phone_queued − phone_short_abandons): "
        "short abandons are excluded from both (Amazon Connect)."
    ),
    "satisfaction_scores": (
        "Answers to the satisfaction question (a satisfaction_answered event, score 1 'very "
        "dissatisfied' to 5 'very satisfied') about the contacts, by score; the last answer "
        "per contact counts."
    ),
    "user_satisfaction": (
        "Answers 'satisfied' (4) or 'very satisfied' (5) ÷ answers (GOV.UK Service Manual)."
    ),
    "queued": (
        "Contacts that entered the assisted queue on any channel and left it: answered, "
        "abandoned or another way (a callback booked from the queue, closed by staff). "
        "Contacts opened to call someone back are not counted; contacts still waiting are "
        "queue_in_progress."
    ),
    "answered": "Queued contacts an agent took (agent_assigned).",
    "abandoned": (
        "Queued contacts left before an agent took them: a caller who hung up, or a web chat "
        "or SMS conversation closed while waiting; abandons under {short_abandon} seconds "
        "(short_abandons) are excluded."
    ),
    "service_level": (
        "Contacts answered within {service_level} seconds of entering the queue ÷ (queued − "
        "short_abandons) (Amazon Connect); answered_in_time is the numerator."
    ),
    "abandonment_rate": "abandoned ÷ (queued − short_abandons) (Amazon Connect).",
    "asa_seconds": (
        "Average speed of answer: mean queue wait of answered contacts, with the p50 and p90 "
        "waits (answer_p50_seconds, answer_p90_seconds), because a mean hides the long tail."
    ),
    "aht_seconds": (
        "Average handle time: mean time from an agent taking the contact to its end, over "
        "handled contacts. kanal records no hold or after-contact work, so both are inside "
        "this time or missing from it."
    ),
    "occupancy": (
        "Agents' handling time ÷ their staffed time (COPC; ICMI), agency-wide, per day in the "
        "answer's occupancy section: staffed = signed in and available or busy "
        "(presence_changed events); handling = holding at least one contact, from "
        "agent_assigned to the contact's next queued, agent_assigned or contact_closed (the "
        "wrap-up is inside: a contact closes when the agent resolves it), counted while "
        "staffed, concurrent contacts once. Staffed time belongs to no channel, need or group: "
        "null in the group rows and in a report narrowed to a group."
    ),
    "exemption_reminders": (
        "Agency-wide, in the answer's exemption_reminders section: the exemption_reminded "
        "events dated in the window (decided, sent, not sent by why) and, of the sent ones, "
        "those whose citizen the log later shows exempt after the reminded end date (a contact "
        "identified exempt on a later day, or a reminder of a later end date): renewed, a lower "
        "bound, as the register's renewals are not in the log; lapsed (seen not exempt after "
        "it), awaiting (the end date not passed), not seen since. renewal_rate = renewed ÷ sent "
        "reminders whose end date has passed."
    ),
    "exemption_share": (
        "Citizens with a valid exemption on a day of contact ÷ identified citizens in contact "
        "(exempt_citizens ÷ citizens); exemption_share_contacts is the same over contacts."
    ),
    "cost": (
        "Contacts priced by kind: self-service on web chat or SMS, a person on web chat or "
        "SMS, the phone (KANAL_COST_* settings; defaults SOCITM 2012, £)."
    ),
    "cost_per_transaction": "cost ÷ completed_needs (GOV.UK Service Manual).",
    "savings": (
        "phone_cost_same_demand − cost: the same contacts all served by phone, less what they cost."
    ),
    "ratios": "Ratios are fractions between 0 and 1, rounded to 4 places; null when the "
    "denominator is 0.",
    "groups": (
        "channel: the contact's channel. need: the last need recognised in the contact, or "
        "'unrecognised'. exempt: 'exempt' or 'not_exempt' from the citizen_identified event "
        "(valid exemption on the day of contact), 'unidentified' when the citizen was not "
        "identified. age_band: from citizen_identified, 'unknown' without a birth year, "
        "'unidentified' when the citizen was not identified. language: the conversation's "
        "language when it closed, 'unknown' before. none: one group 'all'."
    ),
    "exclusions": (
        "Anonymous contacts (no pseudonym) and contacts whose need was never recognised cannot "
        "be matched as repeat contacts, so their containment is an upper bound. A bot "
        "conversation still open at query time is in progress (bot_in_progress), not yet "
        "contained nor failed. Containment is provisional until {days} days after the "
        "window's end. "
        "Keyword-only SMS (STOP, START, HELP) open contacts but never bot conversations. "
        "Callbacks and phone abandonment are counted as they stand at query time."
    ),
}


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
    left_queue: bool = False  # a written contact closed while waiting in the queue
    satisfaction: int | None = None  # the last satisfaction answer (1-5)
    # Links to the same citizen's other contacts on the same need (`link`).
    repeats_after: int = 0  # contacts opened after this one ended, within the repeat window
    continues: bool = False  # opened while an earlier one was open or within the window of it
    completes_again: bool = False  # an earlier one, completed, ended within the window before
    deflection_completed: bool = False


@dataclass(frozen=True)
class Window:
    """The calendar days a report covers, in the agency's time zone, as UTC instants."""

    first_day: date
    last_day: date
    timezone: str
    repeat_window: timedelta = timedelta(days=REPEAT_WINDOW_DAYS)
    followup_window: timedelta = timedelta(hours=FOLLOWUP_WINDOW_HOURS)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), ZoneInfo(self.timezone)).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """Return the first instant after the window (exclusive bound)."""
        next_day = self.last_day + timedelta(days=1)
        return datetime.combine(next_day, time(0), ZoneInfo(self.timezone)).astimezone(UTC)

    def final_after(self) -> datetime:
        """Return when no repeat contact can change the window's containment, nor another
        contact or a completion its deflections, any more."""
        return self.end + max(self.repeat_window, self.followup_window)

    def describe(self, now: datetime) -> dict:
        return {
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "timezone": self.timezone,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "repeat_window_days": self.repeat_window.days,
            "followup_window_hours": self.followup_window / timedelta(hours=1),
            "short_abandon_seconds": SHORT_ABANDON_SECONDS,
            "final_after": self.final_after().isoformat(),
            "provisional": now < self.final_after(),
        }


def definitions(
    repeat_days: int = REPEAT_WINDOW_DAYS,
    followup_hours: float = FOLLOWUP_WINDOW_HOURS,
    short_abandon: int = SHORT_ABANDON_SECONDS,
    service_level: int = SERVICE_LEVEL_SECONDS,
) -> dict[str, str]:
    """Return the plain-language definitions shown beside the numbers."""
    hours = f"{followup_hours:g}"
    return {
        k: v.format(
            days=repeat_days,
            followup_hours=hours,
            short_abandon=short_abandon,
            service_level=service_level,
        )
        for k, v in DEFINITIONS.items()
    }


def ratio(numerator: int, denominator: int) -> float | None:
    """Return numerator ÷ denominator rounded to 4 places, or None when nothing to divide."""
    if denominator == 0:
        return None
    return round(numerator / denominator, 4)


# -- what one contact counts as ---------------------------------------------------------------


def is_bot_conversation(c: ContactFacts) -> bool:
    return c.bot


def is_handed_off(c: ContactFacts) -> bool:
    """Return True for a bot conversation the policy passed to a person."""
    return c.bot and c.handed_off


def is_in_progress(c: ContactFacts) -> bool:
    """Return True for a contact still open at query time (not a failure: not yet settled)."""
    return c.ended_at is None


def is_served_by_person(c: ContactFacts) -> bool:
    return c.assisted or c.assigned_at is not None or c.resolved_by == "agent"


def is_completed(c: ContactFacts) -> bool:
    """Return True when the contact completed the citizen's need (docs/domain.md §4.2).

    An agent's wrap-up says so; a bot conversation completed a need only when a need was
    recognised and the bot's last turn answered it (not a failure) before the conversation
    ended without a person.
    """
    if not c.completed:
        return False
    if c.resolved_by == "bot":
        return c.need is not None and c.bot_answered_last and not c.handed_off
    return True


def completion(c: ContactFacts) -> str | None:
    """Return how the contact's need was completed: digital (self-service on a digital
    channel, or a completed deflection), assisted_digital (a person showed the citizen through
    the digital route), other (a person, or the phone), or None when not completed."""
    if is_completed(c):
        if c.outcome == ASSISTED_DIGITAL_OUTCOME or (
            c.outcome is None and c.wrap_up == ASSISTED_DIGITAL_WRAP_UP
        ):
            return "assisted_digital"
        if is_served_by_person(c) or not c.digital:
            return "other"
        return "digital"
    if c.deflection_completed:
        return "digital"
    return None


def is_completed_digital(c: ContactFacts) -> bool:
    return completion(c) == "digital"


def is_resolved(c: ContactFacts) -> bool:
    """Return True for a contact marked resolved with its need completed, and ended."""
    return c.ended_at is not None and is_completed(c)


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


def is_contained(c: ContactFacts, repeats: frozenset[int] = frozenset()) -> bool:
    """Return True for a bot conversation that ended without handoff and without a repeat."""
    return (
        c.bot
        and not c.handed_off
        and c.ended_at is not None
        and not c.repeats_after
        and c.contact_id not in repeats
    )


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
    contact (`others`: contacts that entered the queue) on the same need.
    """
    by_contact: dict[int, list[datetime]] = {}
    by_need: dict[tuple[str, str | None], list[datetime]] = {}
    for x in completions:
        if x.contact_id is not None:
            by_contact.setdefault(x.contact_id, []).append(x.at)
        if x.citizen is not None:
            by_need.setdefault((x.citizen, x.need), []).append(x.at)
    assisted: dict[tuple[str, str], list[ContactFacts]] = {}
    for o in others:
        if o.citizen and o.need:
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
        if c.citizen is not None and need is not None:
            again = assisted.get((c.citizen, need), ())
            if any(o.contact_id != c.contact_id and start < o.opened_at <= end for o in again):
                continue
        found.add(c.contact_id)
    return frozenset(found)


def is_queued_caller(c: ContactFacts) -> bool:
    """Return True for a phone contact that entered the queue with the caller on the line."""
    return c.channel == PHONE and c.queued_at is not None and c.reopens is None


def is_abandoned(c: ContactFacts) -> bool:
    return is_queued_caller(c) and c.abandoned


def is_short_abandon(c: ContactFacts, threshold: int = SHORT_ABANDON_SECONDS) -> bool:
    """Return True for an abandon within the short-abandon threshold of entering the queue."""
    if not is_abandoned(c) or c.call_ended_at is None:
        return False
    return c.call_ended_at - c.queued_at < timedelta(seconds=threshold)


def _seconds(later: datetime, earlier: datetime) -> int:
    return max(0, int((later - earlier).total_seconds()))


def queue_outcome(c: ContactFacts) -> tuple[str, int] | None:
    """Return what became of a contact that entered the queue, on any channel, with its wait
    in seconds: answered (an agent took it), abandoned (a caller hung up, or a written contact
    was left while waiting), in_progress (still waiting), other (it left the queue another
    way: a callback booked, closed by staff). None: never queued, or a callback's contact."""
    if c.queued_at is None or c.reopens is not None:
        return None
    if c.assigned_at is not None:
        return "answered", _seconds(c.assigned_at, c.queued_at)
    if c.channel == PHONE and c.abandoned and c.call_ended_at is not None:
        return "abandoned", _seconds(c.call_ended_at, c.queued_at)
    if c.left_queue and c.ended_at is not None:
        return "abandoned", _seconds(c.ended_at, c.queued_at)
    if c.ended_at is None and not (c.channel == PHONE and c.call_ended_at is not None):
        return "in_progress", 0
    return "other", 0


def handle_seconds(c: ContactFacts) -> int | None:
    """Return an agent's handling time: from taking the contact to its end (no hold or
    after-contact work is recorded), or None when no agent finished it."""
    if c.assigned_at is None or c.ended_at is None:
        return None
    return _seconds(c.ended_at, c.assigned_at)


def cost_kind(c: ContactFacts) -> str:
    """Return the cost category of a contact: phone, assisted_written (a person on web chat
    or SMS) or digital (self-service on a digital channel)."""
    if c.channel == PHONE:
        return "phone"
    if is_served_by_person(c):
        return "assisted_written"
    return "digital"


def _counted(values: Iterable[str]) -> dict[str, int]:
    counts = Counter(values)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# -- the metrics ------------------------------------------------------------------------------


def digital_take_up(contacts: Iterable[ContactFacts]) -> float | None:
    """Return needs completed digitally (self-service or assisted digital) ÷ completed needs."""
    kinds = [completion(c) for c in contacts if not c.completes_again]
    done = [k for k in kinds if k is not None]
    return ratio(sum(1 for k in done if k in ("digital", "assisted_digital")), len(done))


def bot_containment(
    contacts: Iterable[ContactFacts], repeats: frozenset[int] = frozenset()
) -> float | None:
    """Return contained bot conversations ÷ settled bot conversations (ended or handed off)."""
    settled = [c for c in contacts if c.bot and (c.handed_off or c.ended_at is not None)]
    return ratio(sum(1 for c in settled if is_contained(c, repeats)), len(settled))


def handoff_rate(contacts: Iterable[ContactFacts]) -> float | None:
    """Return bot conversations handed to a person ÷ bot conversations."""
    bot = [c for c in contacts if is_bot_conversation(c)]
    return ratio(sum(1 for c in bot if is_handed_off(c)), len(bot))


def handoff_reasons(contacts: Iterable[ContactFacts]) -> dict[str, int]:
    """Return handed-off bot conversations counted by the rule that handed them off."""
    counts = Counter(c.handoff_rule or "unknown" for c in contacts if is_handed_off(c))
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def percentile(histogram: Mapping[int, int], share: float) -> int | None:
    """Return the smallest value with at least `share` of the counts at or below it."""
    return Seconds.of(histogram).percentile(share)


def channel_migration(
    first: Iterable[tuple[str, str]], second: Iterable[tuple[str, str]]
) -> dict[str, dict[str, int]]:
    """Return the matrix of citizens' main channel in the first period (rows) against the
    second (columns), for citizens seen in both; `first` and `second` are (citizen, channel)
    pairs, one per contact. A citizen's main channel is the one of most contacts; a tie goes
    to the channel named first in alphabetical order."""

    def main_channel(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
        counts: dict[str, Counter] = {}
        for citizen, channel in pairs:
            if citizen:
                counts.setdefault(citizen, Counter())[channel] += 1
        return {who: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for who, c in counts.items()}

    a, b = main_channel(first), main_channel(second)
    matrix: dict[str, dict[str, int]] = {}
    for who in sorted(a.keys() & b.keys()):
        row_ = matrix.setdefault(a[who], {})
        row_[b[who]] = row_.get(b[who], 0) + 1
    return {k: dict(sorted(v.items())) for k, v in sorted(matrix.items())}


# -- grouping ---------------------------------------------------------------------------------


def group_of(c: ContactFacts, group_by: str) -> str:
    """Return the group a contact falls in for a grouping in GROUPINGS."""
    if group_by == "channel":
        return c.channel
    if group_by == "need":
        return c.need or "unrecognised"
    if group_by == "exempt":
        if not c.identified:
            return "unidentified"
        return "exempt" if c.exempt else "not_exempt"
    if group_by == "age_band":
        if not c.identified:
            return "unidentified"
        return c.age_band or "unknown"
    if group_by == "language":
        return c.language or "unknown"
    if group_by == "none":
        return "all"
    raise ValueError(f"unknown grouping {group_by!r}")


def matches(c: ContactFacts, filters: Mapping[str, str]) -> bool:
    """Return True when the contact is in every group the filters name (grouping → group)."""
    return all(group_of(c, name) == value for name, value in filters.items())


# -- tallies: the additive part of a row ------------------------------------------------------

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
    "handled",
    "handle_seconds",
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
# Counts by a name (reasons, scores, cost kinds) and histograms of seconds.
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
    kind = completion(c)
    if kind is not None and not c.completes_again:
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
            _bump(t["answered_waits"], wait)
        elif what == "abandoned":
            _bump(t["abandoned_waits"], wait)
        else:
            t["queue_" + what] += 1
    seconds = handle_seconds(c)
    if seconds is not None:
        t["handled"] += 1
        t["handle_seconds"] += seconds
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
                _bump(t["phone_abandoned_waits"], _seconds(c.call_ended_at, c.queued_at))


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


# -- rows: what a manager reads ---------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The thresholds and prices a report applies (configurable, docs/domain.md §4)."""

    short_abandon_seconds: int = SHORT_ABANDON_SECONDS
    service_level_seconds: int = SERVICE_LEVEL_SECONDS
    costs: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_COSTS))


class Seconds:
    """A histogram of whole seconds, sorted, with running counts: what a row reads of the
    waits (counts below or at most a threshold, the mean, percentiles) in a few lookups, and
    the same whether it came from a tally's {"seconds": count} or from the rollup's arrays."""

    __slots__ = ("values", "running", "weighted")

    def __init__(self, values: Sequence[int], counts: Sequence[int], weighted: int | None = None):
        self.values = list(values)  # ascending, distinct
        self.running: list[int] = list(accumulate(counts))
        # The sum of value × count (the mean's numerator), exact in integers.
        self.weighted = (
            sum(v * n for v, n in zip(self.values, counts, strict=True))
            if weighted is None
            else weighted
        )

    @classmethod
    def of(cls, histogram: Mapping) -> Seconds:
        if isinstance(histogram, Seconds):
            return histogram
        ordered = sorted((int(k), n) for k, n in histogram.items() if n)
        return cls([k for k, _n in ordered], [n for _k, n in ordered])

    @property
    def total(self) -> int:
        return self.running[-1] if self.running else 0

    def below(self, seconds: int) -> int:
        i = bisect_left(self.values, seconds)
        return self.running[i - 1] if i else 0

    def at_most(self, seconds: int) -> int:
        i = bisect_right(self.values, seconds)
        return self.running[i - 1] if i else 0

    def mean(self) -> float | None:
        return round(self.weighted / self.total, 1) if self.total else None

    def percentile(self, share: float) -> int | None:
        """The smallest value with at least `share` of the counts at or below it."""
        if not self.total:
            return None
        i = bisect_left(self.running, share * self.total)
        return self.values[min(i, len(self.values) - 1)]


@dataclass(frozen=True)
class Row:
    """The channel-shift figures of one group."""

    group: str
    contacts: int
    bot_conversations: int
    bot_contained: int
    bot_repeat_contacts: int
    handed_off: int
    assisted: int
    completed_needs: int
    completed_digital: int
    digital_take_up: float | None
    bot_containment: float | None
    handoff_rate: float | None
    handoff_reasons: dict[str, int] = field(default_factory=dict)
    # The phone: deflection funnel, callbacks, abandonment (added fields; see DEFINITIONS).
    deflection_offered: int = 0
    deflection_accepted: int = 0
    deflection_completed: int = 0
    deflection_acceptance_rate: float | None = None
    deflection_completion_rate: float | None = None
    callbacks_booked: int = 0
    callbacks_placed: int = 0
    callback_calls: int = 0
    callbacks_answered: int = 0
    callbacks_failed: int = 0
    callbacks_settled: int = 0
    callbacks_pending: int = 0
    callback_answer_rate: float | None = None
    callback_reasons: dict[str, int] = field(default_factory=dict)
    callback_failures: dict[str, int] = field(default_factory=dict)
    phone_queued: int = 0
    phone_abandoned: int = 0
    phone_short_abandons: int = 0
    phone_abandonment_rate: float | None = None
    # The managers' view (issue 17): settled and in progress, needs, repeat, queue, cost.
    in_progress: int = 0
    bot_in_progress: int = 0
    needs_started: int = 0
    completed_assisted_digital: int = 0
    completed_other: int = 0
    completion_rate: float | None = None
    assisted_digital_share: float | None = None
    resolved_contacts: int = 0
    repeat_contacts: int = 0
    repeat_rate: float | None = None
    first_contact_resolution: float | None = None
    satisfaction_answers: int = 0
    satisfied: int = 0
    user_satisfaction: float | None = None
    satisfaction_scores: dict[str, int] = field(default_factory=dict)
    queued: int = 0
    queue_in_progress: int = 0
    answered: int = 0
    answered_in_time: int = 0
    abandoned: int = 0
    short_abandons: int = 0
    service_level: float | None = None
    abandonment_rate: float | None = None
    asa_seconds: float | None = None
    answer_p50_seconds: int | None = None
    answer_p90_seconds: int | None = None
    handled: int = 0
    aht_seconds: float | None = None
    occupancy: float | None = None
    agent_handling_seconds: int = 0
    identified_contacts: int = 0
    exempt_contacts: int = 0
    exemption_share_contacts: float | None = None
    citizens: int | None = None
    exempt_citizens: int | None = None
    exemption_share: float | None = None
    cost: float = 0.0
    cost_per_contact: float | None = None
    cost_per_transaction: float | None = None
    phone_cost_same_demand: float = 0.0
    savings: float = 0.0

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def from_tally(
    group: str, t: Mapping, settings: Settings = Settings(), citizens: tuple | None = None
) -> Row:
    """Return a group's row from its tally; `citizens` = (citizens, exempt citizens) when
    known (distinct people do not add up across days, so a rollup may not have them)."""
    ordered = partial(sorted, key=lambda kv: (-kv[1], kv[0]))
    answered_waits = Seconds.of(t["answered_waits"])
    abandoned_waits = Seconds.of(t["abandoned_waits"])
    answered = answered_waits.total
    abandoned_all = abandoned_waits.total
    short = abandoned_waits.below(settings.short_abandon_seconds)
    queued = answered + abandoned_all + t["queue_other"]
    phone_short = Seconds.of(t["phone_abandoned_waits"]).below(settings.short_abandon_seconds)
    in_time = answered_waits.at_most(settings.service_level_seconds)
    scores = {k: t["satisfaction_scores"].get(k, 0) for k in ("1", "2", "3", "4", "5")}
    satisfied = scores["4"] + scores["5"]
    answers = sum(scores.values())
    costs = settings.costs
    kinds = t["cost_kinds"]
    cost = round(sum(n * float(costs.get(k, 0)) for k, n in kinds.items()), 2)
    phone_cost = round(t["contacts"] * float(costs.get("phone", 0)), 2)
    done = t["completed_needs"]
    cb = t["callbacks_booked"]
    cb_answered, cb_failed, cb_settled = (
        t["callbacks_answered"],
        t["callbacks_failed"],
        t["callbacks_settled"],
    )
    settled_bot = t["bot_conversations"] - t["bot_in_progress"]
    if citizens is None and "people" in t:
        citizens = (len(t["people"]), sum(t["people"].values()))
    people, exempt_people = citizens if citizens is not None else (None, None)
    return Row(
        group=group,
        contacts=t["contacts"],
        bot_conversations=t["bot_conversations"],
        bot_contained=t["bot_contained"],
        bot_repeat_contacts=t["bot_repeat_contacts"],
        handed_off=t["handed_off"],
        assisted=t["assisted"],
        completed_needs=done,
        completed_digital=t["completed_digital"],
        digital_take_up=ratio(t["completed_digital"] + t["completed_assisted_digital"], done),
        bot_containment=ratio(t["bot_contained"], settled_bot),
        handoff_rate=ratio(t["handed_off"], t["bot_conversations"]),
        handoff_reasons=dict(ordered(t["handoff_reasons"].items())),
        deflection_offered=t["deflection_offered"],
        deflection_accepted=t["deflection_accepted"],
        deflection_completed=t["deflection_completed"],
        deflection_acceptance_rate=ratio(t["deflection_accepted"], t["deflection_offered"]),
        deflection_completion_rate=ratio(t["deflection_completed"], t["deflection_accepted"]),
        callbacks_booked=cb,
        callbacks_placed=t["callbacks_placed"],
        callback_calls=t["callback_calls"],
        callbacks_answered=cb_answered,
        callbacks_failed=cb_failed,
        callbacks_settled=cb_settled,
        callbacks_pending=cb - cb_answered - cb_failed - cb_settled,
        callback_answer_rate=ratio(cb_answered, cb),
        callback_reasons=dict(ordered(t["callback_reasons"].items())),
        callback_failures=dict(ordered(t["callback_failures"].items())),
        phone_queued=t["phone_queued"],
        phone_abandoned=t["phone_abandoned"],
        phone_short_abandons=phone_short,
        phone_abandonment_rate=ratio(
            t["phone_abandoned"] - phone_short, t["phone_queued"] - phone_short
        ),
        in_progress=t["in_progress"],
        bot_in_progress=t["bot_in_progress"],
        needs_started=t["needs_started"],
        completed_assisted_digital=t["completed_assisted_digital"],
        completed_other=t["completed_other"],
        completion_rate=ratio(done, t["needs_started"]),
        assisted_digital_share=ratio(t["completed_assisted_digital"], done),
        resolved_contacts=t["resolved_contacts"],
        repeat_contacts=t["repeat_contacts"],
        repeat_rate=ratio(t["repeat_contacts"], t["resolved_contacts"]),
        first_contact_resolution=ratio(
            t["resolved_contacts"] - t["resolved_with_repeat"], t["resolved_contacts"]
        ),
        satisfaction_answers=answers,
        satisfied=satisfied,
        user_satisfaction=ratio(satisfied, answers),
        satisfaction_scores=scores,
        queued=queued,
        queue_in_progress=t["queue_in_progress"],
        answered=answered,
        answered_in_time=in_time,
        abandoned=abandoned_all - short,
        short_abandons=short,
        service_level=ratio(in_time, queued - short),
        abandonment_rate=ratio(abandoned_all - short, queued - short),
        asa_seconds=answered_waits.mean(),
        answer_p50_seconds=answered_waits.percentile(0.5),
        answer_p90_seconds=answered_waits.percentile(0.9),
        handled=t["handled"],
        aht_seconds=round(t["handle_seconds"] / t["handled"], 1) if t["handled"] else None,
        occupancy=None,  # agency-wide: the report's occupancy section (analytics/occupancy.py)
        agent_handling_seconds=t["handle_seconds"],
        identified_contacts=t["identified_contacts"],
        exempt_contacts=t["exempt_contacts"],
        exemption_share_contacts=ratio(t["exempt_contacts"], t["identified_contacts"]),
        citizens=people,
        exempt_citizens=exempt_people,
        exemption_share=ratio(exempt_people, people) if people is not None else None,
        cost=cost,
        cost_per_contact=round(cost / t["contacts"], 2) if t["contacts"] else None,
        cost_per_transaction=round(cost / done, 2) if done else None,
        phone_cost_same_demand=phone_cost,
        savings=round(phone_cost - cost, 2),
    )


def citizens_of(contacts: Iterable[ContactFacts]) -> tuple[int, int]:
    """Return (citizens in contact, of them with a valid exemption on a day of contact)."""
    seen: dict[str, bool] = {}
    for c in contacts:
        if c.citizen and c.identified:
            seen[c.citizen] = seen.get(c.citizen, False) or bool(c.exempt)
    return len(seen), sum(seen.values())


def row(
    group: str,
    contacts: Sequence[ContactFacts],
    repeats: frozenset[int] = frozenset(),
    deflected: frozenset[int] = frozenset(),
    settings: Settings = Settings(),
) -> Row:
    """Compute one group's row; `repeats` and `deflected` hold ids of contacts followed by a
    repeat and of completed deflections, when not already marked on the contacts."""
    if deflected:
        contacts = [
            replace(c, deflection_completed=True) if c.contact_id in deflected else c
            for c in contacts
        ]
    return from_tally(group, tally(contacts, repeats), settings)


def channel_shift(
    cohort: Sequence[ContactFacts],
    repeats: frozenset[int] = frozenset(),
    group_by: str = "channel",
    deflected: frozenset[int] = frozenset(),
    settings: Settings = Settings(),
) -> tuple[list[Row], Row]:
    """Return one row per group (sorted by group) and the row of the whole cohort."""
    groups: dict[str, list[ContactFacts]] = {}
    for c in cohort:
        groups.setdefault(group_of(c, group_by), []).append(c)
    rows = [
        row(name, members, repeats, deflected, settings) for name, members in sorted(groups.items())
    ]
    return rows, row("all", cohort, repeats, deflected, settings)
