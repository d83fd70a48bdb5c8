"""One citizen message, start to finish: the turn.

    accept   the channel commits the message to the inbox (one INSERT) and answers at once
    take     transaction 1: the inbox entry becomes a message of the citizen's contact, and
             the policy decides with what the register and the contact say
    bot      only when the policy says self-service, outside any transaction
    finish   transaction 2: the policy decides again with what the bot understood, and the
             decision is carried out (answer, offer the digital route, queue, close)
    send     after the commit, the replies leave through the channel's sender (`Delivery`),
             and each answer is recorded in a transaction of its own
(bot, finish and send: `turn_finish.py`; what the stages hand on: `turn_result.py`)

A turn that does not need the bot (a keyword, a contact already with people, an exempt
citizen) is taken and finished in one transaction.

Each public method is a command on the turn's message bus (`router/service/messagebus.py`):
a reply is stored in the transaction that decides it (the outbox row), already claimed for
this process with a lease (`Delivery.claim_new`), and the bus hands it to its sender once
that transaction has committed (`ClaimedReplies`). A process that stops in between leaves
the claim; after its lease `dispatch_outbound` sends it if the provider never got it (once).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from router.domain.commands import Escalate, ReceiveMessage, ResumeTurn, StartChat, TakeTurn
from router.domain.model import Citizen, Contact, ContactState, InboxEntry, Message
from router.policy import Action, Profile, decide
from router.service import filing, languages, opt_outs, policy_contexts, surges
from router.service.channels import Channels
from router.service.counters import ProcessCounters
from router.service.delivery import ClaimedReplies, Delivery
from router.service.errors import DuplicateDelivery, NotFound, ServiceError
from router.service.messagebus import MessageBus
from router.service.ports import BotPort, Inbox, LanguageIdentifier
from router.service.settings import RouterSettings
from router.service.turn_finish import FinishingTurns
from router.service.turn_result import (
    Answerer,
    AtBot,
    CallbackJobs,
    Finisher,
    LeftBehind,
    SurveyReplies,
    TurnDecision,
    TurnResult,
)
from router.service.unit_of_work import UnitOfWork

# An inbox entry that never becomes a message (its conversation has ended, or it was an
# opt-out recorded without a contact: router/service/opt_outs.py).
REFUSED = 0


class Turns(FinishingTurns):
    """Takes citizens' messages through the turn; the channels' front door."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        inbox: Inbox,
        bot: BotPort,
        profile: Profile,
        channels: Channels,
        delivery: Delivery,
        settings: RouterSettings,
        clock: Callable[[], datetime],
        identify: LanguageIdentifier | None = None,
        callbacks: CallbackJobs | None = None,
        surveys: SurveyReplies | None = None,
        counters: ProcessCounters | None = None,
    ) -> None:
        self.bus = MessageBus(uow)
        self.uow = self.bus.uow  # the bus dispatches what these units of work raise
        self.bus.on_command(TakeTurn, lambda cmd: self._take(cmd.entry_id))
        self.bus.on_command(ReceiveMessage, self._receive)
        self.bus.on_command(ResumeTurn, lambda cmd: self._resume(cmd.message_id))
        self.bus.on_command(Escalate, self._escalate)
        self.bus.on_event(ClaimedReplies, self._send_replies)
        # Takes an SMS digit answering the satisfaction question (never the bot's).
        self.surveys = surveys
        # Books the policy's callbacks on written channels; None: they are only recorded.
        self.callbacks = callbacks
        self.inbox = inbox
        self.bot = bot
        self.profile = profile
        self.channels = channels
        self.delivery = delivery
        self.settings = settings
        self.clock = clock
        self.identify = identify
        # Turns and bot failures for /metrics (this process' own counts).
        self.counters = counters or ProcessCounters()
        # What a channel adds to a turn's finishing transaction (`finish_with`).
        self.finishers: dict[str, Finisher] = {}
        # What answers a message before it takes a turn of its own (`answer_with`).
        self.answerers: dict[str, Answerer] = {}

    def finish_with(self, channel: str, finisher: Finisher) -> None:
        """Let a channel write what it keeps of a turn in the turn's own last transaction
        (the phone: the link offered on the call, the call waiting in its queue)."""
        self.finishers[channel] = finisher

    def answer_with(self, channel: str, answerer: Answerer) -> None:
        """Let `answerer` answer a message on `channel` before it takes a turn (the SMS
        reply accepting a follow-up's callback offer)."""
        self.answerers[channel] = answerer

    # -- accept ---------------------------------------------------------------------------

    def accept(self, cmd: ReceiveMessage) -> int | None:
        """Commit a message to the inbox; None when the provider delivered it before."""
        return self.inbox.add(self._fit(cmd))

    def accept_later(
        self, cmd: ReceiveMessage, done: Callable[[int | None, BaseException | None], None]
    ) -> None:
        """`accept` without waiting: `done(entry id or None, error or None)` once committed
        (or not), maybe in another thread (the web worker answers Twilio from there)."""
        self.inbox.add_later(self._fit(cmd), done)

    def receive(self, cmd: ReceiveMessage) -> TurnResult | None:
        """Take a message's turn now, in the request (web chat answers with the replies).

        The citizen waits for the answer, so no inbox is needed: transaction 1 commits the
        message before the bot is asked. None when the same message was received before.
        A chat message's session token is checked in transaction 1 (NotFound, Unauthorized;
        Ended when its conversation has ended).
        """
        return self.bus.handle(cmd)

    def _receive(self, cmd: ReceiveMessage) -> TurnResult | None:
        cmd = self._fit(cmd)
        entry = filing.entry_of(cmd)
        try:
            with self.uow() as uow:
                if cmd.secret_hash is not None:  # web chat: its session's token, checked here
                    contact = filing.session_contact(uow, cmd.channel, cmd.address, cmd.secret_hash)
                    entry.contact_id = contact.id
                first = self._first(uow, entry, self.clock(), cmd.metadata)
        except DuplicateDelivery:
            return None
        return self._next(first)

    def escalate(
        self, contact_id: int, text: str, provider_id: str, **heard: object
    ) -> TurnResult | None:
        """The channel could not understand the citizen twice (a silent or garbled phone
        line): file what happened as the citizen's turn and let the policy decide as after
        two failures of the digital assistant (a person, or a callback when closed).

        `heard` (e.g. input, confidence) is recorded with the message."""
        return self.bus.handle(Escalate(contact_id, text, provider_id, dict(heard)))

    def _escalate(self, cmd: Escalate) -> TurnResult | None:
        contact_id, text, provider_id, heard = (
            cmd.contact_id, cmd.text, cmd.provider_id, cmd.heard,
        )  # fmt: skip
        now = self.clock()
        entry = InboxEntry(
            channel="", address="", text=text, received_at=now, provider_id=provider_id,
            contact_id=contact_id, kind="unheard",
        )  # fmt: skip
        try:
            with self.uow() as uow:
                contact = uow.contacts.get(contact_id, for_update=True)
                if contact is None:
                    raise NotFound("No such contact.")
                entry = replace(entry, channel=contact.channel, address=contact.address)
                citizen = uow.citizens.get(contact.citizen_id) if contact.citizen_id else None
                message = filing.file_message(
                    uow, entry, contact, self.channels[entry.channel], now, **heard
                )
                steps: list[TurnDecision] = []
                if contact.state == ContactState.BOT:
                    base = policy_contexts.before_bot(
                        uow, contact, citizen, message, now, self.settings,
                        surge=surges.under_way(uow, self.profile),
                    )  # fmt: skip
                    context = replace(base, bot_failures=max(2, contact.bot_failures + 1))
                    contact.bot_failures = context.bot_failures
                    steps = [TurnDecision("unheard", decide(context, self.profile), context)]
                result = self._finish(uow, contact, message, citizen, steps, None, now)
                uow.commit()
        except DuplicateDelivery:
            return None
        return self._send(result)

    def _fit(self, cmd: ReceiveMessage) -> ReceiveMessage:
        """Cut a message to what its channel takes (and say so), and stamp its arrival."""
        limit = self.channels[cmd.channel].max_text
        if len(cmd.text) > limit:
            cmd = replace(cmd, text=cmd.text[:limit], kind="too_long")
        return replace(cmd, received_at=cmd.received_at or self.clock())

    def start_chat(self, cmd: StartChat, address: str) -> int:
        """Open a web-chat contact, identified when the session carries a citizen."""
        with self.uow() as uow:
            contact = filing.open_chat(
                uow, cmd, address, self.clock(), self.settings.languages,
                self.settings.business_hours.timezone,
            )  # fmt: skip
            uow.commit()
            return contact.id

    # -- take: transaction 1 --------------------------------------------------------------

    def take(self, entry_id: int) -> TurnResult | None:
        """Run the turn of one inbox entry; None when another worker has taken it."""
        return self.bus.handle(TakeTurn(entry_id))

    def _take(self, entry_id: int, left_checked: bool = False) -> TurnResult | None:
        entry = self.inbox.get(entry_id)
        if entry is None:
            return None
        if entry.provider_id is None:  # every filed message is found again by its id
            entry.provider_id = f"inbox:{entry.id}"
        try:
            with self.uow() as uow:
                first = self._first(uow, entry, self.clock(), left_checked=left_checked)
        except LeftBehind as left:  # the citizen's earlier turns first, then this one again
            for message_id in left.message_ids:
                self._resume(message_id)
            return self._take(entry_id, left_checked=True)
        except DuplicateDelivery:  # filed before, by a turn that stopped: nothing more to do
            with self.uow() as uow:
                filed = uow.messages.by_provider_id(entry.channel, entry.provider_id)
            self.inbox.taken(entry_id, filed.id if filed else REFUSED)
            return None
        except ServiceError:
            self.inbox.taken(entry_id, REFUSED)  # never a turn: the conversation is gone
            raise
        self.inbox.taken(entry_id, REFUSED if entry.message_id is None else entry.message_id)
        return self._next(first)

    def _next(self, first: TurnResult | AtBot | None) -> TurnResult | None:
        """Go on from transaction 1: send what it decided, or ask the bot."""
        if first is None:  # an opt-out recorded without a contact: nothing to say
            return None
        return self._send(first) if isinstance(first, TurnResult) else self._at_bot(first)

    def _first(
        self,
        uow: UnitOfWork,
        entry: InboxEntry,
        now: datetime,
        metadata: dict | None = None,
        *,
        left_checked: bool = True,
    ) -> TurnResult | AtBot | None:
        """File the message and decide; finish here unless the bot is to be asked.

        `metadata` may carry how the message was heard ("input", "confidence": recorded with
        it) and the language the citizen chose ("language": the bot's, when the register
        does not know the citizen). Unless `left_checked`, a message of the same contact
        whose turn stopped halfway (its process died) raises LeftBehind, to be finished first.
        """
        metadata = metadata or {}
        if self.surveys is not None:
            answered = self.surveys.take_reply(uow, entry, now)
            if answered is not None:  # "4" to the satisfaction question: no new contact
                uow.commit()
                return answered
        answerer = self.answerers.get(entry.channel)
        answered = answerer(uow, entry, now) if answerer is not None else None
        if answered is not None:
            uow.commit()
            return answered
        channel = self.channels[entry.channel]
        if opt_outs.opted_out_alone(uow, entry, channel, now):  # STOP, no conversation open
            uow.commit()
            return None
        zone = self.settings.business_hours.timezone
        contact, citizen = filing.contact_for(uow, entry, channel, now, zone)
        if not left_checked and (left := uow.messages.unfinished_of(contact.id)):
            raise LeftBehind(left)  # nothing written yet: the block rolls back
        heard = {k: metadata[k] for k in ("input", "confidence") if k in metadata}
        message = filing.file_message(
            uow, entry, contact, self.channels[entry.channel], now, **heard
        )
        chosen = metadata.get("language")
        if chosen in self.settings.languages:
            contact.language = chosen  # chosen by the caller; the register still comes first
        # A keyword (STOP, HELP) is a Twilio word, not the citizen's language.
        words = entry.text if entry.kind in ("message", "too_long") else None
        languages.settle(self.settings.languages, citizen, contact, words, self.identify)
        cut = entry.kind == "too_long"
        return self._decide(uow, contact, citizen, message, now, cut, chosen)

    def resume(self, message_id: int) -> TurnResult | None:
        """Finish the turn of a message whose worker stopped after transaction 1."""
        return self.bus.handle(ResumeTurn(message_id))

    def _resume(self, message_id: int) -> TurnResult | None:
        with self.uow() as uow:
            message = uow.messages.get(message_id)
            if message is None or message.processed:
                return None
            contact = uow.contacts.get(message.contact_id, for_update=True)
            citizen = uow.citizens.get(contact.citizen_id) if contact.citizen_id else None
            first = self._decide(uow, contact, citizen, message, self.clock())
        return self._next(first)

    def _decide(
        self,
        uow: UnitOfWork,
        contact: Contact,
        citizen: Citizen | None,
        message: Message,
        now: datetime,
        cut: bool = False,
        language: str | None = None,
    ) -> TurnResult | AtBot:
        """Decide before the bot; commit, finishing here unless the bot is to be asked."""
        steps: list[TurnDecision] = []
        if message.kind == "message" and contact.state == ContactState.BOT:
            context = policy_contexts.before_bot(
                uow, contact, citizen, message, now, self.settings,
                surge=surges.under_way(uow, self.profile),
            )  # fmt: skip
            steps = [TurnDecision("before_bot", decide(context, self.profile), context)]
            if steps[0].decision.action == Action.SELF_SERVICE:
                at_bot = AtBot(
                    message.id,
                    contact.id,
                    message.text,
                    contact.bot_sender,
                    filing.conversation_language(
                        self.settings.languages, contact, citizen, language
                    ),
                    citizen.id if citizen else None,
                    steps[0],
                    cut,
                )
                uow.commit()
                return at_bot
        result = self._finish(uow, contact, message, citizen, steps, None, now, cut)
        uow.commit()
        return result
