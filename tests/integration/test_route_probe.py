"""Every route, as every kind of caller, with hostile requests (tests/route_probe.py): no
answer is a server error, none shows a conversation outside the caller's queues or teams,
and the event log, the rollups and the logs hold no citizen's name or phone number.

The full walk (every hostile value) is `python -m tests.route_probe`; this runs a few of
each kind on both databases.
"""

from __future__ import annotations

import pytest

from tests.conftest import SECRET
from tests.route_probe import probe

pytestmark = pytest.mark.integration


def test_no_route_errs_or_leaks_whoever_asks_and_whatever_they_send(app, kanal):
    found = probe(app, kanal, SECRET, quick=True)

    assert found.requests > 3_000
    assert not found.server_errors, found.report()
    assert not found.leaks, found.report()
