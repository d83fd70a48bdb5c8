"""Channel-shift metrics as docs/domain.md §4 defines them, over facts read from the event log.

Pure: the standard library only. `analytics.queries` folds each contact's events into one
`ContactFacts`; everything a manager sees is computed here from those facts, one module per
figure in the domain's words:

- `facts`: the records of one contact, callback and reported completion;
- `window`: the days a report covers and its repeat and follow-up windows;
- `take_up`: completed needs and how they were completed, digital take-up;
- `repeat_contact`: repeat contacts and the links between one citizen's contacts on a need;
- `containment`: bot containment and handoff;
- `deflection`: deflections completed within the follow-up window;
- `service_level`: the queue (answered, abandoned, waits) and handle time;
- `cost`: cost per contact by kind;
- `fairness`: the groups a report is read by, and the exemption share;
- `migration`: channel migration between two periods;
- `tally`: the shared fold, a contact's figures added to counts that add up across days;
- `row`: a group's row, from its tally;
- `figures`: ratios and histograms of seconds; `definitions`: the exact wording.

This package names them all, so `from analytics import metrics` reads any of them.
"""

from analytics.metrics.containment import (
    bot_containment,
    handoff_rate,
    handoff_reasons,
    is_bot_conversation,
    is_contained,
    is_handed_off,
)
from analytics.metrics.cost import DEFAULT_COSTS, cost_kind
from analytics.metrics.definitions import DEFINITIONS, definitions
from analytics.metrics.deflection import deflections_completed
from analytics.metrics.facts import PHONE, CallbackFacts, Completion, ContactFacts
from analytics.metrics.fairness import GROUPINGS, citizens_of, group_of, matches
from analytics.metrics.figures import Seconds, percentile, ratio
from analytics.metrics.migration import channel_migration
from analytics.metrics.repeat_contact import LINK_MARGIN, link, linked, repeated
from analytics.metrics.row import SATISFIED, Row, Settings, channel_shift, from_tally, row
from analytics.metrics.service_level import (
    SERVICE_LEVEL_SECONDS,
    SHORT_ABANDON_SECONDS,
    handle_seconds,
    in_seconds,
    is_abandoned,
    is_queued_caller,
    is_short_abandon,
    queue_outcome,
    seconds_between,
)
from analytics.metrics.take_up import (
    ASSISTED_DIGITAL_OUTCOME,
    ASSISTED_DIGITAL_WRAP_UP,
    TAKE_UP,
    completion,
    digital_take_up,
    is_completed,
    is_completed_digital,
    is_in_progress,
    is_resolved,
    is_served_by_person,
    need_completion,
)
from analytics.metrics.tally import COUNTS, NAMED, add_contact, empty_tally, merge, tally
from analytics.metrics.window import FOLLOWUP_WINDOW_HOURS, REPEAT_WINDOW_DAYS, Window

__all__ = [
    "ASSISTED_DIGITAL_OUTCOME",
    "ASSISTED_DIGITAL_WRAP_UP",
    "COUNTS",
    "DEFAULT_COSTS",
    "DEFINITIONS",
    "FOLLOWUP_WINDOW_HOURS",
    "GROUPINGS",
    "LINK_MARGIN",
    "NAMED",
    "PHONE",
    "REPEAT_WINDOW_DAYS",
    "SATISFIED",
    "SERVICE_LEVEL_SECONDS",
    "SHORT_ABANDON_SECONDS",
    "TAKE_UP",
    "CallbackFacts",
    "Completion",
    "ContactFacts",
    "Row",
    "Seconds",
    "Settings",
    "Window",
    "add_contact",
    "bot_containment",
    "channel_migration",
    "channel_shift",
    "citizens_of",
    "completion",
    "cost_kind",
    "definitions",
    "deflections_completed",
    "digital_take_up",
    "empty_tally",
    "from_tally",
    "group_of",
    "handle_seconds",
    "handoff_rate",
    "handoff_reasons",
    "is_abandoned",
    "is_bot_conversation",
    "is_completed",
    "is_completed_digital",
    "is_contained",
    "is_handed_off",
    "is_in_progress",
    "is_queued_caller",
    "is_resolved",
    "is_served_by_person",
    "in_seconds",
    "is_short_abandon",
    "link",
    "linked",
    "matches",
    "merge",
    "need_completion",
    "percentile",
    "queue_outcome",
    "ratio",
    "repeated",
    "row",
    "seconds_between",
    "tally",
]
