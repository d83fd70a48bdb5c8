"""`kanal demo traffic`: synthetic but realistic contacts through kanal's real channels.

    kanal demo traffic --days 30 --contacts 600

Citizens write, text and call the way they do (needs, times of day, age groups, exemptions,
Danish and English), and agents answer, so a fresh `make run` has a living dashboard. Nothing
is inserted directly: citizens are registered through the register import
(`router.adapters.register.import_csv`), chats go through the chat API, texts through the signed
Twilio SMS webhook, calls through the signed Twilio Voice webhooks (the phone simulator of
`kanal phone`, `ivr/phone.py`), and agents take, answer and resolve contacts through the desk
service (`kanal.desk`), all against one in-process kanal on the configured database.

The clock seam: to spread the contacts over the past `--days`, this kanal is built with a
clock of its own (`create_app(clock=DemoClock)`, the container's `clock=`), which the driver
moves forward from `--days` ago to now, contact by contact; every timestamp the service writes
(events, messages, queue waits) is that clock's. Only this process's kanal is on the demo
clock: a `make run` server beside it keeps real time and shows the contacts as they land.
The clock never goes back, so every contact's story is in order; the bot (Rasa, if it runs)
and the SMS sandbox answer in real time, which does not matter to a backdated contact.
"""

from __future__ import annotations

import csv
import os
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import click

from router.domain.channels import SMS, VOICE, WEBCHAT
from router.domain.citizens import register_day
from router.entrypoints.demo_citizens import (
    AGE_BIRTH_YEARS,
    CHANNELS,
    EXEMPT_SHARE,
    GROUNDS,
    HOUR_WEIGHTS,
    pick,
)
from router.entrypoints.demo_journeys import Journeys


class DemoClock:
    """The demo kanal's clock: it only moves forward, when the driver says so."""

    def __init__(self, now: datetime) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance_to(self, moment: datetime) -> None:
        with self._lock:
            self._now = max(self._now, moment)


class Driver(Journeys):
    """Drives contacts through one in-process kanal on a demo clock."""

    def __init__(self, app, clock: DemoClock, seed: int = 7, echo=print) -> None:  # noqa: ANN001
        from router.entrypoints.bootstrap import kanal_of

        self.app, self.clock, self.echo = app, clock, echo
        self.kanal = kanal_of(app)
        self.client = app.test_client()
        self.rng = random.Random(seed)
        self.config = app.config
        self.tally: Counter[str] = Counter()
        self.citizens: list[dict] = []
        self.agents: list[int] = []

    # -- set-up: citizens through the register import, agents as staff ---------------------

    def register_citizens(self, count: int, since: date) -> None:
        from router.adapters.register import import_csv

        rng = self.rng
        rows = []
        for i in range(count):
            band, year, _ = rng.choices(AGE_BIRTH_YEARS, [w for *_, w in AGE_BIRTH_YEARS])[0]
            ground = rng.choice(GROUNDS) if rng.random() < EXEMPT_SHARE[band] else ""
            language = "da" if rng.random() < 0.75 else "en"
            rows.append({
                "national_id": f"demo-traffic-{i:05d}", "name": f"Demo Citizen {i}",
                "phone": f"+45{2012 + i // 10_000}{i % 10_000:04d}",
                "birth_year": str(year + rng.randrange(-5, 6)),
                "exemption_ground": ground, "language": language,
                "exemption_from": since.isoformat() if ground else "",
                "exemption_until": "unlimited" if ground else "",
            })  # fmt: skip
        with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", delete=False) as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        try:
            report = import_csv(
                self.kanal.uow,
                f.name,
                self.config["SECRET_KEY"],
                "kanal demo traffic",
                today=register_day(self.kanal.clock(), self.kanal.config["KANAL_TIMEZONE"]),
            )
        finally:
            os.unlink(f.name)
        if not report.ok:
            raise click.ClickException("\n".join(report.lines()))
        self.citizens = rows

    def ensure_agents(self, count: int) -> None:
        import secrets

        from router.entrypoints.auth import create_user

        for i in range(1, count + 1):
            name = f"demo-agent-{i}"
            with self.kanal.uow() as uow:
                user = uow.users.by_username(name)
            if user is None:
                password = secrets.token_urlsafe(12)
                user = create_user(self.kanal.uow, name, password, "agent", f"Demo agent {i}")
            self.agents.append(user.id)

    # -- the month ------------------------------------------------------------------------

    def opening_times(self, days: int, contacts: int, end: datetime) -> list[datetime]:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(self.config.get("KANAL_TIMEZONE", "Europe/Copenhagen"))
        first = (end - timedelta(days=days)).astimezone(zone).date()
        times = []
        while len(times) < contacts:
            day = first + timedelta(days=self.rng.randrange(days))
            if day.weekday() >= 5 and self.rng.random() < 0.7:
                continue  # quieter weekends
            hour = self.rng.choices(range(24), HOUR_WEIGHTS)[0]
            local = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
            at = (local + timedelta(seconds=self.rng.randrange(3600))).astimezone(UTC)
            if at < end:
                times.append(at)
        return sorted(times)

    def run(self, days: int, contacts: int, end: datetime) -> Counter[str]:
        from router.service.housekeeping import close_inactive

        times = self.opening_times(days, contacts, end)
        last_sweep = times[0] if times else end
        zone = ZoneInfo(self.config.get("KANAL_TIMEZONE", "Europe/Copenhagen"))
        for n, at in enumerate(times):
            if n and at.astimezone(zone).date() != times[n - 1].astimezone(zone).date():
                self._sign_out()  # the day's last contact is done: the agents go home
            self.clock.advance_to(at)
            if at - last_sweep > timedelta(hours=1):
                close_inactive(self.kanal.uow, self.kanal.channels, at)
                last_sweep = at
            following = times[n + 1] if n + 1 < len(times) else end
            channel = pick(self.rng, CHANNELS)
            {WEBCHAT: self.chat, SMS: self.text, VOICE: self.call}[channel](following)
            self.tally[channel] += 1
            if (n + 1) % 50 == 0:
                self.echo(f"  {n + 1} contacts, up to {at:%Y-%m-%d %H:%M} UTC")
        self._sign_out()
        self.clock.advance_to(end)
        close_inactive(self.kanal.uow, self.kanal.channels, end)
        return self.tally

    def _sign_out(self) -> None:
        """Sign every agent out (their next Take next signs them in again), so their staffed
        time is the day's working hours, not the whole month (occupancy)."""
        for agent in self.agents:
            self.kanal.assignments.sign_out(agent)

    def _later(self, seconds: float, before: datetime) -> None:
        """Move the clock on by `seconds`, but not past the next contact."""
        now = self.clock()
        self.clock.advance_to(min(now + timedelta(seconds=seconds), before - timedelta(seconds=1)))

    # -- agents -----------------------------------------------------------------------------

    def _settle(self, timeout: float = 15.0) -> None:
        """Wait until the SMS turns the webhook handed to the worker have run."""
        deadline = time.monotonic() + timeout
        inbox = self.kanal.turns.inbox
        while time.monotonic() < deadline:
            if self.kanal.worker.idle() and not inbox.waiting(self.clock() + timedelta(days=1)):
                return
            time.sleep(0.01)

    def _serve(self, before: datetime, voice: bool = False) -> None:
        """Agents take whatever waits, answer and resolve it, a few minutes later."""
        from router.domain.commands import AgentReply, ClaimNext, Resolve

        desk = self.kanal.desk
        while True:
            self._later(self.rng.expovariate(1 / 90), before)
            agent = self.rng.choice(self.agents)
            claimed = desk.claim_next(ClaimNext(agent_id=agent))
            if claimed is None:
                return
            with self.kanal.uow() as uow:
                channel = uow.contacts.get(claimed.contact_id).channel
            if channel != VOICE:
                self._later(self.rng.uniform(30, 120), before)
                desk.reply(AgentReply(agent, claimed.contact_id, "Thank you, I have looked into "
                                      "it: it is sorted now."))  # fmt: skip
            self._later(self.rng.lognormvariate(5.6, 0.5), before)
            completed = self.rng.random() < 0.9
            desk.resolve(Resolve(agent, claimed.contact_id, "answered", completed=completed))
            self.tally["served"] += 1


def demo_app(clock: DemoClock, **parts):  # noqa: ANN003, ANN201
    """Return kanal on the demo clock, with the configured bot, database and channels."""
    from router.config import from_env
    from router.entrypoints.app import create_app

    config = from_env()
    # Always open: the demo's agents answer at any hour the contacts come.
    return create_app({**config, "KANAL_ALWAYS_OPEN": True}, clock=clock, **parts)


def drive(app, clock: DemoClock, days: int, contacts: int, end: datetime, seed: int = 7,  # noqa: ANN001
          echo: Callable[[str], None] = print) -> Counter[str]:  # fmt: skip
    """Register demo citizens, then drive `contacts` contacts over the `days` days before `end`."""
    driver = Driver(app, clock, seed, echo)
    driver.register_citizens(max(10, contacts // 3), (end - timedelta(days=days + 1)).date())
    driver.ensure_agents(max(2, contacts // 200))
    return driver.run(days, contacts, end)


@click.group("demo")
def demo() -> None:
    """Demo data for a local kanal."""


@demo.command("traffic")
@click.option("--days", default=30, show_default=True, help="Spread over the last N days.")
@click.option("--contacts", default=600, show_default=True, help="How many contacts.")
@click.option("--seed", default=7, show_default=True, help="The same seed, the same month.")
def traffic(days: int, contacts: int, seed: int) -> None:
    """Drive synthetic contacts through the real channels, backdated on a demo clock."""
    if days < 1 or contacts < 1:
        raise click.BadParameter("--days and --contacts must be at least 1")
    now = datetime.now(UTC)
    clock = DemoClock(now - timedelta(days=days + 1))  # the register is older than the contacts
    app = demo_app(clock)
    try:
        tally = drive(app, clock, days, contacts, now, seed, click.echo)
    finally:
        from router.entrypoints.bootstrap import kanal_of

        kanal_of(app).close()
    click.echo("done: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
