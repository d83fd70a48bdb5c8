"""CPU each process of a run used, read from /proc: what kanal pays and what the harness pays.

A run names its processes by role (`Roles`): kanal's web server and turn worker (what a
deployment runs), the PostgreSQL backends serving the run's database (a deployment's too),
and the harness (the Twilio sandbox standing in for Twilio, this process as the load driver).
`snapshot` reads them all at once; `per_item` turns two snapshots into milliseconds of CPU
per answered SMS, by role and in the two sums.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")

# What a deployment of kanal runs, and what stands in for the world around it.
KANAL = ("kanal_web", "kanal_turn_worker", "postgresql_backends")
HARNESS = ("twilio_sandbox", "load_driver")


@dataclass
class Roles:
    """Process groups (pgid) by role, and a PostgreSQL database whose backends count."""

    groups: dict[str, int] = field(default_factory=dict)
    postgres_database: str | None = None


def _stat(path: Path) -> tuple[int, float] | None:
    """(pgrp, user + system CPU seconds) of one process, None if it ended meanwhile."""
    try:
        fields = path.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / TICK


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def snapshot(roles: Roles) -> dict[str, float]:
    """CPU seconds used so far by each role's live processes, and the machine's busy time."""
    by_group = {pgid: role for role, pgid in roles.groups.items()}
    seconds = {role: 0.0 for role in roles.groups}
    if roles.postgres_database:
        seconds["postgresql_backends"] = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        found = _stat(stat)
        if found is None:
            continue
        pgrp, used = found
        if pgrp in by_group:
            seconds[by_group[pgrp]] += used
        elif roles.postgres_database:
            command = _cmdline(stat.parent.name)
            # A backend's title: "postgres: user database host(port) state".
            if command.startswith("postgres: ") and f" {roles.postgres_database} " in command:
                seconds["postgresql_backends"] += used
    own = os.times()
    seconds["load_driver"] = own.user + own.system
    seconds["machine_busy_all_tenants"] = _machine_busy()
    return seconds


def _machine_busy() -> float:
    """Seconds the machine's CPUs were busy since boot (every process, other tenants too)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICK


def per_item(before: dict[str, float], after: dict[str, float], items: int) -> dict:
    """Milliseconds of CPU per item by role, kanal's and the harness's sums, and the total."""
    ms = {role: round(1000 * (after[role] - before[role]) / items, 2) for role in before}
    kanal = round(sum(ms.get(role, 0.0) for role in KANAL), 2)
    harness = round(sum(ms.get(role, 0.0) for role in HARNESS), 2)
    return {
        "cpu_ms_per_answered_sms": ms,
        "kanal_cpu_ms_per_answered_sms": kanal,
        "harness_cpu_ms_per_answered_sms": harness,
        "all_run_processes_cpu_ms_per_answered_sms": round(kanal + harness, 2),
        "cores_needed_at_measured_rate": None,  # filled by the caller, which knows the rate
    }
