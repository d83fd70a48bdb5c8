"""The router's bot port, implemented over kanal's Rasa input channel."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from bots.breaker import CircuitBreaker, Outcome
from bots.bulkhead import Bulkhead
from bots.keepalive import KeptAlive
from bots.outbound import NotAPseudonym, payload
from router.service.ports import BotTurn

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/kanal/webhook"
STATUS_TIMEOUT = 1.0  # /readyz must answer quickly even when Rasa hangs
ANSWERED, OUTAGE, NEUTRAL = Outcome.ANSWERED, Outcome.OUTAGE, Outcome.NEUTRAL


class RasaBot:
    """Ask the Rasa bot, through kanal's channel, what it makes of a citizen's message.

    One HTTP round trip per turn (on a kept-alive connection) returns the bot's messages and
    the intent it acted on.
    Rasa down, slow, answering an error or nothing at all is a failed turn (`ok=False`),
    which the policy counts as a bot failure and escalates on.

    A turn has a time budget (`timeout`, KANAL_BOT_TIMEOUT): a spoken turn waits at most half
    of it for one of the `concurrency` slots of this process' bulkhead (KANAL_BOT_CONCURRENCY),
    and the call gets the rest; a written turn waits its `wait` (KANAL_BOT_WAIT_SECONDS) for a
    slot, first come first served, and its call gets the whole budget: a burst of chats is
    answered by the bot a few seconds later rather than handed to people.
    The circuit breaker (bots/breaker.py) counts only outages: a refused connection, a 5xx, a
    call that timed out when Rasa has answered nothing (no call, no `/status`) for
    `down_after` seconds (4 budgets): a Rasa that answers other calls is slow (an unsure
    message costs it seconds on a busy machine), not down. A 4xx for one message, an empty
    answer, a slow timeout, or a turn that found no free slot ("busy") fail that turn only.
    While the circuit is open a probe of Rasa's `/status` every `reset_after` seconds closes
    it when Rasa is back, even if no citizen writes.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 2.5,
        failure_threshold: int = 3,
        reset_after: float = 30.0,
        *,
        concurrency: int = 4,
        down_after: float | None = None,
        probe: bool = True,
        clock: Callable[[], float] = time.monotonic,
        session_factory: Callable[[], Any] | None = None,
    ) -> None:
        if timeout <= 0 or concurrency < 1:
            raise ValueError("the bot's timeout must be > 0 and its concurrency >= 1")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.concurrency = concurrency
        self.breaker = CircuitBreaker(
            failure_threshold, reset_after, clock, trial_lease=max(reset_after, 2 * timeout)
        )
        self.bulkhead = Bulkhead(concurrency)
        # A timeout is an outage only when Rasa has answered nothing for this long (counted
        # from the first call too: a first slow turn is no proof that Rasa is down).
        self.down_after = down_after if down_after is not None else 4 * timeout
        self._last_answer: float | None = None
        self._clock = clock
        self._probe = probe
        self._prober: threading.Timer | None = None
        self._prober_lock = threading.Lock()
        # Kept-alive connections shared by this process' threads, as many as the bulkhead
        # lets calls through at once (bots/keepalive.py); tests hand in a stand-in.
        self._connections = (
            KeptAlive(self.base_url, concurrency) if session_factory is None else None
        )
        self._session_factory = session_factory or (lambda: self._connections)
        self._local = threading.local()  # each thread asks the factory for its session once

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._session_factory()
        return session

    def turn(
        self,
        conversation_id: str,
        text: str,
        *,
        language: str | None = None,
        wait: float | None = None,
    ) -> BotTurn:
        """Send one citizen message under its opaque conversation id; return the bot's turn.

        `wait`: how long the turn may wait for a free slot, its call then getting the whole
        budget (a written turn: the citizen reads the answer when it comes); None: at most
        half the budget, the call the rest (a caller on the line hears silence meanwhile)."""
        started = self._clock()
        try:
            body = payload(conversation_id, text, language)
        except NotAPseudonym:
            logger.warning("bot turn refused: the sender id is not a pseudonym")
            return BotTurn(ok=False, error="refused: sender is not a pseudonym")
        ticket = self.breaker.allow()
        if ticket is None:
            return BotTurn(ok=False, error="circuit-open")
        if self._last_answer is None:
            self._last_answer = started  # the silence is counted from the first call
        slot_wait = self.timeout / 2 if wait is None else wait
        if not self.bulkhead.enter(slot_wait):
            self.breaker.record(ticket, Outcome.NEUTRAL)
            logger.warning("bot turn failed: busy (no free slot in %.1f s)", slot_wait)
            return BotTurn(ok=False, error="busy")
        turn, outcome = BotTurn(ok=False, error="unexpected"), NEUTRAL
        try:
            budget_left = self.timeout
            if wait is None:
                budget_left = max(self.timeout - (self._clock() - started), self.timeout / 2)
            turn, outcome = self._ask(body, budget_left)
        except Exception as exc:  # noqa: BLE001 - any surprise is a failed turn, never a crash
            turn, outcome = BotTurn(ok=False, error=f"unexpected: {type(exc).__name__}"), NEUTRAL
        finally:
            if outcome is ANSWERED:
                self.bulkhead.leave(slow=False)
            else:
                self.bulkhead.leave(slow=True if turn.error == "timeout" else None)
        if turn.error == "timeout" and self._answered_lately():
            outcome = NEUTRAL  # slow, not down: Rasa answered another call lately
        self.breaker.record(ticket, outcome)
        if not turn.ok:
            # The error names the failure only: citizen text and ids stay out of the logs.
            logger.warning("bot turn failed: %s", turn.error)
        if outcome is Outcome.OUTAGE:
            self._probe_later()
        return turn

    def _answered_lately(self) -> bool:
        """Whether Rasa answered any call (not a 5xx) within `down_after` seconds."""
        last = self._last_answer
        return last is not None and self._clock() - last < self.down_after

    def _ask(self, body: dict[str, Any], timeout: float) -> tuple[BotTurn, Outcome]:
        try:
            answer = self._session().post(self.base_url + WEBHOOK_PATH, json=body, timeout=timeout)
        except requests.Timeout:
            return BotTurn(ok=False, error="timeout"), OUTAGE
        except requests.RequestException as exc:
            return BotTurn(ok=False, error=f"unreachable: {type(exc).__name__}"), OUTAGE
        if answer.status_code < 500:
            self._last_answer = self._clock()
        if answer.status_code >= 500:
            return BotTurn(ok=False, error=f"http {answer.status_code}"), OUTAGE
        if answer.status_code != 200:
            return BotTurn(ok=False, error=f"http {answer.status_code}"), ANSWERED
        try:
            reply = answer.json()
        except ValueError:
            return BotTurn(ok=False, error="invalid answer"), NEUTRAL
        if not isinstance(reply, dict):
            return BotTurn(ok=False, error="invalid answer"), NEUTRAL
        return read_turn(reply), ANSWERED

    def probe(self) -> None:
        """When the circuit is due a trial, ask Rasa's /status: up closes it, down reopens it."""
        if self.breaker.closed:
            return
        ticket = self.breaker.allow()
        if ticket is None:
            return
        status = self._status()
        self.breaker.record(ticket, ANSWERED if status["state"] == "up" else OUTAGE)

    def _probe_later(self) -> None:
        """While the circuit is open, probe again every reset_after seconds (one timer)."""
        if not self._probe or self.breaker.closed:
            return
        with self._prober_lock:
            if self._prober is not None and self._prober.is_alive():
                return
            self._prober = threading.Timer(self.breaker.reset_after, self._probe_and_again)
            self._prober.daemon = True
            self._prober.start()

    def _probe_and_again(self) -> None:
        with self._prober_lock:
            self._prober = None
        try:
            self.probe()
        except Exception:  # noqa: BLE001 - a probe never crashes its thread
            logger.warning("bot probe failed")
        self._probe_later()

    def close(self) -> None:
        """Stop probing and close the kept connections (the process is ending)."""
        self._probe = False
        with self._prober_lock:
            if self._prober is not None:
                self._prober.cancel()
        if self._connections is not None:
            self._connections.close()

    def status(self) -> dict[str, object]:
        """Return the bot's state for /readyz: up, down (with why) or circuit-open."""
        self.probe()
        circuit = self.breaker.snapshot()
        if circuit.state == "open":
            return {
                "state": "circuit-open",
                "failures": circuit.failures,
                "retry_in_s": round(circuit.retry_in, 1),
            }
        status = self._status()
        return {**status, "circuit": circuit.state} if status["state"] == "up" else status

    def _status(self) -> dict[str, object]:
        try:
            answer = self._session().get(self.base_url + "/status", timeout=STATUS_TIMEOUT)
        except requests.Timeout:
            return {"state": "down", "error": "timeout"}
        except requests.RequestException as exc:
            return {"state": "down", "error": f"unreachable: {type(exc).__name__}"}
        if answer.status_code < 500:
            self._last_answer = self._clock()
        if answer.status_code == 409:
            return {"state": "down", "error": "no model loaded"}
        if answer.status_code != 200:
            return {"state": "down", "error": f"http {answer.status_code}"}
        try:
            model = str(answer.json().get("model_file") or "")
        except (ValueError, AttributeError):
            return {"state": "down", "error": "invalid answer"}
        return {"state": "up", "model": model.rsplit("/", 1)[-1]}


def read_turn(body: dict[str, Any]) -> BotTurn:
    """Return the turn described by the kanal channel's answer; no message is a failure."""
    intent = body.get("intent") if isinstance(body.get("intent"), dict) else {}
    name = intent.get("name") if isinstance(intent.get("name"), str) else None
    try:
        confidence = float(intent.get("confidence") or 0.0)
    except (TypeError, ValueError):
        confidence = 0.0
    raw = body.get("messages")
    messages = [m for m in raw if isinstance(m, dict)] if isinstance(raw, list) else []
    texts = tuple(
        m["text"] for m in messages if isinstance(m.get("text"), str) and m["text"].strip()
    )
    handoff = any(
        isinstance(m.get("custom"), dict) and m["custom"].get("handoff") is True for m in messages
    )
    if not texts and not handoff:
        # Rasa answers [] when an action crashes: a silent bot is a broken bot.
        return BotTurn(ok=False, intent=name, confidence=confidence, error="no answer")
    raw_entities = body.get("entities") if isinstance(body.get("entities"), list) else []
    entities = tuple(
        (str(e["entity"]), str(e["value"]))
        for e in raw_entities
        if isinstance(e, dict) and e.get("entity") and e.get("value") is not None
    )
    return BotTurn(
        ok=True,
        messages=texts,
        intent=name,
        confidence=confidence,
        handoff=handoff,
        entities=entities,
    )
