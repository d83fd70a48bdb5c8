"""The turn worker gives way to the web on the CPU, even when it leads a session of its own
(where Linux schedules the session as one group, and `nice` alone weighs nothing against
the web's processes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/autogroup").exists(), reason="the kernel groups no sessions"
)

GIVE_WAY = (
    "import os; from router.entrypoints.priority import give_way; give_way(); "
    "print(os.nice(0)); print(open('/proc/self/autogroup').read())"
)


def _run(new_session: bool) -> tuple[int, str]:
    out = subprocess.run(
        [sys.executable, "-c", GIVE_WAY],
        capture_output=True,
        text=True,
        check=True,
        start_new_session=new_session,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout.split("\n")
    return int(out[0]), out[1]


def _own_group() -> str:
    # empty in the kernel's default group (a process tree that never started a session)
    return Path("/proc/self/autogroup").read_text().strip()


def test_a_worker_leading_its_own_session_lowers_its_groups_priority():
    niceness, group = _run(new_session=True)
    assert niceness >= 10
    assert group.endswith("nice 10")


def test_a_worker_sharing_a_session_leaves_the_group_as_it_was():
    niceness, group = _run(new_session=False)
    assert niceness >= 10
    assert group.strip() == _own_group()  # the web in the same session keeps its group and place
