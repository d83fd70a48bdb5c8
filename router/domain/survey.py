"""The satisfaction survey: one question after a contact closes (docs/domain.md §4.5).

GOV.UK's user satisfaction is the share of "very satisfied" and "satisfied" answers on a
5-point scale. kanal asks it once per contact, of a configurable share of contacts, on the
channel the citizen used; a `Survey` is that one question and its answer:

    asked ──answer(score)──▶ answered
      └─────decline()─────▶ declined
    not_sent     an opted-out number: nothing was sent, nothing can be answered
    not_sampled  not among the share asked: decided once, never asked

Every move is checked (`IllegalTransition` otherwise) and records what happened; the unit of
work collects it for the contact's log (`Aggregate`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from router.domain import events as ev
from router.domain.model import Aggregate, IllegalTransition

# GOV.UK's 5-point scale, best first: the score each answer is recorded as.
VERY_SATISFIED = 5
SATISFIED = 4
NEITHER = 3
DISSATISFIED = 2
VERY_DISSATISFIED = 1
SCORES = (VERY_SATISFIED, SATISFIED, NEITHER, DISSATISFIED, VERY_DISSATISFIED)
# Scores that count as satisfied in the metric ("very satisfied" + "satisfied").
SATISFIED_SCORES = frozenset({VERY_SATISFIED, SATISFIED})


class SurveyState(StrEnum):
    """Where a contact's survey is."""

    ASKED = "asked"
    ANSWERED = "answered"
    DECLINED = "declined"
    NOT_SENT = "not_sent"  # the number opted out of SMS: the question was never sent
    NOT_SAMPLED = "not_sampled"  # not among the share asked (kept so it is decided once)


def sampled(contact_id: int, share: float) -> bool:
    """Return True when a contact is among the `share` (0..1) of contacts asked.

    The choice is a hash of the contact's id, so it is the same every time it is asked
    (a retried job, two web requests) and a test can pin it with a share of 0 or 1.
    """
    if share <= 0:
        return False
    if share >= 1:
        return True
    digest = hashlib.sha256(f"survey:{contact_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def score_of(text: str) -> int | None:
    """Return the score an SMS reply gives: a bare digit 1 to 5 (spaces, a full stop
    around it allowed); None for anything else, which is a message for the bot."""
    word = text.strip().strip(".!").strip()
    if len(word) == 1 and word in "12345":
        return int(word)
    return None


@dataclass
class Survey(Aggregate):
    """The satisfaction question asked about one contact, and its answer."""

    contact_id: int
    channel: str
    language: str
    asked_at: datetime
    state: str = SurveyState.ASKED
    need: str | None = None
    score: int | None = None
    answered_at: datetime | None = None
    id: int | None = None

    @classmethod
    def ask(
        cls,
        contact_id: int,
        channel: str,
        language: str,
        now: datetime,
        *,
        need: str | None = None,
        sent: bool = True,
    ) -> Survey:
        """Ask the question (or note that it could not be sent to an opted-out number)."""
        survey = cls(
            contact_id=contact_id,
            channel=channel,
            language=language,
            asked_at=now,
            need=need,
            state=SurveyState.ASKED if sent else SurveyState.NOT_SENT,
        )
        if sent:
            survey._happened(ev.SURVEY_ASKED, now, **survey._payload())
        else:
            survey._happened(ev.SURVEY_NOT_SENT, now, **survey._payload(), why="opted_out")
        return survey

    @classmethod
    def not_sampled(cls, contact_id: int, channel: str, language: str, now: datetime) -> Survey:
        """Note that the contact is not among the share asked; nothing happened to record."""
        return cls(contact_id, channel, language, now, state=SurveyState.NOT_SAMPLED)

    def _payload(self) -> dict:
        return {"channel": self.channel, "need": self.need, "language": self.language}

    def open_at(self, now: datetime, window: timedelta) -> bool:
        """Return True when an answer is still taken: asked, less than `window` ago."""
        return self.state == SurveyState.ASKED and now - self.asked_at <= window

    def answer(self, score: int, now: datetime) -> None:
        """Record the citizen's answer (1 very dissatisfied … 5 very satisfied), once."""
        if score not in SCORES:
            raise ValueError(f"a score is 1 to 5, not {score!r}")
        self._require_asked()
        self.state = SurveyState.ANSWERED
        self.score = score
        self.answered_at = now
        self._happened(ev.SATISFACTION, now, score=score, **self._payload())

    def decline(self, now: datetime) -> None:
        """The citizen chose not to answer."""
        self._require_asked()
        self.state = SurveyState.DECLINED
        self.answered_at = now
        self._happened(ev.SURVEY_DECLINED, now, **self._payload())

    def _require_asked(self) -> None:
        if self.state != SurveyState.ASKED:
            raise IllegalTransition(f"a survey that is {self.state} takes no answer")
