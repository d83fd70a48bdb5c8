"""One row per conversation for a manager's own tools (`GET /api/v1/metrics/conversations.csv`).

The rows carry what the event log says about each contact, computed as the channel-shift
figures are (docs/domain.md §4.2), and nothing personal: the citizen's pseudonym, never a
name, a phone number or anything the citizen wrote.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine

from analytics import metrics
from analytics.queries import decisions, window_facts
from analytics.report import Query

COLUMNS = (
    "conversation",
    "citizen",
    "opened_at",
    "ended_at",
    "channel",
    "need",
    "exempt",
    "age_band",
    "language",
    "profile",
    "decisions",
    "bot_turns",
    "handed_off",
    "handoff_reason",
    "queue",
    "queue_wait_seconds",
    "handle_seconds",
    "outcome",
    "wrap_up",
    "cost",
    "satisfaction",
    "repeat",
    "to_person_rule",
)


def outcome(c: metrics.ContactFacts) -> str:
    """Return what became of a conversation: in_progress, abandoned (left the queue),
    completed_digital, completed_assisted_digital, completed_other, deflected (took the link,
    no completion reported) or not_completed."""
    if c.ended_at is None:
        return "in_progress"
    queue = metrics.queue_outcome(c)
    if queue is not None and queue[0] == "abandoned":
        return "abandoned"
    kind = metrics.completion(c)
    if kind is not None:
        return f"completed_{kind}"
    if c.deflection_accepted_at is not None:
        return "deflected"
    return "not_completed"


def row_of(
    c: metrics.ContactFacts, decided: list[tuple[str, str]], settings: metrics.Settings
) -> dict:
    queue = metrics.queue_outcome(c)
    waited = queue is not None and queue[0] in ("answered", "abandoned")
    return {
        "conversation": c.contact_id,
        "citizen": c.citizen,
        "opened_at": c.opened_at.isoformat(),
        "ended_at": c.ended_at.isoformat() if c.ended_at else None,
        "channel": c.channel,
        "need": metrics.group_of(c, "need"),
        "exempt": metrics.group_of(c, "exempt"),
        "age_band": metrics.group_of(c, "age_band"),
        "language": metrics.group_of(c, "language"),
        "profile": c.profile,
        "decisions": " > ".join(f"{rule}:{action}" for rule, action in decided),
        "bot_turns": c.bot_turns,
        # As the metric `handed_off` counts them: a bot conversation the policy passed to a
        # person, so the column sums to the report's figure (an exempt caller sent to a person
        # before any bot turn was never in a bot conversation: 0 here, see to_person_rule).
        "handed_off": int(metrics.is_handed_off(c)),
        "handoff_reason": c.handoff_rule if metrics.is_handed_off(c) else None,
        "queue": queue[0] if queue else None,
        "queue_wait_seconds": metrics.in_seconds(queue[1]) if waited else None,
        "handle_seconds": metrics.handle_seconds(c),
        "outcome": outcome(c),
        "wrap_up": c.wrap_up,
        "cost": float(settings.costs.get(metrics.cost_kind(c), 0)),
        "satisfaction": c.satisfaction,
        "repeat": int(bool(c.repeats_after)) if c.ended_at is not None else None,
        # The rule that passed the conversation to a person, with or without the bot.
        "to_person_rule": c.handoff_rule if c.handed_off else None,
    }


def conversations(engine: Engine, query: Query) -> Iterator[dict]:
    """Return the rows, one per conversation opened in the query's window that its filters
    keep, in the order the conversations opened. The log is read at once (a failure answers
    500, never a cut file); the rows are made as they are read."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        facts = window_facts(conn, query.window)
        decided = decisions(conn, query.window)
    kept = [c for c in facts if metrics.matches(c, query.filters)]
    kept.sort(key=lambda c: (c.opened_at, c.contact_id))
    return (row_of(c, decided.get(c.contact_id, []), query.settings) for c in kept)
