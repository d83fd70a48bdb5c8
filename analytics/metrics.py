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
        "Keyword-only SMS (STOP, START, HELP) open contacts but never bot conversations."
    ),
}


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


@dataclass(frozen=True)
class Window:
    """The calendar days a report covers, in the agency's time zone, as UTC instants."""

    first_day: date
    last_day: date
    timezone: str
    repeat_window: timedelta = timedelta(days=REPEAT_WINDOW_DAYS)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), ZoneInfo(self.timezone)).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """Return the first instant after the window (exclusive bound)."""
        next_day = self.last_day + timedelta(days=1)
        return datetime.combine(next_day, time(0), ZoneInfo(self.timezone)).astimezone(UTC)

    def final_after(self) -> datetime:
        """Return when no repeat contact can change the window's containment any more."""
        return self.end + self.repeat_window

    def describe(self, now: datetime) -> dict:
        return {
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "timezone": self.timezone,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "repeat_window_days": self.repeat_window.days,
            "final_after": self.final_after().isoformat(),
            "provisional": now < self.final_after(),
        }


def definitions(repeat_days: int = REPEAT_WINDOW_DAYS) -> dict[str, str]:
    """Return the plain-language definitions shown beside the numbers."""
    return {k: v.format(days=repeat_days) for k, v in DEFINITIONS.items()}


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

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def row(group: str, contacts: Sequence[ContactFacts], repeats: frozenset[int]) -> Row:
    """Compute one group's row."""
    bot = [c for c in contacts if is_bot_conversation(c)]
    ended_alone = [c for c in bot if not c.handed_off and c.ended_at is not None]
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
    )


def channel_shift(
    cohort: Sequence[ContactFacts], repeats: frozenset[int], group_by: str
) -> tuple[list[Row], Row]:
    """Return one row per group (sorted by group) and the row of the whole cohort."""
    groups: dict[str, list[ContactFacts]] = {}
    for c in cohort:
        groups.setdefault(group_of(c, group_by), []).append(c)
    rows = [row(name, members, repeats) for name, members in sorted(groups.items())]
    return rows, row("all", cohort, repeats)
