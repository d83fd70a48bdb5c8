"""The scheduler runs a stored durable job through its container's registry, whatever
function path the row was written with (rows from before the move still run)."""

import pickle
from datetime import UTC, datetime

import pytest
from apscheduler.triggers.date import DateTrigger

from router.adapters.durable_jobs import TARGET, RegistryJobStore

pytestmark = pytest.mark.unit

AT = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


def row(func: str) -> bytes:
    """A job row as APScheduler's SQLAlchemy store pickles it."""
    state = {
        "version": 1,
        "id": "callback-7@1741082400.000",
        "func": func,
        "trigger": DateTrigger(run_date=AT, timezone="UTC"),
        "executor": "default",
        "args": ("run_callback", 7),
        "kwargs": {},
        "name": "run_callback(7)",
        "misfire_grace_time": None,
        "coalesce": True,
        "max_instances": 1,
        "next_run_time": AT,
    }
    return pickle.dumps(state)


@pytest.mark.parametrize(
    "func", ["router.jobs:run_durable", "router.entrypoints.jobs:run_durable", TARGET]
)
def test_a_stored_job_runs_through_the_registry(func):
    ran = []
    store = RegistryJobStore(lambda name, arg: ran.append((name, arg)), url="sqlite://")
    job = store._reconstitute_job(row(func))
    job.func(*job.args)
    assert ran == [("run_callback", 7)]
    assert job.func_ref == TARGET  # written back, it names no kanal function


def test_a_store_without_a_registry_refuses_to_run_a_job():
    store = RegistryJobStore(None, url="sqlite://")
    job = store._reconstitute_job(row(TARGET))
    with pytest.raises(RuntimeError, match="without a registry"):
        job.func(*job.args)
