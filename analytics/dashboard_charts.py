"""The figures the dashboard's charts draw (Chart.js, in the browser), labelled in the page's
language; every chart has a table beside it on the page with the same numbers."""

from __future__ import annotations

from analytics.dashboard_figures import Figures
from analytics.dashboard_words import Words


def chart_data(figures: Figures, words: Words) -> dict:
    """The figures the charts draw, with their labels in the page's language."""
    _ = words._
    t = figures.total
    weeks_ = [start.isoformat() for start, _end, _row in figures.weekly]
    weekly = [row for _start, _end, row in figures.weekly]
    channels = figures.by_channel["rows"]

    def series(label: str, values: list) -> dict:
        return {"label": _(label), "values": values}

    trend = [
        series(label, [r[name] for r in weekly])
        for name, label in (
            ("digital_take_up", "Digital take-up"),
            ("bot_containment", "Bot containment"),
            ("service_level", "Service level"),
            ("user_satisfaction", "User satisfaction"),
        )
    ]
    scores = [str(n) for n in range(1, 6)]
    occupied = figures.report.get("occupancy") or {"days": []}
    funnel = [t["deflection_offered"], t["deflection_accepted"], t["deflection_completed"]]
    return {
        "trend": {"kind": "line", "percent": True, "labels": weeks_, "series": trend},
        "volume": {
            "kind": "bar",
            "labels": weeks_,
            "series": [series("Contacts", [r["contacts"] for r in weekly])],
        },
        "channels": {
            "kind": "bar",
            "labels": [words.group(r["group"]) for r in channels],
            "series": [series("Contacts", [r["contacts"] for r in channels])],
        },
        "handoffs": {
            "kind": "bar",
            "horizontal": True,
            "labels": list(t["handoff_reasons"]),
            "series": [series("Handed off", list(t["handoff_reasons"].values()))],
        },
        "funnel": {
            "kind": "bar",
            "labels": [_("Offered"), _("Accepted"), _("Completed")],
            "series": [series("Phone callers", funnel)],
        },
        "waits": {
            "kind": "bar",
            "seconds": True,
            "labels": [words.group(r["group"]) for r in channels],
            "series": [
                series("Median wait", [r["answer_p50_seconds"] for r in channels]),
                series("90th percentile wait", [r["answer_p90_seconds"] for r in channels]),
            ],
        },
        "occupancy": {
            "kind": "line",
            "percent": True,
            "labels": [d["day"] for d in occupied["days"]],
            "series": [series("Occupancy", [d["occupancy"] for d in occupied["days"]])],
        },
        "satisfaction": {
            "kind": "bar",
            "labels": scores,
            "series": [series("Answers", [t["satisfaction_scores"].get(n, 0) for n in scores])],
        },
        "cost": {
            "kind": "bar",
            "money": True,
            "labels": [words.group(r["group"]) for r in channels],
            "series": [
                series("Cost", [r["cost"] for r in channels]),
                series(
                    "The same contacts by phone", [r["phone_cost_same_demand"] for r in channels]
                ),
            ],
        },
    }
