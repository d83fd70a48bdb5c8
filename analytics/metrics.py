"""Channel-shift metrics as docs/domain.md §4 defines them, over facts read from the event log.

Pure: the standard library only. `analytics.queries` folds each contact's events into one
`ContactFacts`; everything a manager sees is computed here from those facts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

GROUPINGS = ("channel", "need", "exempt", "age_band", "none")
REPEAT_WINDOW_DAYS = 7  # docs/domain.md §4.1: repeat contact "within 7 days"
FOLLOWUP_WINDOW_HOURS = 48  # the deflection follow-up window (KANAL_DEFLECTION_FOLLOWUP_HOURS)
SHORT_ABANDON_SECONDS = 5  # docs/domain.md §4.1: abandons shorter than this are excluded
PHONE = "voice"  # the phone's channel name

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
        "without a repeat contact."
    ),
    "bot_repeat_contacts": (
        "Bot conversations that ended without handoff but were followed by a repeat contact, "
        "so they are not contained."
    ),
    "repeat_contact": (
        "Another contact by the same citizen (same pseudonym, any channel) on the same need, "
        "opened after the first contact opened and no later than {days} days after it ended."
    ),
    "assisted": (
        "Contacts that entered the assisted queue (a queued event), whether from the bot or "
        "routed straight to a person by the policy."
    ),
    "completed_needs": (
        "Contacts with a resolved event whose data says completed=true: set by the agent's "
        "wrap-up code, or, for a bot conversation on a recognised need, when the bot closed it "
        "or the citizen left it without asking for more (the router's assumption)."
    ),
    "completed_digital": (
        "Completed needs whose resolved event says digital=true: completed in a digital "
        "channel (web chat, SMS), by self-service or assisted digital."
    ),
    "digital_take_up": "completed_digital ÷ completed_needs (GOV.UK Service Manual).",
    "bot_containment": "bot_contained ÷ bot_conversations.",
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
        "out_of_hours, asked, digital_not_completed (the deflection follow-up)."
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
        "queue (the short-abandon threshold, fixed in kanal today)."
    ),
    "phone_abandonment_rate": (
        "(phone_abandoned − phone_short_abandons) ÷ (phone_queued − phone_short_abandons): "
        "short abandons are excluded from both (Amazon Connect)."
    ),
    "ratios": "Ratios are fractions between 0 and 1, rounded to 4 places; null when the "
    "denominator is 0.",
    "groups": (
        "channel: the contact's channel. need: the last need recognised in the contact, or "
        "'unrecognised'. exempt: 'exempt' or 'not_exempt' from the citizen_identified event "
        "(valid exemption on the day of contact), 'unidentified' when the citizen was not "
        "identified. age_band: from citizen_identified, 'unknown' without a birth year, "
        "'unidentified' when the citizen was not identified. none: one group 'all'."
    ),
    "exclusions": (
        "Anonymous contacts (no pseudonym) and contacts whose need was never recognised cannot "
        "be matched as repeat contacts, so their containment is an upper bound. A bot "
        "conversation still open at query time counts in bot_conversations but not yet as "
        "contained. Containment is provisional until {days} days after the window's end. "
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
    repeat_days: int = REPEAT_WINDOW_DAYS, followup_hours: float = FOLLOWUP_WINDOW_HOURS
) -> dict[str, str]:
    """Return the plain-language definitions shown beside the numbers."""
    hours = f"{followup_hours:g}"
    return {
        k: v.format(days=repeat_days, followup_hours=hours, short_abandon=SHORT_ABANDON_SECONDS)
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


def is_completed(c: ContactFacts) -> bool:
    return c.completed


def is_completed_digital(c: ContactFacts) -> bool:
    return c.completed and c.digital


def repeated(contacts: Iterable[ContactFacts], within: timedelta) -> frozenset[int]:
    """Return the ids of contacts followed by a repeat contact on the same need.

    A repeat is another contact of the same citizen on the same need, opened after the first
    one opened and no later than `within` after it ended. `contacts` must hold the possible
    followers too (contacts opened up to `within` after the latest end).
    """
    by_key: dict[tuple[str, str], list[ContactFacts]] = {}
    for c in contacts:
        if c.citizen and c.need:
            by_key.setdefault((c.citizen, c.need), []).append(c)
    found: set[int] = set()
    for same in by_key.values():
        same.sort(key=lambda c: (c.opened_at, c.contact_id))
        for i, first in enumerate(same):
            if first.ended_at is None:
                continue
            limit = first.ended_at + within
            for later in same[i + 1 :]:
                if later.opened_at > limit:
                    break
                if later.contact_id != first.contact_id:
                    found.add(first.contact_id)
                    break
    return frozenset(found)


def is_contained(c: ContactFacts, repeats: frozenset[int]) -> bool:
    """Return True for a bot conversation that ended without handoff and without a repeat."""
    return c.bot and not c.handed_off and c.ended_at is not None and c.contact_id not in repeats


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


def is_short_abandon(c: ContactFacts) -> bool:
    """Return True for an abandon within the short-abandon threshold of entering the queue."""
    if not is_abandoned(c) or c.call_ended_at is None:
        return False
    return c.call_ended_at - c.queued_at < timedelta(seconds=SHORT_ABANDON_SECONDS)


def _counted(values: Iterable[str]) -> dict[str, int]:
    counts = Counter(values)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# -- the metrics ------------------------------------------------------------------------------


def digital_take_up(contacts: Iterable[ContactFacts]) -> float | None:
    """Return needs completed in a digital channel ÷ all completed needs."""
    completed = [c for c in contacts if is_completed(c)]
    return ratio(sum(1 for c in completed if c.digital), len(completed))


def bot_containment(contacts: Iterable[ContactFacts], repeats: frozenset[int]) -> float | None:
    """Return contained bot conversations ÷ bot conversations."""
    bot = [c for c in contacts if is_bot_conversation(c)]
    return ratio(sum(1 for c in bot if is_contained(c, repeats)), len(bot))


def handoff_rate(contacts: Iterable[ContactFacts]) -> float | None:
    """Return bot conversations handed to a person ÷ bot conversations."""
    bot = [c for c in contacts if is_bot_conversation(c)]
    return ratio(sum(1 for c in bot if is_handed_off(c)), len(bot))


def handoff_reasons(contacts: Iterable[ContactFacts]) -> dict[str, int]:
    """Return handed-off bot conversations counted by the rule that handed them off."""
    counts = Counter(c.handoff_rule or "unknown" for c in contacts if is_handed_off(c))
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# -- grouping and rows ------------------------------------------------------------------------


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
    if group_by == "none":
        return "all"
    raise ValueError(f"unknown grouping {group_by!r}")


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

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def row(
    group: str,
    contacts: Sequence[ContactFacts],
    repeats: frozenset[int],
    deflected: frozenset[int] = frozenset(),
) -> Row:
    """Compute one group's row; `deflected` holds the ids of completed deflections."""
    bot = [c for c in contacts if is_bot_conversation(c)]
    ended_alone = [c for c in bot if not c.handed_off and c.ended_at is not None]
    offered = sum(1 for c in contacts if c.deflection_offered)
    accepted = [c for c in contacts if c.deflection_accepted_at is not None]
    completed = sum(1 for c in accepted if c.contact_id in deflected)
    callbacks = [cb for c in contacts for cb in c.callbacks]
    answered = sum(1 for cb in callbacks if cb.answered)
    failed = [cb for cb in callbacks if cb.failed and not cb.answered]
    settled = sum(1 for cb in callbacks if cb.settled and not cb.answered and not cb.failed)
    queued = sum(1 for c in contacts if is_queued_caller(c))
    abandoned = sum(1 for c in contacts if is_abandoned(c))
    short = sum(1 for c in contacts if is_short_abandon(c))
    return Row(
        group=group,
        contacts=len(contacts),
        bot_conversations=len(bot),
        bot_contained=sum(1 for c in bot if is_contained(c, repeats)),
        bot_repeat_contacts=sum(1 for c in ended_alone if c.contact_id in repeats),
        handed_off=sum(1 for c in bot if is_handed_off(c)),
        assisted=sum(1 for c in contacts if c.assisted),
        completed_needs=sum(1 for c in contacts if is_completed(c)),
        completed_digital=sum(1 for c in contacts if is_completed_digital(c)),
        digital_take_up=digital_take_up(contacts),
        bot_containment=bot_containment(contacts, repeats),
        handoff_rate=handoff_rate(contacts),
        handoff_reasons=handoff_reasons(contacts),
        deflection_offered=offered,
        deflection_accepted=len(accepted),
        deflection_completed=completed,
        deflection_acceptance_rate=ratio(len(accepted), offered),
        deflection_completion_rate=ratio(completed, len(accepted)),
        callbacks_booked=len(callbacks),
        callbacks_placed=sum(1 for cb in callbacks if cb.calls),
        callback_calls=sum(cb.calls for cb in callbacks),
        callbacks_answered=answered,
        callbacks_failed=len(failed),
        callbacks_settled=settled,
        callbacks_pending=len(callbacks) - answered - len(failed) - settled,
        callback_answer_rate=ratio(answered, len(callbacks)),
        callback_reasons=_counted(cb.reason or "unknown" for cb in callbacks),
        callback_failures=_counted(cb.failure_status or "unknown" for cb in failed),
        phone_queued=queued,
        phone_abandoned=abandoned,
        phone_short_abandons=short,
        phone_abandonment_rate=ratio(abandoned - short, queued - short),
    )


def channel_shift(
    cohort: Sequence[ContactFacts],
    repeats: frozenset[int],
    group_by: str,
    deflected: frozenset[int] = frozenset(),
) -> tuple[list[Row], Row]:
    """Return one row per group (sorted by group) and the row of the whole cohort."""
    groups: dict[str, list[ContactFacts]] = {}
    for c in cohort:
        groups.setdefault(group_of(c, group_by), []).append(c)
    rows = [row(name, members, repeats, deflected) for name, members in sorted(groups.items())]
    return rows, row("all", cohort, repeats, deflected)
