"""Liveness, readiness and `/metrics` (served by prometheus-client from a per-app registry)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Literal

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel
from sqlalchemy import Engine, text

from router.openapi import Answer, Operation, describe
from router.service.counters import COUNTERS, ProcessCounters
from router.service.gauges import read_gauges
from router.service.ports import BotPort
from router.web import bound


def blueprint(
    engine: Engine,
    bot: BotPort,
    uow: Callable,
    counters: ProcessCounters | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Blueprint:
    """Return liveness, readiness and the Prometheus metrics over the given parts."""
    bp = Blueprint("health", __name__)
    reg = registry(uow, bot, counters or ProcessCounters(), clock or (lambda: datetime.now(UTC)))
    bp.add_url_rule("/healthz", "healthz", describe(bound(healthz), LIVENESS))
    bp.add_url_rule("/readyz", "readyz", describe(bound(readyz, engine, bot), READINESS))
    bp.add_url_rule("/metrics", "metrics", describe(bound(metrics, reg), PROMETHEUS))
    return bp


class Alive(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, dict[str, Any]]
    degraded: str | None = None


_TAGS = ("operations",)
LIVENESS = Operation("Liveness", _TAGS, answers={200: Answer("The process answers.", Alive)})
READINESS = Operation(
    "Readiness: database and bot",
    _TAGS,
    description="Still ready without the bot: contacts then go to people (`degraded` says so).",
    answers={
        200: Answer("The database answers.", Readiness),
        503: Answer("The database does not answer.", Readiness),
    },  # fmt: skip
)
PROMETHEUS = Operation(
    "Prometheus metrics",
    _TAGS,
    description="This process' counters and the service's gauges (docs/architecture.md).",
    answers={200: Answer("Prometheus text format.", media="text/plain")},
)


def healthz():
    """Answer while the process is alive."""
    return jsonify(status="ok")


def readyz(engine: Engine, bot: BotPort):
    """Report whether the database and the bot can serve; 503 when the database cannot."""
    checks: dict[str, object] = {}
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = {"state": "up"}
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure
        checks["database"] = {"state": "down", "error": type(exc).__name__}
    checks["bot"] = bot.status()
    db_up = checks["database"]["state"] == "up"
    # Without the bot kanal still serves: every contact goes to people, so it stays ready.
    body = {"status": "ready" if db_up else "unavailable", "checks": checks}
    if checks["bot"].get("state") != "up":
        body["degraded"] = "bot unavailable: contacts are routed to people"
    return jsonify(body), 200 if db_up else 503


class KanalCollector(Collector):
    """Reads the service's gauges and this process' counters each time Prometheus scrapes."""

    def __init__(
        self, uow: Callable, bot: BotPort, counters: ProcessCounters, clock: Callable[[], datetime]
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.bot = bot
        self.counters = counters

    def collect(self) -> Iterator[Metric]:
        g = read_gauges(self.uow, self.clock())
        yield _family(
            GaugeMetricFamily, "kanal_open_contacts", "Open contacts by channel and state.",
            ("channel", "state"), g.open_contacts.items(),
        )  # fmt: skip
        yield _family(
            GaugeMetricFamily, "kanal_queue_waiting", "Contacts waiting for a person, by skill.",
            ("skill",), (((k,), n) for k, n in g.waiting.items()),
        )  # fmt: skip
        yield _family(
            GaugeMetricFamily, "kanal_queue_oldest_wait_seconds",
            "How long the oldest waiting contact has waited, by skill.",
            ("skill",), (((k,), round(v, 1)) for k, v in g.oldest_wait_seconds.items()),
        )  # fmt: skip
        yield _family(
            GaugeMetricFamily, "kanal_outbound_messages",
            "Outbound messages by channel and delivery status.",
            ("channel", "status"), g.outbound.items(),
        )  # fmt: skip
        up = GaugeMetricFamily("kanal_bot_up", "Whether the bot answers.")
        up.add_metric([], 1 if self.bot.status().get("state") == "up" else 0)
        yield up
        for name, help_text in COUNTER_HELP.items():
            yield _family(
                CounterMetricFamily, f"kanal_{name}", help_text, COUNTERS[name],
                self.counters.read(name).items(),
            )  # fmt: skip


COUNTER_HELP = {
    "turns": "Citizens' messages the bot took a turn on, by channel (this process).",
    "bot_failures": "Bot turns that failed, by channel and reason (this process).",
    "deliveries": "Outbound sends by channel and outcome (this process).",
}


def _family(kind, name: str, help_text: str, labels, samples) -> Metric:  # noqa: ANN001
    family = kind(name, help_text, labels=list(labels))
    for values, value in samples:
        family.add_metric(list(values), value)
    return family


def registry(
    uow: Callable, bot: BotPort, counters: ProcessCounters, clock: Callable[[], datetime]
) -> CollectorRegistry:
    """One app's Prometheus registry: kanal's collector, nothing process-global."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(KanalCollector(uow, bot, counters, clock))
    return reg


def metrics(reg: CollectorRegistry):
    """Expose gauges and counters in Prometheus' text format (no personal data)."""
    return Response(generate_latest(reg), content_type=CONTENT_TYPE_LATEST)
