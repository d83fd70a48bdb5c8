"""Names of the contact events appended to `contact_events`; analytics reads only these.

Every event carries the contact id, channel, the citizen's pseudonym (if identified) and the
need (if known). `data` holds the details named beside each type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from router.domain.channels import WRITTEN

CONTACT_OPENED = "contact_opened"  # {}
CITIZEN_IDENTIFIED = "citizen_identified"  # {"exempt": bool, "grounds": [..], "age_band": str}
MESSAGE_RECEIVED = "message_received"  # {"message_id"}; on the phone also "input", "confidence"
# {"rule_id", "action", "reason", "profile", "stage", "context"}: "context" is the policy's
# input (router.policy.PolicyContext as a dict), so the decision can be replayed; "surge":
# true when one of the profile's surge rules decided.
DECISION_MADE = "decision_made"
BOT_ANSWERED = "bot_answered"  # {"intent", "confidence"}
BOT_FAILED = "bot_failed"  # {"error", "intent", "confidence", "consecutive"}
DIGITAL_OFFERED = "digital_offered"  # {"route"}
# {"reason", "rule_id", "from_bot": bool, "callback": bool}; "callback_refused": "no_phone"
# when the policy's callback could not be made (no phone number for a written contact).
HANDED_OFF = "handed_off"
QUEUED = "queued"  # {"queue_item_id", "skill", "priority"}
# {"queue_item_id", "agent_id", "wait_seconds" (whole, rounded down), "wait_exact_seconds"}
AGENT_ASSIGNED = "agent_assigned"
AGENT_REPLIED = "agent_replied"  # {"message_id", "agent_id", "first": bool}
# The policy chose a callback that kanal does not book itself: {"rule_id"}; booked on the
# phone: {"reason", "call_at"}.
CALLBACK_SCHEDULED = "callback_scheduled"
# Callbacks (docs/domain.md §4): booked, each call placed, answered, a failed attempt, used up.
CALLBACK_BOOKED = "callback_booked"  # {"callback_id", "reason", "not_before"}
CALLBACK_PLACED = "callback_placed"  # {"callback_id", "attempt", "agent_id", "outcome"}
CALLBACK_ANSWERED = "callback_answered"  # {"callback_id", "agent_id", "attempt"}
CALLBACK_NOT_ANSWERED = "callback_not_answered"  # {"callback_id", "attempt", "status", "retry"}
CALLBACK_FAILED = "callback_failed"  # {"callback_id", "attempts", "status"}
CALLBACK_CLOSED = "callback_closed"  # {"callback_id", "by": system|staff|citizen, "state_before"}
AGENT_CALL_PLACED = "agent_call_placed"  # {"agent_id", "outcome"}: the desk's "Connect call"
# Deflection follow-ups: the window opened, the need was completed, a callback was offered.
FOLLOWUP_SCHEDULED = "followup_scheduled"  # {"followup_id", "due_at"}
DIGITAL_COMPLETED = "digital_completed"  # {"source": "self_service", "followups_closed"}
FOLLOWUP_OFFERED = "followup_offered"  # {"followup_id", "sent": bool, "why"?, "contacted_again"}
FOLLOWUP_ACCEPTED = "followup_accepted"  # {"followup_id", "callback_id"}
DEFLECTION_OFFERED = (
    "deflection_offered"  # {"need", "route": "sms"}: digital route offered on the phone
)
DEFLECTION_ACCEPTED = "deflection_accepted"  # {"need", "route": "sms", "message_id"}
CALL_ENDED = "call_ended"  # {"status", "queue_result", "seconds"}
SMS_OPT_OUT = "sms_opt_out"  # {"keyword"}
SMS_OPT_IN = "sms_opt_in"  # {"keyword"}
MESSAGE_BLOCKED = "message_blocked"  # {"message_id", "why"}
DELIVERY_UPDATED = "delivery_updated"  # {"message_id", "status"}
RESOLVED = (
    "resolved"  # {"wrap_up", "by": "bot"|"agent"|"system", "completed": bool, "digital": bool,
    # "outcome" (an agent's: resolved, assisted_digital, referred, not_resolved, ineligible)}
)
# Supervision and SLA timers (router/domain/sla.py): a waiting item reached 80 % of its
# queue's target wait {"queue_item_id", "queue", "target_seconds", "waited_seconds"}, or all
# of it (the same, and "priority", the raised one); a callback was offered to its citizen
# {"queue_item_id", "message_id"}; a supervisor changed its priority {"queue_item_id",
# "from", "to", "by"} or moved it {"queue_item_id", "from_queue", "to_queue", "by"}.
SLA_WARNED = "sla_warned"
SLA_BREACHED = "sla_breached"
SLA_CALLBACK_OFFERED = "sla_callback_offered"
PRIORITY_CHANGED = "priority_changed"
QUEUE_ITEM_MOVED = "queue_item_moved"
# A web chat abandoned in the queue came back: its citizen returned {"queue_item_id"}.
RETURNED = "contact_returned"
CLOSED = "contact_closed"  # {"why", "state_before"?, "rule_id"?, "language"?}
# The satisfaction survey after a contact closed (router/domain/survey.py, docs/domain.md §4.5).
SURVEY_ASKED = "survey_asked"  # {"channel", "need", "language"}
SURVEY_NOT_SENT = "survey_not_sent"  # {"channel", "need", "language", "why": "opted_out"}
# An answer to the satisfaction question about a closed contact (docs/domain.md §4.2, §4.5):
# {"score": 1..5, "channel", "need", "language": "en"|"da"}; 5 = very satisfied.
SATISFACTION = "satisfaction_answered"
SURVEY_DECLINED = "survey_declined"  # {"channel", "need", "language"}
# A reminder that an exemption from digital-first ends soon (docs/domain.md §2.5), once per
# end date: {"exemption_id", "ground", "valid_until", "sent": bool, "why"?}. Pseudonym only.
EXEMPTION_REMINDED = "exemption_reminded"

# Channels that count as digital for digital take-up (docs/domain.md §4).
DIGITAL_CHANNELS = WRITTEN


@dataclass(frozen=True)
class Happened:
    """Something a domain object did, for the journal to append to the log.

    `at` is when it happened, when the method knew (the journal stamps the others).
    """

    type: str
    data: dict = field(default_factory=dict)
    at: datetime | None = None


@dataclass(frozen=True)
class ContactChanged:
    """Something was written to a contact's log (`kind`: the event's type): the message bus
    announces it to live pages once the transaction has committed. Ids only, never a
    citizen's words or number: the stream process reads what it shows. Not written to the log.
    """

    contact_id: int
    kind: str


# The contact id of a change to the desk as a whole, no conversation's: an agent's presence
# (the supervisor board and the queue pages hear of it; it is not written to the log).
DESK_WIDE = 0
DESK_WIDE_KINDS = frozenset({"presence_changed"})
