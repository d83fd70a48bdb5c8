"""A realistic month of contacts as event rows, for the million-contact benchmark.

This is the fast loader: it writes `contact_events` rows directly, never through kanal's
channels (`kanal demo traffic` is the way that goes through them). What it writes is what
the service writes for the same story, and every routing decision is made by the real pure
policy (`router.policy.decide`, Denmark's profile) on the context it records, so the
simulator can replay the history exactly:

- opened over 30 days from 1 March 2026, more in office hours than at night, fewer at
  weekends; web chat 45 %, the phone 40 %, SMS 15 %;
- citizens from a pool a third the size of the contacts (so some come back), identified on
  80 % of calls and texts and half of the chats; age bands 15-64, 65-79, 80+; exempt
  citizens more common with age (4 %, 12 %, 30 %);
- the bot understands 80 % of first messages (65 % from citizens 80+), a second failure
  reaches a person; some ask for a person at once; the phone offers the digital route by
  SMS and 55 % take it; people wait, some callers hang up, agents resolve after a few minutes;
  out of hours a person calls back the next morning.

Rows are (type, at, channel, contact_id, citizen, need, data as JSON text), contact by
contact in the order the contacts opened.
"""

from __future__ import annotations

import bisect
import json
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from router.domain import events as ev
from router.policy import Action, PolicyContext, decide, load_profile

START = datetime(2026, 3, 1, tzinfo=ZoneInfo("Europe/Copenhagen")).astimezone(UTC)
DAYS = 30
# Distinct stories: each is told again for other contacts, on another week of the month,
# about another citizen of the same group, with new ids (so a million contacts load fast).
STORIES = 20_000
STORY_ID = 9_000_000_000  # a story's contact id while told; ten digits no other number has
PROFILE = load_profile("denmark")
OPEN_HOURS = range(8, 16)  # Monday to Friday, Copenhagen (KANAL_BUSINESS_HOURS' default)
# Contacts by hour of the day (Copenhagen): a working day's shape.
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 16, 15, 14, 14, 13, 11, 8, 6, 5, 5, 4, 3, 2, 1)
NEEDS = (
    ("payment_date", 22), ("missing_payment", 10), ("apply_benefit:pension", 8),
    ("apply_benefit:housing", 7), ("application_status", 14), ("change_address", 9),
    ("report_change", 8), ("document_upload", 6), ("pension_amount", 8), ("tax_card", 8),
)  # fmt: skip
AGE_BANDS = (("15_64", 62), ("65_79", 25), ("80_plus", 13))
EXEMPT_SHARE = {"15_64": 0.04, "65_79": 0.12, "80_plus": 0.30}
GROUNDS = ("impairment", "no_computer", "language", "no_digital_id", "homeless")
CHANNELS = (("webchat", 45), ("voice", 40), ("sms", 15))


def _cumulative(pairs) -> tuple[tuple, list[float]]:  # noqa: ANN001
    names, weights = zip(*pairs, strict=True)
    total, acc = sum(weights), []
    running = 0.0
    for w in weights:
        running += w
        acc.append(running / total)
    return names, acc


def _pick(rng: random.Random, table: tuple[tuple, list[float]]):  # noqa: ANN202
    names, acc = table
    return names[min(bisect.bisect(acc, rng.random()), len(names) - 1)]


_NEEDS, _AGES, _CHANNELS = _cumulative(NEEDS), _cumulative(AGE_BANDS), _cumulative(CHANNELS)


class History:
    """Writes the month's events, contact by contact."""

    def __init__(self, contacts: int, seed: int = 17) -> None:
        self.contacts = contacts
        self.rng = random.Random(seed)
        self.pool = max(1, contacts // 3)
        self._groups_of: dict[int, tuple] = {}
        self._decided: dict[tuple[str, PolicyContext], tuple[str, str, str, str]] = {}
        # Agents on shift per hour of a working day, sized to the month's assisted work.
        per_hour = contacts / DAYS / sum(HOUR_WEIGHTS)
        self.shift = [
            max(2, math.ceil(per_hour * w * 0.4 * 420 / 3600 * 1.15)) for w in HOUR_WEIGHTS
        ]

    def decide(self, stage: str, ctx: PolicyContext) -> tuple[str, str, str, str]:
        """Return the rule, action, reason and the decision_made event's data as JSON."""
        key = (stage, ctx)
        found = self._decided.get(key)
        if found is None:
            d = decide(ctx, PROFILE)
            data = json.dumps(
                {"stage": stage, "rule_id": d.rule_id, "action": str(d.action),
                 "reason": d.reason, "profile": PROFILE.name, "context": _inputs(ctx)}
            )  # fmt: skip
            found = self._decided[key] = (d.rule_id, str(d.action), d.reason, data)
        return found

    def opening_times(self, n: int) -> list[datetime]:
        rng = self.rng
        hours = _cumulative(tuple(enumerate(HOUR_WEIGHTS)))
        times = []
        for _ in range(n):
            day = rng.randrange(DAYS)
            local = datetime(2026, 3, 1, tzinfo=ZoneInfo("Europe/Copenhagen")) + timedelta(days=day)
            if local.weekday() >= 5 and rng.random() < 0.6:
                day = rng.randrange(DAYS)  # weekends are quieter: most draws move to another day
                local = datetime(2026, 3, 1, tzinfo=ZoneInfo("Europe/Copenhagen")) + timedelta(
                    days=day
                )
            hour = _pick(rng, hours)
            at = local.replace(hour=hour) + timedelta(seconds=rng.randrange(3600))
            times.append(at.astimezone(UTC))
        times.sort()
        return times

    def citizen(self, k: int) -> tuple[str, str, tuple[str, ...]]:
        """Return the pseudonym, age band and exemption grounds of citizen k (stable)."""
        r = random.Random(k)
        band = _pick(r, _AGES)
        grounds = (r.choice(GROUNDS),) if r.random() < EXEMPT_SHARE[band] else ()
        return f"p{k:07d}", band, grounds

    def rows(self) -> Iterator[tuple]:
        """Yield every contact's rows: stories told once, told again on other weeks."""
        stories = max(1, min(self.contacts, STORIES))
        told = [self.contact(STORY_ID + j, at) for j, at in enumerate(self.opening_times(stories))]
        # Citizens by group, so a story told again is about a citizen of the same group.
        groups: dict[tuple, list[str]] = {}
        for k in range(self.pool):
            pseudonym, band, grounds = self.citizen(k)
            groups.setdefault((band, grounds), []).append(pseudonym)
        rng = self.rng
        week = timedelta(days=7)
        end = START + timedelta(days=DAYS)
        order = sorted((rng.randrange(stories), rng.randrange(-4, 5)) for _ in range(self.contacts))
        for cid, (j, weeks) in enumerate(
            sorted(order, key=lambda o: told[o[0]][0][1] + o[1] * week), 1
        ):
            rows = told[j]
            shift = weeks * week
            if not START <= rows[0][1] + shift < end:
                shift = timedelta(0)
            mark, new = str(STORY_ID + j), str(cid)
            who = rows[0][4]
            if who is not None:
                band_grounds = self._groups_of[j]
                pool = groups[band_grounds]
                who = pool[rng.randrange(len(pool))]
            for type_, at, channel, _, _, need, data in rows:
                yield (type_, at + shift, channel, cid, who, need, data.replace(mark, new))

    def contact(self, cid: int, at: datetime) -> list[tuple]:  # noqa: C901, PLR0915
        rng = self.rng
        channel = _pick(rng, _CHANNELS)
        identified = rng.random() < (0.5 if channel == "webchat" else 0.8)
        citizen, band, grounds = self.citizen(rng.randrange(self.pool)) if identified else (
            None, None, ()
        )  # fmt: skip
        self._groups_of[cid - STORY_ID] = (band, grounds)
        local = _copenhagen(at)
        open_now = local.weekday() < 5 and local.hour in OPEN_HOURS
        need: str | None = None
        rows: list[tuple] = []
        message = [cid * 10]

        def add(type_: str, when: datetime, **data) -> None:  # noqa: ANN003
            rows.append((type_, when, channel, cid, citizen, need, json.dumps(data)))

        def decided(when: datetime, data: str) -> None:
            rows.append((ev.DECISION_MADE, when, channel, cid, citizen, need, data))

        add(ev.CONTACT_OPENED, at)
        if identified:
            add(ev.CITIZEN_IDENTIFIED, at, exempt=bool(grounds), grounds=list(grounds),
                age_band=band)  # fmt: skip
        wait_estimate = 30 * rng.randrange(1, 20) if open_now else 0
        t = at + timedelta(seconds=3)
        failures, offered = 0, False
        asks = rng.random() < (0.15 if band == "80_plus" else 0.05)
        understood_share = 0.65 if band == "80_plus" else 0.8
        final = Action.SELF_SERVICE
        for turn in range(3):
            message[0] += 1
            add(ev.MESSAGE_RECEIVED, t, message_id=message[0])
            ctx = PolicyContext(
                channel, grounds, band, identified, None, None, failures, True, asks, open_now,
                wait_estimate, False, offered,
            )  # fmt: skip
            rule, action, reason, data = self.decide("before_bot", ctx)
            decided(t, data)
            final = Action(action)
            if final != Action.SELF_SERVICE:
                break
            t += timedelta(seconds=rng.randrange(1, 4))
            understood = rng.random() < understood_share
            if understood:
                if need is None:
                    need = _pick(rng, _NEEDS)
                confidence = round(rng.uniform(0.6, 0.99), 2)
                intent = need.partition(":")[0]
                failures = 0
                if turn and rng.random() < 0.5:
                    intent, confidence = "goodbye", 0.95
                add(ev.BOT_ANSWERED, t, intent=intent, confidence=confidence)
            else:
                confidence = round(rng.uniform(0.1, 0.5), 2)
                intent = "nlu_fallback"
                failures += 1
                add(ev.BOT_FAILED, t, intent=intent, confidence=confidence, error=None,
                    consecutive=failures)  # fmt: skip
            after = PolicyContext(
                channel, grounds, band, identified,
                need if understood and intent != "goodbye" else intent,
                confidence, failures, True, asks, open_now, wait_estimate, False, offered,
            )  # fmt: skip
            rule, action, reason, data = self.decide("after_bot", after)
            decided(t, data)
            final = Action(action)
            if final == Action.OFFER_DIGITAL:
                offered = True
                add(ev.DIGITAL_OFFERED, t, rule_id=rule)
                add(ev.DEFLECTION_OFFERED, t, need=need, route="sms")
                if rng.random() < 0.55:
                    add(ev.DEFLECTION_ACCEPTED, t + timedelta(seconds=20), need=need, route="sms",
                        message_id=message[0])  # fmt: skip
                    end = t + timedelta(seconds=40)
                    add(ev.CALL_ENDED, end, status="completed", queue_result=None, seconds=40)
                    add(ev.CLOSED, end, why="inactive")
                    return rows
                asks = True  # "I would rather talk to someone"
            elif final != Action.SELF_SERVICE:
                break
            elif understood and (turn or rng.random() < 0.6):
                break  # answered: the citizen leaves, or said goodbye
            t += timedelta(seconds=rng.randrange(20, 90))
        end = t + timedelta(minutes=rng.randrange(1, 30))
        if final in (Action.SELF_SERVICE, Action.CLOSE):
            add(ev.RESOLVED, end, by="bot", wrap_up="self_service", completed=need is not None,
                digital=channel != "voice")  # fmt: skip
            if channel == "voice":
                add(ev.CALL_ENDED, end, status="completed", queue_result=None, seconds=60)
            add(ev.CLOSED, end, why="resolved" if final == Action.CLOSE else "inactive")
            return rows
        callback = final == Action.CALLBACK
        add(ev.HANDED_OFF, t, reason=reason, rule_id=rule, from_bot=failures > 0 or need
            is not None, callback=callback)  # fmt: skip
        add(ev.QUEUED, t, queue_item_id=cid, skill=PROFILE.skill_for(need), priority=0)
        if callback:
            add(ev.CALLBACK_BOOKED, t, callback_id=cid, reason="policy", not_before=None)
        if channel == "voice" and not callback and rng.random() < 0.1:
            gone = t + timedelta(seconds=rng.randrange(10, 600))
            add(ev.CALL_ENDED, gone, status="abandoned", queue_result="hangup", seconds=300)
            add(ev.CLOSED, gone, why="inactive")
            return rows
        wait = _next_opening(local) if callback else rng.expovariate(1 / 45)
        taken = t + timedelta(seconds=wait)
        hour = _copenhagen(taken).hour
        agent = 1 + rng.randrange(self.shift[hour])
        add(ev.AGENT_ASSIGNED, taken, queue_item_id=cid, agent_id=agent, wait_seconds=int(wait))
        handle = rng.lognormvariate(math.log(360 if channel == "voice" else 420), 0.5)
        done = taken + timedelta(seconds=handle)
        add(ev.RESOLVED, done, by="agent", agent_id=agent, wrap_up="answered",
            completed=rng.random() < 0.92, digital=channel != "voice")  # fmt: skip
        if channel == "voice":
            add(ev.CALL_ENDED, done, status="completed", queue_result="bridged", seconds=handle)
        add(ev.CLOSED, done, why="resolved")
        return rows


SUMMER_TIME = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # Copenhagen moves to UTC+2


def _copenhagen(at: datetime) -> datetime:
    """Return Copenhagen's wall-clock time (naive) in March 2026, without a zone lookup."""
    return (at + timedelta(hours=1 if at < SUMMER_TIME else 2)).replace(tzinfo=None)


def _fields(ctx: PolicyContext) -> dict:
    return {k: getattr(ctx, k) for k in ctx.__dataclass_fields__}


def _inputs(ctx: PolicyContext) -> dict:
    """The context as `router/service/outcome.py` stores it (tuples as lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in _fields(ctx).items()}


def _next_opening(local: datetime) -> float:
    """Seconds from `local` to 08:00 on the next working day (Copenhagen)."""
    day = local.replace(hour=8, minute=0, second=0, microsecond=0)
    if local >= day:
        day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return (day - local).total_seconds()
