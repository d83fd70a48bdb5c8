"""The router's bot port, implemented over kanal's Rasa input channel."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from router.service.ports import BotTurn

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/kanal/webhook"
STATUS_TIMEOUT = 1.0  # /readyz must answer quickly even when Rasa hangs


@dataclass(frozen=True)
class CircuitState:
    """What the breaker knows: its state, the failures in a row, seconds until a retry."""

    state: str  # "closed", "open" or "half-open"
    failures: int
    retry_in: float


class CircuitBreaker:
    """Fail fast after repeated failures, so a dead bot does not make every citizen wait.

    After `threshold` failures in a row the circuit opens: calls are refused for
    `reset_after` seconds. Then one trial call is let through (half-open): its success
    closes the circuit, its failure opens it again.
    """

    def __init__(
        self, threshold: int, reset_after: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if threshold < 1 or reset_after < 0:
            raise ValueError("threshold must be >= 1 and reset_after >= 0")
        self.threshold = threshold
        self.reset_after = reset_after
        self._clock = clock
        self._lock = threading.Lock()
        self._state = "closed"
        self._failures = 0
        self._opened_at = 0.0

    def allow(self) -> bool:
        """Return True if a call may go through now (and claim the trial when half-open)."""
        with self._lock:
            if self._state == "closed":
                return True
            if self._state == "open" and self._clock() - self._opened_at >= self.reset_after:
                self._state = "half-open"  # this caller is the one trial
                return True
            return False

    def succeeded(self) -> None:
        """Close the circuit after a call that worked."""
        with self._lock:
            self._state, self._failures = "closed", 0

    def failed(self) -> None:
        """Count a failed call; open the circuit at the threshold or after a failed trial."""
        with self._lock:
            self._failures += 1
            if self._state == "half-open" or self._failures >= self.threshold:
                self._state, self._opened_at = "open", self._clock()

    def snapshot(self) -> CircuitState:
        """Return the state as seen now."""
        with self._lock:
            retry_in = 0.0
            if self._state == "open":
                retry_in = max(0.0, self.reset_after - (self._clock() - self._opened_at))
            return CircuitState(self._state, self._failures, retry_in)


class RasaBot:
    """Ask the Rasa bot, through kanal's channel, what it makes of a citizen's message.

    One HTTP round trip per turn returns the bot's messages and the intent it acted on.
    Rasa down, slow, answering an error or nothing at all is a failed turn (`ok=False`),
    which the policy counts as a bot failure and escalates on.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 2.5,
        failure_threshold: int = 3,
        reset_after: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        session_factory: Callable[[], Any] = requests.Session,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.breaker = CircuitBreaker(failure_threshold, reset_after, clock)
        self._session_factory = session_factory
        self._local = threading.local()  # requests.Session is not safe to share across threads

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._session_factory()
        return session

    def turn(self, conversation_id: str, text: str, *, language: str | None = None) -> BotTurn:
        """Send one citizen message under its opaque conversation id; return the bot's turn."""
        if not self.breaker.allow():
            return BotTurn(ok=False, error="circuit-open")
        try:
            turn = self._ask(conversation_id, text, language)
        except Exception as exc:  # noqa: BLE001 - any surprise is a failed turn, never a crash
            turn = BotTurn(ok=False, error=f"unexpected: {type(exc).__name__}")
        if turn.ok:
            self.breaker.succeeded()
        else:
            self.breaker.failed()
            # The error names the failure only: citizen text and ids stay out of the logs.
            logger.warning("bot turn failed: %s", turn.error)
        return turn

    def _ask(self, conversation_id: str, text: str, language: str | None) -> BotTurn:
        payload: dict[str, Any] = {"sender": conversation_id, "message": text}
        if language:
            payload["metadata"] = {"language": language}
        try:
            answer = self._session().post(
                self.base_url + WEBHOOK_PATH, json=payload, timeout=self.timeout
            )
        except requests.Timeout:
            return BotTurn(ok=False, error="timeout")
        except requests.RequestException as exc:
            return BotTurn(ok=False, error=f"unreachable: {type(exc).__name__}")
        if answer.status_code != 200:
            return BotTurn(ok=False, error=f"http {answer.status_code}")
        try:
            body = answer.json()
        except ValueError:
            return BotTurn(ok=False, error="invalid answer")
        if not isinstance(body, dict):
            return BotTurn(ok=False, error="invalid answer")
        return read_turn(body)

    def status(self) -> dict[str, object]:
        """Return the bot's state for /readyz: up, down (with why) or circuit-open."""
        circuit = self.breaker.snapshot()
        if circuit.state == "open":
            return {
                "state": "circuit-open",
                "failures": circuit.failures,
                "retry_in_s": round(circuit.retry_in, 1),
            }
        try:
            answer = self._session().get(self.base_url + "/status", timeout=STATUS_TIMEOUT)
        except requests.Timeout:
            return {"state": "down", "error": "timeout"}
        except requests.RequestException as exc:
            return {"state": "down", "error": f"unreachable: {type(exc).__name__}"}
        if answer.status_code == 409:
            return {"state": "down", "error": "no model loaded"}
        if answer.status_code != 200:
            return {"state": "down", "error": f"http {answer.status_code}"}
        try:
            model = str(answer.json().get("model_file") or "")
        except (ValueError, AttributeError):
            return {"state": "down", "error": "invalid answer"}
        return {"state": "up", "model": model.rsplit("/", 1)[-1], "circuit": circuit.state}


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
