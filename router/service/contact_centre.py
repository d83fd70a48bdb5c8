"""The router's front door: every channel and the desk send their commands here."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from router.domain.commands import AgentReply, ClaimNext, ReceiveMessage, Resolve, StartChat
from router.service import desk, escalation, inbound, routing
from router.service.errors import NotFound
from router.service.ports import BotPort
from router.service.settings import RouterSettings
from router.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class ContactCentre:
    """Receives citizens' messages, routes them by policy, and serves the desk."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        bot: BotPort,
        profile,
        settings: RouterSettings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.uow = uow_factory
        self.bot = bot
        self.profile = profile
        self.settings = settings
        self.clock = clock
        self.after_turn: list[Callable[[routing.TurnResult], None]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    # -- citizens -------------------------------------------------------------------------

    def start_chat(self, cmd: StartChat, address: str) -> int:
        """Open a web-chat contact, identified when the session carries a citizen."""
        now = self.clock()
        with self.uow() as uow:
            citizen_id = None
            if cmd.citizen_pseudonym:
                citizen = uow.citizens.by_pseudonym(cmd.citizen_pseudonym)
                if citizen is None:
                    raise NotFound("Unknown citizen.")
                citizen_id = citizen.id
            contact = inbound.open_contact(
                uow, "webchat", address, now, citizen_id=citizen_id, secret_hash=cmd.secret_hash
            )
            uow.commit()
            return contact.id

    def accept(self, cmd: ReceiveMessage) -> inbound.Accepted:
        """Commit an inbound message (idempotent on the provider's id)."""
        minutes = (
            self.settings.sms_inactivity_minutes
            if cmd.channel == "sms"
            else self.settings.chat_inactivity_minutes
        )
        now = cmd.received_at or self.clock()
        return inbound.accept(self.uow(), cmd, now, timedelta(minutes=minutes))

    def process(self, message_id: int) -> routing.TurnResult:
        """Route one committed message: policy, bot if the policy says so, then the outcome."""
        now = self.clock()
        snap = inbound.snapshot(self.uow(), message_id, now, self.settings, self._wait_estimate)
        if snap is None:
            return self._current(message_id)
        trail: inbound.Trail = []
        turn = None
        if snap.kind == "message" and snap.state == "bot":
            trail, turn = inbound.route(snap, self.profile, self.bot, self._is_repeat(snap))
        result = routing.apply(self.uow(), snap, trail, turn, self.clock(), self.settings)
        for hook in self.after_turn:
            try:
                hook(result)
            except Exception:  # a hook (e.g. the SMS dispatcher) must never undo a turn
                log.exception("after-turn hook failed")
        return result

    def receive(self, cmd: ReceiveMessage) -> tuple[inbound.Accepted, routing.TurnResult]:
        """Commit and route a message in one call (web chat)."""
        accepted = self.accept(cmd)
        return accepted, self.process(accepted.message_id)

    def process_later(self, message_id: int) -> None:
        """Route a committed message on a worker thread; the scheduler sweeps what is left."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kanal-turn")
        self._pool.submit(self._safe_process, message_id)

    def _safe_process(self, message_id: int) -> None:
        try:
            self.process(message_id)
        except Exception:
            log.exception("routing message %s failed; the sweep will retry", message_id)

    def _current(self, message_id: int) -> routing.TurnResult:
        with self.uow() as uow:
            message = uow.messages.get(message_id)
            if message is None:
                raise NotFound("No such message.")
            contact = uow.contacts.get(message.contact_id)
            return routing.TurnResult(contact.id, contact.state)

    def _wait_estimate(self, uow) -> int:
        return escalation.estimated_wait_seconds(uow, self.settings.average_handle_seconds)

    def _is_repeat(self, snap: inbound.Snapshot) -> Callable[[str], bool]:
        def is_repeat(need: str) -> bool:
            if snap.citizen_id is None:
                return False
            since = self.clock() - timedelta(days=self.settings.repeat_window_days)
            with self.uow() as uow:
                return (
                    uow.contacts.resolved_on_need_since(
                        snap.citizen_id, need, since, snap.contact_id
                    )
                    > 0
                )

        return is_repeat

    # -- agents ---------------------------------------------------------------------------

    def claim_next(self, cmd: ClaimNext) -> desk.Claimed | None:
        return desk.claim_next(self.uow(), cmd, self.clock())

    def reply(self, cmd: AgentReply) -> desk.Replied:
        replied = desk.reply(self.uow(), cmd, self.clock())
        result = routing.TurnResult(cmd.contact_id, "assigned", (replied.message,))
        for hook in self.after_turn:
            try:
                hook(result)
            except Exception:
                log.exception("after-reply hook failed")
        return replied

    def resolve(self, cmd: Resolve) -> None:
        desk.resolve(self.uow(), cmd, self.clock())

    # -- housekeeping (scheduler) ---------------------------------------------------------

    def sweep(self, older_than: timedelta = timedelta(seconds=15)) -> int:
        """Route inbound messages a crashed worker left behind; return how many."""
        now = self.clock()
        with self.uow() as uow:
            ids = [m.id for m in uow.messages.unprocessed_inbound(now - older_than)]
        for message_id in ids:
            self._safe_process(message_id)
        return len(ids)

    def close_inactive(self) -> int:
        """Close bot conversations the citizen left; return how many."""
        now = self.clock()
        closed = 0
        with self.uow() as uow:
            for contact in uow.contacts.list_by_state(("bot",), limit=500):
                minutes = (
                    self.settings.sms_inactivity_minutes
                    if contact.channel == "sms"
                    else self.settings.chat_inactivity_minutes
                )
                if contact.last_activity_at and contact.last_activity_at < now - timedelta(
                    minutes=minutes
                ):
                    escalation.close_inactive(uow, contact, now)
                    closed += 1
            uow.commit()
        return closed
