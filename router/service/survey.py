"""The satisfaction survey: asking the one question after a contact closes, and taking the
answer (the domain's rules are in `router/domain/survey.py`; docs/domain.md §4.5).

- **SMS** (channels with a sender): the scheduler's `ask_closed` finds contacts closed lately
  in which the citizen wrote, and texts the question to the share of them chosen — never to
  a number that opted out (STOP). The question is a message of the closed contact, stored
  pending and sent after the commit like every reply. A bare digit 1 to 5 sent back while
  the question is the number's latest contact is the answer (`take_reply`, called by the
  turn before it opens a contact); anything else is a new message for the bot, as always.
- **Web chat** (no sender): the widget asks `for_chat` when its conversation has ended and
  shows the question with five labelled buttons; `answer_chat` records the click, once.

What kanal writes is in the conversation's language, through the catalogues. A survey's
events are written by the unit of work at the commit, like every aggregate's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from router.domain.channels import SMS, WEBCHAT
from router.domain.model import Contact, ContactState, InboxEntry, Message
from router.domain.survey import SCORES, Survey, SurveyState, sampled, score_of
from router.service import languages
from router.service.channels import Channels
from router.service.delivery import Claim, Delivery
from router.service.errors import Conflict, NotFound, ServiceError
from router.service.journal import pseudonym_of
from router.service.outbox import may_message, say
from router.service.translations import N_, translator
from router.service.turn_result import TurnResult
from router.service.unit_of_work import UnitOfWork

# GOV.UK's question and its 5-point scale (Service Manual, "Measuring user satisfaction").
QUESTION = N_("Overall, how did you feel about the service you received today?")
LABELS = {
    5: N_("Very satisfied"),
    4: N_("Satisfied"),
    3: N_("Neither satisfied or dissatisfied"),
    2: N_("Dissatisfied"),
    1: N_("Very dissatisfied"),
}
# The same question by SMS: GSM-7 only, two segments at most in both languages.
SMS_QUESTION = N_(
    "Overall, how did you feel about the service you received today? Reply with one number: "
    "5 very satisfied, 4 satisfied, 3 neither satisfied or dissatisfied, 2 dissatisfied, "
    "1 very dissatisfied. You don't have to answer."
)
DECLINE = N_("No thanks")
THANKS = N_("Thank you for your answer. It helps us improve our service.")


@dataclass(frozen=True)
class SurveySettings:
    """Who is asked, and how long a question waits for its answer."""

    # The share of closed contacts asked (0 asks nobody, 1 everybody): KANAL_SURVEY_SHARE.
    share: float = 1.0
    # Channels that ask: texted on those with a sender, shown in the widget on web chat.
    channels: tuple[str, ...] = (WEBCHAT, SMS)
    # A reply later than this after the question is a new message, not an answer.
    answer_window: timedelta = timedelta(hours=24)
    # A contact closed longer ago than this is no longer asked (the sweep was down).
    ask_within: timedelta = timedelta(hours=2)


@dataclass(frozen=True)
class SurveyView:
    """The survey of one chat, as the widget shows it (texts in the conversation's language)."""

    state: str  # none | asked | answered | declined
    language: str | None = None
    question: str | None = None
    options: tuple[tuple[int, str], ...] = ()  # (score, label), very satisfied first
    decline: str | None = None
    thanks: str | None = None
    score: int | None = None

    def as_dict(self) -> dict:
        found: dict = {"state": self.state}
        if self.language:
            found["language"] = self.language
        if self.state == SurveyState.ASKED:
            found["question"] = self.question
            found["options"] = [{"score": s, "label": label} for s, label in self.options]
            found["decline"] = self.decline
        if self.state == SurveyState.ANSWERED:
            found["score"] = self.score
        if self.state in (SurveyState.ANSWERED, SurveyState.DECLINED):
            found["thanks"] = self.thanks
        return found


NOT_ASKED = SurveyView("none")


class Surveys:
    """Ask the satisfaction question after a contact closes, and record the answer."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        channels: Channels,
        delivery: Delivery,
        settings: SurveySettings,
        served: tuple[str, ...],
        clock: Callable[[], datetime],
    ) -> None:
        self.uow = uow
        self.channels = channels
        self.delivery = delivery
        self.settings = settings
        self.served = served
        self.clock = clock

    # -- texted (SMS) ---------------------------------------------------------------------

    def texted_channels(self) -> tuple[str, ...]:
        return tuple(
            c.name for c in self.channels.with_senders() if c.name in self.settings.channels
        )

    def ask_closed(self, limit: int = 200) -> int:
        """Text the question about contacts closed lately; return how many were asked.

        Each contact is decided once, in its own transaction (a survey row, even for the
        contacts not in the share, so none is looked at twice).
        """
        texted = self.texted_channels()
        if not texted:
            return 0
        now = self.clock()
        with self.uow() as uow:
            found = [
                c.id
                for c in uow.surveys.closed_unasked(texted, now - self.settings.ask_within, limit)
            ]
        asked = 0
        for contact_id in found:
            with self.uow() as uow:
                claims = self._ask_texted(uow, contact_id, now)
                uow.commit()
            asked += claims is not None
            self.delivery.send(claims or ())
        return asked

    def _ask_texted(
        self, uow: UnitOfWork, contact_id: int, now: datetime
    ) -> tuple[Claim, ...] | None:
        """Ask about one closed contact; None when it is not asked (not in the share, or
        decided before)."""
        contact = uow.contacts.get(contact_id, for_update=True)
        if contact is None or uow.surveys.for_contact(contact_id) is not None:
            return None
        channel = self.channels[contact.channel]
        language = self._language(uow, contact)
        if not sampled(contact.id, self.settings.share):
            uow.surveys.add(Survey.not_sampled(contact.id, channel.name, language, now))
            return None
        # Never text a number that opted out: the survey is noted as not sent.
        sent = may_message(uow, channel, contact.address)
        survey = Survey.ask(contact.id, channel.name, language, now, need=contact.need, sent=sent)
        uow.surveys.add(survey)
        pseudonym = pseudonym_of(uow, contact)
        if not sent:
            return ()
        _ = translator(language)
        message = say(uow, contact, channel, "system", _(SMS_QUESTION), now)
        return self.delivery.claim_new(uow, contact, pseudonym, [message])

    def take_reply(self, uow: UnitOfWork, entry: InboxEntry, now: datetime) -> TurnResult | None:
        """Take an inbound SMS as the answer to a survey, in the turn's transaction.

        It is an answer when it is a bare digit 1 to 5, the number was asked less than the
        answer window ago, and the survey's contact is still the number's latest (a
        conversation started since gets the digit). None: the message goes on as usual.
        """
        score = score_of(entry.text) if entry.kind == "message" else None
        if score is None or entry.contact_id is not None:
            return None
        if entry.channel not in self.settings.channels:
            return None
        survey = uow.surveys.asked_on(
            entry.channel, entry.address, now - self.settings.answer_window
        )
        if survey is None:
            return None
        latest = uow.contacts.latest_on(entry.channel, entry.address)
        if latest is None or latest.id != survey.contact_id:
            return None
        contact = uow.contacts.get(survey.contact_id, for_update=True)
        channel = self.channels[entry.channel]
        message = uow.messages.add(
            Message(
                channel=entry.channel, direction="in", author="citizen", text=entry.text.strip(),
                created_at=entry.received_at, contact_id=contact.id, address=entry.address,
                provider_id=entry.provider_id, processed=True,
            )
        )  # fmt: skip
        entry.message_id = message.id
        survey.answer(score, now)
        _ = translator(survey.language)
        thanks = say(uow, contact, channel, "system", _(THANKS), now)
        # Claimed now; the turn's bus sends it once this transaction has committed.
        claims = self.delivery.claim_new(uow, contact, pseudonym_of(uow, contact), [thanks])
        self.delivery.after_commit(uow, claims)
        return TurnResult(
            contact.id, contact.state, message.id, (thanks,), None, message,
            language=survey.language, need=contact.need,
        )  # fmt: skip

    # -- shown (web chat) -----------------------------------------------------------------

    def for_chat(self, contact_id: int) -> SurveyView:
        """Return the chat's survey, asking it now if the conversation has ended and is in
        the share (asked once: the same question is shown again on a reload)."""
        now = self.clock()
        with self.uow() as uow:
            survey = uow.surveys.for_contact(contact_id)
            if survey is None:
                contact = uow.contacts.get(contact_id, for_update=True)
                if contact is None:
                    raise NotFound("No such contact.")
                if not self._chat_may_ask(uow, contact, now):
                    return NOT_ASKED
                survey = uow.surveys.for_contact(contact_id)  # asked meanwhile, under the lock
                if survey is None:
                    language = self._language(uow, contact)
                    survey = Survey.ask(
                        contact.id, contact.channel, language, now, need=contact.need
                    )
                    uow.surveys.add(survey)
                    uow.commit()
            return self._view(survey)

    def _chat_may_ask(self, uow: UnitOfWork, contact: Contact, now: datetime) -> bool:
        if contact.channel not in self.settings.channels or contact.state != ContactState.CLOSED:
            return False
        if contact.closed_at is None or now - contact.closed_at > self.settings.ask_within:
            return False
        if not sampled(contact.id, self.settings.share):
            return False
        return any(
            m.direction == "in" and m.kind == "message"
            for m in uow.messages.for_contact(contact.id)
        )

    def answer_chat(self, contact_id: int, score: int | None) -> SurveyView:
        """Record the chat's answer (a score, or None: declined); once.

        Raises Conflict when no question is waiting (never asked, or answered before).
        """
        if score is not None and score not in SCORES:
            raise ServiceError("`score` must be a whole number from 1 to 5, or null to decline.")
        now = self.clock()
        with self.uow() as uow:
            survey = uow.surveys.for_contact(contact_id, for_update=True)
            if survey is None or survey.state == SurveyState.NOT_SAMPLED:
                raise Conflict("No survey was asked in this conversation.")
            if survey.state != SurveyState.ASKED:
                raise Conflict("This survey has been answered already.")
            if not survey.open_at(now, self.settings.answer_window):
                raise Conflict("This survey has closed.")
            if score is None:
                survey.decline(now)
            else:
                survey.answer(score, now)
            uow.commit()
            return self._view(survey)

    # -- the phone's keypad rating -----------------------------------------------------------

    def rate_call(self, contact_id: int, score: int) -> bool:
        """Record a caller's keypad rating at the end of a call (asked and answered at once);
        False when the call was rated already (once per contact)."""
        now = self.clock()
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id, for_update=True)
            if contact is None:
                raise NotFound("No such contact.")
            if uow.surveys.for_contact(contact_id) is not None:
                return False
            survey = Survey.ask(
                contact.id, contact.channel, self._language(uow, contact), now, need=contact.need
            )
            uow.surveys.add(survey)
            survey.answer(score, now)
            uow.commit()
            return True

    # -- shared -----------------------------------------------------------------------------

    def _language(self, uow: UnitOfWork, contact: Contact) -> str:
        citizen = uow.citizens.get(contact.citizen_id) if contact.citizen_id else None
        return languages.resolve(self.served, citizen, contact, None, None).language

    @staticmethod
    def _view(survey: Survey) -> SurveyView:
        if survey.state not in (SurveyState.ASKED, SurveyState.ANSWERED, SurveyState.DECLINED):
            return NOT_ASKED
        _ = translator(survey.language)
        return SurveyView(
            state=str(survey.state),
            language=survey.language,
            question=_(QUESTION),
            options=tuple((score, _(LABELS[score])) for score in SCORES),
            decline=_(DECLINE),
            thanks=_(THANKS),
            score=survey.score,
        )
