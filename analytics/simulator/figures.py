"""The headline figures of replayed contacts, summed by cell (hour, channel, exemption, age
band): take-up, assisted share, callbacks, agent time, service and cost."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from analytics.simulator.erlang import SERVICE_LEVEL_SECONDS, Hour, service
from analytics.simulator.records import ExpectedOutcome, Recorded
from router.domain.channels import VOICE

PHONE = VOICE
# Cost of a contact by kind (SOCITM 2012, docs/domain.md): a call at the phone rate, a person on
# web chat or SMS at the assisted written rate, self-service at the digital rate.
COSTS = {"digital": 0.15, "phone": 2.83, "assisted_written": 2.83}


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


# A cell's sums: contacts, assisted, callbacks, completed, completed digitally, agent seconds.
N, ASSISTED, CALLBACK, COMPLETED, DIGITAL, SECONDS = range(6)


def empty_sums() -> list[float]:
    return [0.0] * 6


def add_outcome(sums: list[float], o: ExpectedOutcome, n: int = 1) -> None:
    sums[N] += n
    sums[ASSISTED] += o.assisted * n
    sums[CALLBACK] += o.callback * n
    sums[COMPLETED] += o.completed * n
    sums[DIGITAL] += o.digital * n
    sums[SECONDS] += o.agent_seconds * n


def figures(
    cells: Iterable[tuple[tuple, list[float]]],
    staffing: Mapping[datetime, int],
    handle_seconds: float,
    costs: Mapping[str, float] = COSTS,
    threshold: float = SERVICE_LEVEL_SECONDS,
) -> dict:
    """Return the headline figures of cells: ((hour, channel, ...), sums) pairs."""
    total = empty_sums()
    cost = 0.0
    hours: dict[datetime, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (hour, channel, *_), sums in cells:
        for i in range(6):
            total[i] += sums[i]
        if channel == PHONE:
            cost += sums[N] * costs["phone"]
        else:
            assisted = sums[ASSISTED]
            cost += assisted * costs["assisted_written"] + (sums[N] - assisted) * costs["digital"]
        if sums[ASSISTED]:
            slot = hours[hour]
            slot[0] += sums[ASSISTED]
            slot[1] += sums[SECONDS]
    n = round(total[N])
    return {
        "contacts": n,
        "completed": round(total[COMPLETED], 1),
        "completed_digitally": round(total[DIGITAL], 1),
        "digital_take_up": _ratio(total[DIGITAL], total[COMPLETED]),
        "assisted": round(total[ASSISTED], 1),
        "assisted_share": _ratio(total[ASSISTED], n),
        "callbacks": round(total[CALLBACK], 1),
        "agent_hours": round(total[SECONDS] / 3600, 1),
        **service(
            (Hour(a, sec, staffing.get(h, 0)) for h, (a, sec) in hours.items()),
            handle_seconds,
            threshold,
        ),
        "cost": round(cost, 2),
        "cost_per_contact": round(cost / n, 3) if n else None,
        "savings_against_all_phone": round(n * costs["phone"] - cost, 2),
    }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def group_value(c: Recorded, by: str) -> str:
    if by == "exempt":
        return "unidentified" if c.exempt is None else ("exempt" if c.exempt else "not_exempt")
    if by == "age_band":
        return c.age_band or "unknown"
    return c.channel


def observed_service(contacts: Iterable[Recorded], threshold: float) -> float | None:
    """Return the measured service level: queued contacts an agent took within the threshold."""
    queued = answered = 0
    for c in contacts:
        if c.assisted:
            queued += c.count
            if c.wait_seconds is not None and c.wait_seconds <= threshold:
                answered += c.count
    return answered / queued if queued else None


def staffing_of(contacts: Iterable[Recorded]) -> dict[datetime, int]:
    """Return, per hour, how many agents took contacts opened in it."""
    agents: dict[datetime, set[int]] = defaultdict(set)
    for c in contacts:
        if c.agent_id is not None:
            agents[hour_of(c.opened_at)].add(c.agent_id)
    return {h: len(a) for h, a in agents.items()}
