"""The turn worker gives way to the web's acknowledgements on the CPU.

Twilio waits at most 15 s for a webhook's answer, while a turn can wait its turn: so the
worker runs at a lower priority (`nice`) than the web processes. On Linux, `nice` alone only
weighs a process against the others of its own scheduling group, and the kernel puts each
session in a group of its own (autogroup, /proc/sys/kernel/sched_autogroup_enabled): a
worker started in a session of its own (a supervisor's child, a `setsid`, the benchmark's
harness) would then get as much of the CPU as every web process together, niced or not.
A worker that leads its own session therefore lowers its group's priority too. One that
shares a session (a shell's, `make run`'s) leaves the group alone: that would lower the
web's priority with it. Under systemd each service has a control group of its own instead,
where autogroups do not apply (CPUWeight= there).
"""

from __future__ import annotations

import contextlib
import os

AUTOGROUP = "/proc/self/autogroup"


def give_way(niceness: int = 10) -> None:
    """Lower this process' CPU priority by `niceness`, and its session's scheduling group's
    too when the process leads that session alone."""
    os.nice(niceness)
    if os.getsid(0) != os.getpid():
        return
    with contextlib.suppress(OSError), open(AUTOGROUP, "w") as group:  # not Linux, no autogroup
        group.write(str(niceness))
