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

# Contacts by hour of the day (agency time): a working day's shape.
HOUR_WEIGHTS = (0, 0, 0, 0, 0, 1, 2, 5, 10, 12, 12, 11, 10, 10, 9, 8, 6, 4, 3, 3, 2, 2, 1, 1)
CHANNELS = ((WEBCHAT, 45), (SMS, 20), (VOICE, 35))
AGE_BIRTH_YEARS = (("15_64", 1985, 60), ("65_79", 1952, 27), ("80_plus", 1940, 13))
EXEMPT_SHARE = {"15_64": 0.04, "65_79": 0.12, "80_plus": 0.30}
GROUNDS = ("impairment", "no_computer", "language", "no_digital_id")
# What citizens say, by need and language: words the bot is trained on.
PHRASES = {
    "payment_date": {
        "en": ("When is my pension paid?", "What day is the pension payment?"),
        "da": ("Hvornår bliver min pension udbetalt?", "hvilken dag kommer pengene"),
    },
    "missing_payment": {
        "en": ("My payment has not arrived", "I did not get my pension payment this month"),
        "da": ("pengene er ikke kommet i dag", "jeg har ikke fået penge i denne måned"),
    },
    "change_address": {
        "en": ("I have moved, how do I change my address?", "new address"),
        "da": ("jeg flytter", "hvordan giver jeg jer min nye adresse"),
    },
    "application_status": {
        "en": ("Has my application been approved yet?", "I applied three weeks ago"),
        "da": ("er min ansøgning blevet godkendt endnu", "jeg søgte for tre uger siden"),
    },
}
NEEDS = (("payment_date", 40), ("missing_payment", 20), ("change_address", 20),
         ("application_status", 20))  # fmt: skip
PERSON = {"en": "I want to talk to a person", "da": "jeg skal tale med nogen"}
BYE = {"en": "thanks, bye", "da": "tak farvel"}
GIBBERISH = ("xyzzy qwerty", "asdf ghjk")
YES = {"en": "yes", "da": "ja"}


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


def _pick(rng: random.Random, pairs) -> str:  # noqa: ANN001
    names, weights = zip(*pairs, strict=True)
    return rng.choices(names, weights)[0]


class Driver:
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
                self.kanal.uow, f.name, self.config["SECRET_KEY"], "kanal demo traffic"
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
            channel = _pick(self.rng, CHANNELS)
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

    def _story(self) -> tuple[dict | None, str, list[str]]:
        """Return who writes (None: anonymous), in which language, and what they write."""
        rng = self.rng
        who = rng.choice(self.citizens) if self.citizens and rng.random() < 0.75 else None
        language = who["language"] if who else ("da" if rng.random() < 0.7 else "en")
        need = _pick(rng, NEEDS)
        roll = rng.random()
        first = rng.choice(PHRASES[need][language])
        if roll < 0.10:
            texts = [PERSON[language]]
        elif roll < 0.20:
            texts = [rng.choice(GIBBERISH), rng.choice(GIBBERISH)]  # the bot fails twice
        elif roll < 0.30:
            texts = [first, PERSON[language]]
        elif roll < 0.65:
            texts = [first, BYE[language]]
        else:
            texts = [first]  # answered; the conversation times out
        return who, language, texts

    def _later(self, seconds: float, before: datetime) -> None:
        """Move the clock on by `seconds`, but not past the next contact."""
        now = self.clock()
        self.clock.advance_to(min(now + timedelta(seconds=seconds), before - timedelta(seconds=1)))

    def chat(self, before: datetime) -> None:
        from channels.webchat import identity_token
        from router.domain.model import ContactState

        who, _, texts = self._story()
        body = {}
        if who is not None:
            from router.adapters.register_file import national_id
            from router.domain.citizens import pseudonym_for

            secret = self.config["SECRET_KEY"]
            pseudonym = pseudonym_for(secret, national_id(who["national_id"]))
            body["identity"] = identity_token(secret, pseudonym)
        opened = self.client.post("/api/v1/chat/sessions", json=body)
        if opened.status_code != 201:
            self.tally["chat_refused"] += 1
            return
        session = opened.get_json()
        headers = {"Authorization": f"Bearer {session['token']}"}
        url = f"/api/v1/chat/sessions/{session['session_id']}/messages"
        state = None
        for text in texts:
            self._later(self.rng.uniform(10, 60), before)
            answer = self.client.post(url, json={"text": text}, headers=headers)
            state = (answer.get_json() or {}).get("state")
            if state != ContactState.BOT:
                break
        self._serve(before)
        # The widget asks the satisfaction question once the conversation has ended.
        survey = self.client.get(url.replace("/messages", "/survey"), headers=headers)
        if (survey.get_json() or {}).get("state") == "asked" and self.rng.random() < 0.6:
            self._later(self.rng.uniform(5, 30), before)
            answer = {"score": self._score()}
            self.client.post(url.replace("/messages", "/survey"), json=answer, headers=headers)
            self.tally["satisfaction_answers"] += 1

    def text(self, before: datetime) -> None:
        who, _, texts = self._story()
        number = who["phone"] if who else f"+452813{self.rng.randrange(10**4):04d}"
        for text in texts:
            self._later(self.rng.uniform(20, 120), before)
            if not self._post_sms(number, text):
                return
        self._serve(before)
        self._answer_by_sms(number, before)

    def _post_sms(self, number: str, text: str) -> bool:
        """Post one signed inbound-SMS webhook and wait for its turn; False when refused."""
        from channels.twilio_sandbox.sms_simulator import webhook_form
        from channels.twilio_signature import sign

        public = self.config["KANAL_PUBLIC_URL"].rstrip("/")
        form = webhook_form(self._sms_phone(), number, text)
        signature = sign(public + "/twilio/sms", form, self.config["TWILIO_AUTH_TOKEN"])
        response = self.client.post("/twilio/sms", data=form,
                                    headers={"X-Twilio-Signature": signature})  # fmt: skip
        if response.status_code != 200:
            self.tally["sms_refused"] += 1
            return False
        self._settle()
        return True

    def _answer_by_sms(self, number: str, before: datetime) -> None:
        """The scheduler's survey job texts the question; some citizens text a score back."""
        from router.entrypoints.jobs import ask_surveys

        if self.kanal.surveys is None:
            return
        self._later(self.rng.uniform(60, 300), before)
        ask_surveys(self.kanal)
        with self.kanal.uow() as uow:
            asked = uow.surveys.asked_on(SMS, number, self.clock() - timedelta(hours=1))
        if asked is None or self.rng.random() >= 0.5:
            return
        self._later(self.rng.uniform(60, 600), before)
        self._post_sms(number, str(self._score()))
        self.tally["satisfaction_answers"] += 1

    def _score(self) -> int:
        """A 5-point answer, 5 very satisfied: most are content, a tail is not."""
        return self.rng.choices((5, 4, 3, 2, 1), (35, 33, 14, 11, 7))[0]

    def _sms_phone(self):  # noqa: ANN202
        from channels.twilio_sandbox.sms_simulator import TextingPhone

        return TextingPhone(
            base_url="", public_url=self.config["KANAL_PUBLIC_URL"],
            account_sid=self.config["TWILIO_ACCOUNT_SID"] or "ACdemo",
            auth_token=self.config["TWILIO_AUTH_TOKEN"],
            agency_number=self.config["TWILIO_FROM_NUMBER"],
        )  # fmt: skip

    def call(self, before: datetime) -> None:
        from ivr.phone import CallFailed, Line, Phone, flask_send

        who, language, texts = self._story()
        number = who["phone"] if who else f"+452814{self.rng.randrange(10**4):04d}"
        public = self.config["KANAL_PUBLIC_URL"].rstrip("/")
        line = Line(public_url=public, auth_token=self.config["TWILIO_AUTH_TOKEN"],
                    account_sid=self.config["TWILIO_ACCOUNT_SID"] or "ACdemo",
                    agency_number=self.config["TWILIO_FROM_NUMBER"])  # fmt: skip
        call = Phone(line, number, flask_send(self.client, public))
        try:
            call.dial()
            if who is None and call.gather is not None:
                call.press("1" if language == "da" else "2")  # the language menu
            for text in texts:
                if call.ended or call.queue is not None:
                    break
                self._later(self.rng.uniform(5, 20), before)
                call.say(text)
                offered = not call.ended and call.queue is None and call.gather is not None
                if offered and self.rng.random() < 0.55:
                    call.say(YES[language])  # take the link by SMS (if it was offered)
                    self.tally["links_taken"] += 1
                    break
            if call.queue is not None:
                self._later(self.rng.uniform(20, 240), before)
                if self.rng.random() < 0.15:
                    call.hang_up()  # gave up waiting
                    self.tally["calls_abandoned"] += 1
                    return
                self._serve(before, voice=True)
            elif not call.ended:
                call.hang_up()
        except CallFailed:
            self.tally["calls_failed"] += 1

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
