"""The exact wording of every figure (docs/domain.md §4.2), which the API answer, the dashboard
and the OpenAPI document carry beside the numbers."""

from __future__ import annotations

from analytics.metrics.service_level import SERVICE_LEVEL_SECONDS, SHORT_ABANDON_SECONDS
from analytics.metrics.window import FOLLOWUP_WINDOW_HOURS, REPEAT_WINDOW_DAYS

DEFINITIONS = {
    "window": (
        "A contact belongs to the window when its contact_opened event falls between 00:00 on "
        "`from` and 24:00 on `to` in the agency's time zone. Everything that happened to those "
        "contacts afterwards counts, up to the moment of the query."
    ),
    "contacts": "Contacts opened in the window, on every channel.",
    "bot_conversations": (
        "Contacts in which the bot took at least one turn (a bot_answered or bot_failed event; "
        "a failed turn, the bot down included, still makes a bot conversation)."
    ),
    "handed_off": (
        "Bot conversations with a handed_off event: the policy passed them to a person "
        "(assisted queue or callback)."
    ),
    "bot_contained": (
        "Bot conversations that ended (contact_closed event) without a handed_off event and "
        "with no contact by the same citizen on the same need opened from their end to "
        "{days} days after (not while they were open)."
    ),
    "bot_in_progress": (
        "Bot conversations still open at query time and not handed off: not settled, so "
        "neither contained nor failed; left out of bot_containment's denominator."
    ),
    "in_progress": "Contacts still open at query time (not a failure: not yet settled).",
    "bot_repeat_contacts": (
        "Bot conversations that ended without handoff but were followed by a repeat contact, "
        "so they are not contained."
    ),
    "repeat_contact": (
        "Another contact by the same citizen (same pseudonym, any channel) on the same need, "
        "opened after the first contact ended (a contact opened while the first was still "
        "open overlaps it and is not a repeat) and no later than {days} days after it ended."
    ),
    "resolved_contacts": (
        "Ended contacts that completed the citizen's need (completed_needs' rule, per contact)."
    ),
    "repeat_contacts": (
        "Repeat contacts ({days} days, not overlapping) after the resolved contacts, each "
        "counted for every resolved contact it follows."
    ),
    "repeat_rate": "repeat_contacts ÷ resolved_contacts (failure demand proxy).",
    "first_contact_resolution": (
        "Resolved contacts with no repeat contact within {days} days ÷ resolved_contacts."
    ),
    "assisted": (
        "Contacts that entered the assisted queue (a queued event), whether from the bot or "
        "routed straight to a person by the policy."
    ),
    "needs_started": (
        "Needs, not contacts: contacts that do not continue an earlier contact of the same "
        "citizen on the same need (opened while it was open, or within {days} days of its "
        "end). Anonymous contacts and contacts with no recognised need are each one need."
    ),
    "completed_needs": (
        "Needs completed, not contacts: a contact completes a need when its resolved event "
        "says completed=true (the agent's wrap-up code) or, for a bot conversation, when a "
        "need was recognised and the bot's last turn answered it (not a failure) before the "
        "conversation ended without a person; a call whose citizen took the digital route "
        "(the link texted) and met no person completes its need only as a deflection "
        "completed digitally within the follow-up window (digital). A contact whose citizen "
        "completed the same need in an earlier contact ended within {days} days before is "
        "the same need, not counted again."
    ),
    "completed_digital": (
        "Completed needs completed by self-service on a digital channel (web chat, SMS) with "
        "no person, or by the agency's self-service after a deflection."
    ),
    "completed_assisted_digital": (
        "Completed needs where a person took the citizen through the digital route (the "
        "desk's outcome assisted_digital; before outcomes, the wrap-up digital_route_shown): "
        "assisted digital, shown apart."
    ),
    "completed_other": (
        "Completed needs served otherwise: by a person on any channel (a person answering on "
        "web chat or SMS is not digital take-up), or on the phone."
    ),
    "digital_take_up": (
        "(completed_digital + completed_assisted_digital) ÷ completed_needs (GOV.UK Service "
        "Manual); assisted_digital_share shows the assisted part apart."
    ),
    "assisted_digital_share": "completed_assisted_digital ÷ completed_needs.",
    "completion_rate": "completed_needs ÷ needs_started (GOV.UK Service Manual).",
    "bot_containment": (
        "bot_contained ÷ settled bot conversations (bot_conversations − bot_in_progress): "
        "a conversation still open is in progress, not a failure."
    ),
    "handoff_rate": "handed_off ÷ bot_conversations.",
    "handoff_reasons": (
        "Handed-off bot conversations counted by the policy rule that handed them off "
        "(rule_id of the first handed_off event)."
    ),
    "deflection_offered": (
        "Contacts on an assisted channel in which kanal offered the digital route: on the "
        "phone, a deflection_offered event (the IVR offered to text the link for the need). "
        "The digital_offered events of web chat and SMS do not count: those channels are "
        "already digital. No agent-offered route is recorded yet."
    ),
    "deflection_accepted": (
        "Offered contacts with a deflection_accepted event: the caller said yes and the link "
        "was texted. kanal cannot see whether the link was opened or a digital session "
        "started, so this is an upper bound of 'link opened'."
    ),
    "deflection_completed": (
        "Accepted deflections whose need the agency's self-service reported completed (a "
        "digital_completed event naming the same citizen and need, or the deflected contact) "
        "no later than {followup_hours} hours (the follow-up window) after the link was "
        "texted, with no other assisted contact (one that entered the queue, a callback "
        "included) by the same citizen on the same need opened in that window. kanal sees only "
        "completions the self-service reports; for a caller not in the register another "
        "assisted contact cannot be matched, so their completion is an upper bound. Provisional "
        "until the follow-up window of the last acceptance has passed."
    ),
    "deflection_acceptance_rate": "deflection_accepted ÷ deflection_offered.",
    "deflection_completion_rate": "deflection_completed ÷ deflection_accepted.",
    "callbacks_booked": (
        "Callbacks booked on contacts opened in the window (distinct callbacks: a staff 'call "
        "again' re-books the same callback and does not count twice). A callback booked for a "
        "closed contact (a follow-up after a deflection) belongs to the phone contact opened "
        "for it."
    ),
    "callbacks_placed": "Booked callbacks for which kanal placed at least one call.",
    "callback_calls": "Calls placed for the booked callbacks, retries included.",
    "callbacks_answered": (
        "Booked callbacks the citizen answered and were connected to an agent "
        "(callback_answered), counted once however many attempts it took."
    ),
    "callbacks_failed": (
        "Booked callbacks never answered whose attempts were used up (callback_failed) and "
        "that were not booked again by staff since, whether or not staff have closed them."
    ),
    "callbacks_settled": (
        "Booked callbacks closed unanswered because the conversation was resolved first."
    ),
    "callbacks_pending": "Booked callbacks still waiting for a call or an answer at query time.",
    "callback_answer_rate": "callbacks_answered ÷ callbacks_booked (callback completion rate).",
    "callback_reasons": (
        "Booked callbacks counted by the reason they were booked: waited_too_long, "
        "out_of_hours, asked, digital_not_completed (the deflection follow-up), policy, surge."
    ),
    "callback_failures": (
        "Failed callbacks counted by the status of the last attempt: busy, no-answer, failed, "
        "canceled, rejected, not placed, no status, ended unconnected."
    ),
    "phone_queued": (
        "Phone contacts that entered the assisted queue while the caller was on the line (a "
        "queued event; the contacts kanal opens to call someone back are not callers)."
    ),
    "phone_abandoned": (
        "Queued callers who hung up before an agent answered and without booking a callback "
        "(the call_ended event says abandoned). A caller still waiting at query time is not "
        "abandoned."
    ),
    "phone_short_abandons": (
        "Abandoned callers who hung up less than {short_abandon} seconds after entering the "
        "queue (the short-abandon threshold, KANAL_SHORT_ABANDON_SECONDS)."
    ),
    "phone_abandonment_rate": (
        "(phone_abandoned − phone_short_abandons) ÷ (phone_queued − phone_short_abandons): "
        "short abandons are excluded from both (Amazon Connect)."
    ),
    "satisfaction_scores": (
        "Answers to the satisfaction question (a satisfaction_answered event, score 1 'very "
        "dissatisfied' to 5 'very satisfied') about the contacts, by score; the last answer "
        "per contact counts."
    ),
    "user_satisfaction": (
        "Answers 'satisfied' (4) or 'very satisfied' (5) ÷ answers (GOV.UK Service Manual)."
    ),
    "queued": (
        "Contacts that entered the assisted queue on any channel and left it: answered, "
        "abandoned or another way (a callback booked from the queue, closed by staff). "
        "Contacts opened to call someone back are not counted; contacts still waiting are "
        "queue_in_progress."
    ),
    "answered": (
        "Queued contacts an agent took while they waited (agent_assigned); a caller who "
        "booked a callback and hung up left the queue unanswered, whoever called back."
    ),
    "abandoned": (
        "Queued contacts left before an agent took them: a caller who hung up, or a web chat "
        "or SMS conversation closed while waiting; abandons under {short_abandon} seconds "
        "(short_abandons) are excluded."
    ),
    "service_level": (
        "Contacts answered within {service_level} seconds of entering the queue ÷ (queued − "
        "short_abandons) (Amazon Connect); answered_in_time is the numerator. Waits are "
        "exact: a wait of {service_level}.0 seconds is within, one of {service_level}.1 is "
        "not; an abandon of exactly {short_abandon} seconds is not short."
    ),
    "abandonment_rate": "abandoned ÷ (queued − short_abandons) (Amazon Connect).",
    "asa_seconds": (
        "Average speed of answer: mean queue wait of answered contacts, with the p50 and p90 "
        "waits (answer_p50_seconds, answer_p90_seconds), because a mean hides the long tail. "
        "The mean is of the exact waits, in seconds rounded to one decimal; p50 and p90 are "
        "whole seconds rounded up (the fewest seconds within which that share was answered)."
    ),
    "aht_seconds": (
        "Average handle time: mean time from an agent taking the contact to its end, less "
        "any wait in a queue after a transfer (no agent held it then), over handled "
        "contacts. kanal records no hold or after-contact work, so both are inside this time "
        "or missing from it."
    ),
    "occupancy": (
        "Agents' handling time ÷ their staffed time (COPC; ICMI), agency-wide, per day in the "
        "answer's occupancy section: staffed = signed in and available or busy "
        "(presence_changed events); handling = holding at least one contact, from "
        "agent_assigned to the contact's next queued, agent_assigned or contact_closed (the "
        "wrap-up is inside: a contact closes when the agent resolves it), counted while "
        "staffed, concurrent contacts once. Staffed time belongs to no channel, need or group: "
        "null in the group rows and in a report narrowed to a group."
    ),
    "exemption_reminders": (
        "Agency-wide, in the answer's exemption_reminders section: the exemption_reminded "
        "events dated in the window (decided, sent, not sent by why) and, of the sent ones, "
        "those whose citizen the log later shows exempt after the reminded end date (a contact "
        "identified exempt on a later day, or a reminder of a later end date): renewed, a lower "
        "bound, as the register's renewals are not in the log; lapsed (seen not exempt after "
        "it), awaiting (the end date not passed), not seen since. renewal_rate = renewed ÷ sent "
        "reminders whose end date has passed."
    ),
    "exemption_share": (
        "Citizens with a valid exemption on a day of contact ÷ identified citizens in contact "
        "(exempt_citizens ÷ citizens); exemption_share_contacts is the same over contacts."
    ),
    "cost": (
        "Contacts priced by kind: self-service on web chat or SMS, a person on web chat or "
        "SMS, the phone (KANAL_COST_* settings; defaults SOCITM 2012, £)."
    ),
    "cost_per_transaction": "cost ÷ completed_needs (GOV.UK Service Manual).",
    "savings": (
        "phone_cost_same_demand − cost: the same contacts all served by phone, less what they cost."
    ),
    "ratios": "Ratios are fractions between 0 and 1, rounded to 4 places; null when the "
    "denominator is 0.",
    "groups": (
        "channel: the contact's channel. need: the last need recognised in the contact, or "
        "'unrecognised'. exempt: 'exempt' or 'not_exempt' from the citizen_identified event "
        "(valid exemption on the day of contact), 'unidentified' when the citizen was not "
        "identified. age_band: from citizen_identified, 'unknown' without a birth year, "
        "'unidentified' when the citizen was not identified. language: the conversation's "
        "language when it closed, 'unknown' before. none: one group 'all'."
    ),
    "exclusions": (
        "Anonymous contacts (no pseudonym) and contacts whose need was never recognised cannot "
        "be matched as repeat contacts, so their containment is an upper bound. A bot "
        "conversation still open at query time is in progress (bot_in_progress), not yet "
        "contained nor failed. Containment is provisional until {days} days after the "
        "window's end. "
        "Keyword-only SMS (START, HELP, and STOP within an open conversation) open contacts "
        "but never bot conversations; a STOP from a number with no open conversation opens "
        "no contact (its opt-out is recorded all the same). "
        "Callbacks and phone abandonment are counted as they stand at query time."
    ),
}


def definitions(
    repeat_days: int = REPEAT_WINDOW_DAYS,
    followup_hours: float = FOLLOWUP_WINDOW_HOURS,
    short_abandon: int = SHORT_ABANDON_SECONDS,
    service_level: int = SERVICE_LEVEL_SECONDS,
) -> dict[str, str]:
    """Return the plain-language definitions shown beside the numbers."""
    hours = f"{followup_hours:g}"
    return {
        k: v.format(
            days=repeat_days,
            followup_hours=hours,
            short_abandon=short_abandon,
            service_level=service_level,
        )
        for k, v in DEFINITIONS.items()
    }
