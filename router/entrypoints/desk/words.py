"""The desk's words: needs, decisions, rules, states and times as an agent reads them.

Every label is an English message id marked with `N_()` and said in the desk's language
through kanal's catalogues (docs/translations.md); nothing here knows Flask. Stored values
(`payment_date:pension`, a confidence of 0.9949762522053909, `person-requested`) are shown
in words ("Payment date — pension", "99 %", "Person requested").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_percent

from router.domain.channels import SMS, VOICE, WEBCHAT
from router.policy.context import GROUND_WORDS, reason_text
from router.service.translations import N_, Translator

NEED_WORDS = {
    "payment_date": N_("Payment date"),
    "missing_payment": N_("Missing payment"),
    "apply_benefit": N_("Apply for a benefit"),
    "application_status": N_("Application status"),
    "change_address": N_("Change of address"),
    "report_change": N_("Change in circumstances"),
    "login_help": N_("Help signing in"),
    "document_upload": N_("Sending documents"),
    "complaint": N_("Complaint"),
}
BENEFIT_WORDS = {
    "pension": N_("pension"),
    "unemployment": N_("unemployment benefit"),
    "child": N_("child benefit"),
    "housing": N_("housing benefit"),
    "disability": N_("disability benefit"),
    "sickness": N_("sickness benefit"),
    "maternity": N_("maternity benefit"),
}
ACTION_WORDS = {
    "self_service": N_("Answered by the assistant"),
    "offer_digital": N_("Digital route offered"),
    "assisted": N_("To a person"),
    "callback": N_("Callback"),
    "close": N_("Closed"),
}
STAGE_WORDS = {
    "before_bot": N_("before the assistant"),
    "after_bot": N_("after the assistant"),
}
INPUT_WORDS = {
    "need": N_("Need"),
    "confidence": N_("Assistant's confidence"),
    "bot_failures": N_("Times the assistant failed"),
    "asked_for_person": N_("Asked for a person"),
    "exemptions": N_("Exemption grounds"),
    "age_band": N_("Age band"),
    "identified": N_("Identified"),
    "repeat_contact": N_("Contacted us again about this"),
    "business_hours": N_("Within opening hours"),
    "queue_wait_seconds": N_("Queue wait"),
    "bot_available": N_("Assistant available"),
}
STATE_WORDS = {
    "bot": N_("with the assistant"),
    "queued": N_("waiting for a person"),
    "assigned": N_("with a person"),
    "closed": N_("closed"),
}
AUTHOR_WORDS = {
    "citizen": N_("Citizen"),
    "bot": N_("Assistant"),
    "agent": N_("Agent"),
    "system": N_("System"),
}
CHANNEL_WORDS = {WEBCHAT: N_("web chat"), SMS: N_("SMS"), VOICE: N_("phone")}
DELIVERY_WORDS = {
    "pending": N_("waiting to be sent"),
    "retry": N_("will be retried"),
    "sending_local": N_("sending"),
    "queued": N_("queued at the provider"),
    "sending": N_("sending"),
    "sent": N_("sent"),
    "delivered": N_("delivered"),
    "undelivered": N_("not delivered"),
    "failed": N_("failed"),
    "blocked": N_("NOT SENT: the citizen opted out of SMS (STOP)"),
    "review": N_(
        "NOT CONFIRMED: it may have gone out (the provider timed out); check before sending again"
    ),
    "read": N_("read"),
}
EXEMPTION_WORDS = {
    "impairment": N_("cognitive or physical impairment"),
    "no_computer": N_("no computer with a connection at home"),
    "emigrated": N_("registered as emigrated"),
    "homeless": N_("homeless (no fixed address)"),
    "language": N_("language barrier"),
    "no_digital_id": N_("cannot obtain a digital ID"),
}
AGE_WORDS = {
    "under_15": N_("under 15"),
    "15_64": N_("15-64"),
    "65_79": N_("65-79"),
    "80_plus": N_("80 or over"),
}
CALLBACK_WORDS = {
    "booked": N_("booked: waiting for a free agent"),
    "calling": N_("calling the citizen now"),
    "answered": N_("answered: connected to an agent"),
    "failed": N_("FAILED: not reached; call again or close it"),
    "closed": N_("closed"),
}
CALLBACK_REASON_WORDS = {
    "waited_too_long": N_("waited too long in the queue"),
    "out_of_hours": N_("called outside opening hours"),
    "asked": N_("asked to be called back"),
    "digital_not_completed": N_("the digital route did not work out"),
    "policy": N_("the routing policy chose a callback (chat or SMS)"),
    "surge": N_("surge mode: a callback instead of a long wait"),
}
CALL_STATUS_WORDS = {
    "queued": N_("placed"),
    "initiated": N_("placed"),
    "ringing": N_("ringing"),
    "in-progress": N_("answered, in progress"),
    "completed": N_("answered and completed"),
    "busy": N_("busy"),
    "no-answer": N_("not answered"),
    "failed": N_("failed"),
    "canceled": N_("cancelled"),
}
DIRECTION_WORDS = {"inbound": N_("Call from the citizen"), "outbound": N_("Call to the citizen")}
CLOSE_WORDS = {
    "resolved": N_("resolved"),
    "inactivity": N_("the citizen left"),
    "bot_finished": N_("finished with the assistant"),
}
OUTCOME_WORDS = {
    "resolved": N_("Resolved"),
    "assisted_digital": N_("Resolved digitally with help (assisted digital)"),
    "referred": N_("Referred"),
    "not_resolved": N_("Not resolved"),
    "ineligible": N_("Not eligible (need settled)"),
}
YES, NO = N_("yes"), N_("no")
# Each language's name in that language, for the desk's language switch.
LANGUAGE_NAMES = {"da": "Dansk", "en": "English", "sv": "Svenska", "de": "Deutsch"}


class DeskWords:
    """The desk's words in one language and the agency's time zone."""

    def __init__(self, translate: Translator, zone: ZoneInfo) -> None:
        self._ = translate
        self.language = translate.language
        self.zone = zone

    def word(self, table: dict[str, str], value: object) -> str:
        """Return a stored value in words, or the value itself when it has none."""
        if value is None:
            return ""
        found = table.get(str(value))
        return self._(found) if found else str(value)

    def language_name(self, code: str | None) -> str:
        """Return a language's name in the page's language ("dansk", "Danish")."""
        if not code:
            return self._("language not known yet")
        try:
            return Locale.parse(self.language).languages.get(code, code)
        except (ValueError, UnknownLocaleError):
            return code

    def need(self, need: str | None) -> str:
        """Return a need in words: "payment_date:pension" reads "Payment date — pension"."""
        if not need:
            return self._("not known yet")
        intent, _sep, benefit = need.partition(":")
        words = self.word(NEED_WORDS, intent) if intent in NEED_WORDS else _humane(intent)
        if benefit:
            words += " — " + (self.word(BENEFIT_WORDS, benefit) if benefit in BENEFIT_WORDS
                              else benefit.replace("_", " "))  # fmt: skip
        return words

    def percent(self, value: float) -> str:
        """Return a share as a whole percentage in the page's language ("99 %", "99%")."""
        return format_percent(value, "#,##0 %" if self.language == "da" else "#,##0%",
                              locale=self.language)  # fmt: skip

    def rule(self, rule_id: str | None) -> str:
        """Return a rule's id in words: "person-requested" reads "Person requested"."""
        return _humane(rule_id or "")

    def value(self, key: str, value: object) -> str:
        """Return one policy input in words."""
        if isinstance(value, bool):
            return self._(YES if value else NO)
        if key == "need":
            return self.need(value)  # type: ignore[arg-type]
        if key == "confidence" and isinstance(value, int | float):
            return self.percent(float(value))
        if key == "exemptions" and isinstance(value, list | tuple):
            return ", ".join(self.word(GROUND_WORDS, g) for g in value)
        if key == "age_band":
            return self.word(AGE_WORDS, value)
        if key == "queue_wait_seconds" and isinstance(value, int):
            return waited(value)
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return str(value)

    def reason(self, decision, rules: Callable[[str, str], str | None]) -> str:  # noqa: ANN001
        """Return a decision's reason in the page's language, from its rule's own words.

        `rules(profile, rule_id)` gives the rule's reason as the profile wrote it (a message
        id of the catalogues); without one, the reason as stored (English).
        """
        if not decision.reason or not decision.rule_id:
            return decision.reason or ""
        template = rules(decision.profile or "", decision.rule_id)
        if not template:
            return decision.reason
        values = {"grounds": decision.all_inputs.get("exemptions") or (), **decision.all_inputs}
        try:
            return reason_text(template, values, self._)
        except (KeyError, IndexError, ValueError):
            return decision.reason

    def clock(self, at: datetime | None) -> str:
        """Return a time of day in the agency's zone, 24-hour: 14:43 on every page."""
        return at.astimezone(self.zone).strftime("%H:%M") if at else ""

    def when(self, at: datetime | None) -> str:
        """Return a date and time in the agency's zone and the page's language."""
        if at is None:
            return ""
        local = at.astimezone(self.zone)
        day = format_date(local.date(), "medium", locale=self.language)
        return f"{day} {local.strftime('%H:%M')}"


def _humane(code: str) -> str:
    words = code.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def waited(seconds: int) -> str:
    """Return a wait in words an agent reads at a glance ("4 min 05 s")."""
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
