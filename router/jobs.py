"""Scheduler jobs: plain functions, registered in one place (JOBS) and run by `kanal scheduler`.

APScheduler stores jobs by textual reference, so each job finds the app it works on through
`current()`, built once per scheduler process.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)
_app = None


def current():
    """Return this process's app, creating it on first use."""
    global _app
    if _app is None:
        from router import create_app

        _app = create_app()
    return _app


def sweep_inbound() -> None:
    """Route inbound messages a crashed web worker left unrouted."""
    count = current().extensions["kanal"].centre.sweep()
    if count:
        log.info("routed %s left-over inbound messages", count)


def close_inactive() -> None:
    """Close bot conversations the citizen left."""
    count = current().extensions["kanal"].centre.close_inactive()
    if count:
        log.info("closed %s inactive conversations", count)


def dispatch_outbound() -> None:
    """Hand due outbound SMS (new ones and retries) to the provider."""
    dispatch = current().extensions["kanal"].extras.get("dispatch_sms")
    if dispatch is not None:
        dispatch()


# (job id, function reference, seconds between runs)
JOBS = (
    ("sweep_inbound", "router.jobs:sweep_inbound", 10),
    ("close_inactive", "router.jobs:close_inactive", 60),
    ("dispatch_outbound", "router.jobs:dispatch_outbound", 5),
)
