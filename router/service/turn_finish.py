"""The turn after its first transaction: the bot (no transaction open), the finishing
transaction (transaction 2: the policy decides again and the decision is carried out), and
what follows the commit: the replies sent, the callbacks' jobs written (`Turns` is made of
this part; router/service/turn.py has the turn from the top)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from router.domain.channels import WRITTEN
from router.domain.model import Citizen, Contact, ContactState, Message
from router.domain.needs import not_understood
from router.policy import Profile, decide
from router.service import outcome, policy_contexts
from router.service.channels import Channels
from router.service.counters import ProcessCounters
from router.service.delivery import ClaimedReplies, Delivery
from router.service.ports import BotPort, BotTurn
from router.service.settings import RouterSettings
from router.service.turn_result import AtBot, CallbackJobs, Finisher, TurnDecision, TurnResult
from router.service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class FinishingTurns:
    """The bot, the finishing transaction and the send."""

    uow: Callable[[], UnitOfWork]
    bot: BotPort
    profile: Profile
    channels: Channels
    delivery: Delivery
    settings: RouterSettings
    clock: Callable[[], datetime]
    callbacks: CallbackJobs | None
    counters: ProcessCounters
    finishers: dict[str, Finisher]

    # -- bot: no transaction --------------------------------------------------------------

    def _at_bot(self, at_bot: AtBot) -> TurnResult:
        channel = at_bot.first.context.channel
        wait = self.settings.bot_wait_seconds if channel in WRITTEN else None
        turn = self.bot.turn(at_bot.bot_sender, at_bot.text, language=at_bot.language, wait=wait)
        self._count(channel, turn)
        return self._finish_after(at_bot, turn)

    def _count(self, channel: str, turn: BotTurn) -> None:
        self.counters.add("turns", channel)
        if not turn.ok:
            self.counters.add("bot_failures", channel, "unavailable")
        elif not_understood(turn.intent):
            self.counters.add("bot_failures", channel, "not_understood")

    # -- finish: transaction 2 ------------------------------------------------------------

    def _finish_after(self, at_bot: AtBot, turn: BotTurn | None) -> TurnResult:
        now = self.clock()
        with self.uow() as uow:
            message, contact = uow.messages.with_contact(at_bot.message_id)
            if message.processed:  # another worker finished it meanwhile
                return TurnResult(contact.id, contact.state, message.id)
            citizen = uow.citizens.get(at_bot.citizen_id) if at_bot.citizen_id else None
            steps = [at_bot.first]
            if turn is not None and contact.state == ContactState.BOT:
                context = policy_contexts.after_bot(uow, contact, at_bot, turn, now, self.settings)
                steps.append(TurnDecision("after_bot", decide(context, self.profile), context))
            elif contact.state != ContactState.BOT:
                steps = []
            result = self._finish(uow, contact, message, citizen, steps, turn, now, at_bot.cut)
            uow.commit()
        return self._send(result)

    def _finish(
        self,
        uow: UnitOfWork,
        contact: Contact,
        message: Message,
        citizen: Citizen | None,
        steps: list[TurnDecision],
        turn: BotTurn | None,
        now: datetime,
        cut: bool = False,
    ) -> TurnResult:
        return outcome.finish(
            uow, contact, message, citizen, steps, turn, now, cut,
            channel=self.channels[contact.channel], delivery=self.delivery,
            settings=self.settings, books=self.callbacks is not None,
            finisher=self.finishers.get(contact.channel),
        )  # fmt: skip

    # -- send -----------------------------------------------------------------------------

    def _send_replies(self, claimed: list[ClaimedReplies]) -> None:
        """Hand the replies a turn claimed to their senders, in order."""
        self.delivery.send([claim for event in claimed for claim in event.claims])

    def _send(self, result: TurnResult) -> TurnResult:
        """Write the jobs of the callbacks the turn booked, after its commit (its replies
        are sent by `_send_replies` once the handler returns)."""
        for booking in result.booked:
            try:
                self.callbacks.schedule(booking.callback_id, booking.at)
            except Exception:  # the contact waits in the queue: a person still answers it
                log.exception("could not write the job of callback %s", booking.callback_id)
        return result
