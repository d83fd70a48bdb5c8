"""Service level and speed of answer as an Erlang C estimate per hour of assisted demand."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from analytics.simulator.behaviour import DEFAULT_HANDLE_SECONDS

SERVICE_LEVEL_SECONDS = 20  # Y of service level X/Y: answered within 20 s (the 80/20 convention)


def erlang_c(agents: int, load: float) -> float:
    """Return the probability that an arrival waits (Erlang C), `load` in erlangs."""
    if load <= 0:
        return 0.0
    if load >= agents:
        return 1.0
    blocked = 1.0  # Erlang B, by its recurrence (stable for any number of agents)
    for k in range(1, agents + 1):
        blocked = load * blocked / (k + load * blocked)
    return agents * blocked / (agents - load * (1 - blocked))


@dataclass(frozen=True)
class Hour:
    """One hour's assisted demand and the agents who met it."""

    arrivals: float
    agent_seconds: float
    agents: int


def service(
    hours: Iterable[Hour], handle_seconds: float, threshold: float = SERVICE_LEVEL_SECONDS
) -> dict:
    """Return the Erlang C service level and speed of answer over hours, arrival-weighted."""
    arrivals = within = waited = stable = 0.0
    overloaded = 0
    for h in hours:
        if h.arrivals <= 0:
            continue
        load = h.agent_seconds / 3600
        agents = max(1, h.agents)
        arrivals += h.arrivals
        if load >= agents:
            overloaded += 1
            continue
        waits = erlang_c(agents, load)
        aht = handle_seconds or DEFAULT_HANDLE_SECONDS
        within += h.arrivals * (1 - waits * math.exp(-(agents - load) * threshold / aht))
        waited += h.arrivals * waits * aht / (agents - load)
        stable += h.arrivals
    return {
        "service_level": round(within / arrivals, 4) if arrivals else None,
        "average_speed_of_answer_seconds": round(waited / stable, 1) if stable else None,
        "overloaded_hours": overloaded,
    }
