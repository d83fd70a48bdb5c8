"""The dashboard's fairness panel: which groups it compares, on which figures, and when a
group's figure is far enough from everyone's to be flagged."""

from __future__ import annotations

from collections.abc import Mapping

from analytics.dashboard_words import N_

FAIRNESS_GAP = 0.10  # a rate this far (10 percentage points) from everyone's is flagged
WAIT_RATIO, WAIT_MARGIN = 1.5, 30  # a mean wait 1.5 times everyone's and 30 s longer, too
FAIRNESS_MIN = 10  # ... when the group counts at least this many contacts to take it over

# The fairness panel: the groupings it compares, and the figures it compares them on, each
# with the count it is taken over (a group with fewer than FAIRNESS_MIN is not flagged).
FAIRNESS_GROUPINGS = (
    ("exempt", N_("Exempt and not exempt")),
    ("age_band", N_("Age band")),
    ("language", N_("Language")),
)
FAIRNESS_FIGURES = (
    ("asa_seconds", N_("Mean wait"), "answered", "seconds"),
    ("service_level", N_("Service level"), "queued", "percent"),
    ("abandonment_rate", N_("Abandonment"), "queued", "percent"),
    ("digital_take_up", N_("Digital take-up"), "completed_needs", "percent"),
    ("completion_rate", N_("Completion rate"), "needs_started", "percent"),
    ("bot_containment", N_("Bot containment"), "bot_conversations", "percent"),
    ("first_contact_resolution", N_("First contact resolution"), "resolved_contacts", "percent"),
    ("user_satisfaction", N_("User satisfaction"), "satisfaction_answers", "percent"),
)


def flag(row: Mapping, total: Mapping, figure: str, base: str, kind: str) -> str | None:
    """Say how a group compares with everyone on a figure: "above", "below", or None.

    A rate is flagged FAIRNESS_GAP or more from everyone's; a mean wait when it is
    WAIT_RATIO times everyone's and WAIT_MARGIN seconds longer (or that much shorter). None
    when the group (or everyone) has no figure or the group counts fewer than FAIRNESS_MIN
    contacts to take it over.
    """
    mine, everyone = row.get(figure), total.get(figure)
    if mine is None or everyone is None or (row.get(base) or 0) < FAIRNESS_MIN:
        return None
    if kind == "seconds":
        if mine >= everyone * WAIT_RATIO and mine - everyone >= WAIT_MARGIN:
            return "above"
        if everyone >= mine * WAIT_RATIO and everyone - mine >= WAIT_MARGIN:
            return "below"
        return None
    # Rates are given to 4 places; in floating point 0.6 - 0.5 is 0.0999...: a gap of exactly
    # 10 points went unflagged for some pairs of rates and flagged for others (0.8 - 0.7).
    if round(abs(mine - everyone), 4) < FAIRNESS_GAP:
        return None
    return "above" if mine > everyone else "below"
