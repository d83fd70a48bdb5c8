"""The desk's queue: the waiting contacts and the agent's own (the page and its JSON for the
self-refresh), and taking the next contact."""

from __future__ import annotations

from flask import flash, g, jsonify, redirect, render_template, url_for

from router.domain.commands import ClaimNext
from router.entrypoints.desk import routing_views
from router.entrypoints.desk import words as w
from router.entrypoints.desk.parts import DeskParts, _, agent_id, visible, visible_failed_callbacks
from router.entrypoints.desk.words import DeskWords, waited
from router.service.errors import Busy
from router.service.translations import translator


def routes() -> tuple:
    """The queue's routes: (rule, view, method), views taking the desk's parts."""
    return (
        ("/", queue, "GET"),
        ("/queue.json", queue_json, "GET"),
        ("/claim", claim, "POST"),
    )


def _entry_json(entry, said: DeskWords, rules) -> dict:  # noqa: ANN001
    return {
        "contact_id": entry.contact_id,
        "channel": entry.channel,
        "channel_words": said.word(w.CHANNEL_WORDS, entry.channel),
        "skill": entry.skill,
        "priority": entry.priority,
        "wait_seconds": entry.wait_seconds,
        "waited": waited(entry.wait_seconds),
        "enqueued_at": entry.enqueued_at.isoformat(timespec="seconds"),
        "rule_id": entry.rule_id,
        "rule_words": said.rule(entry.rule_id),
        "reason": entry.reason,
        "reason_words": said.reason(entry, rules),
        "need": entry.need,
        "need_words": said.need(entry.need),
        "identified": entry.identified,
        "url": url_for("desk.conversation", contact_id=entry.contact_id),
    }


def queue(parts: DeskParts):
    """Show the waiting contacts and the agent's own contacts."""
    views = parts.views
    calls = parts.callbacks
    return render_template(
        "desk/queue.html",
        offers=routing_views.offers_shown(parts),
        waiting=visible(parts, views.queue()),
        mine=views.assigned_to(agent_id()),
        taking_calls=parts.desk.taking_calls(agent_id()) if calls else False,
        failed_count=len(visible_failed_callbacks(parts)),
    )


def queue_json(parts: DeskParts):
    """Answer the queue as JSON for the page's self-refresh."""
    said = DeskWords(translator(g.get("page_language")), parts.zone)
    views = parts.views
    waiting = visible(parts, views.queue())
    return jsonify(
        waiting=[_entry_json(e, said, parts.rules) for e in waiting],
        mine=[_entry_json(e, said, parts.rules) for e in views.assigned_to(agent_id())],
        offers=[
            {"offer_id": o.offer_id, "contact_id": o.contact_id, "seconds_left": o.seconds_left}
            for o in routing_views.offers_shown(parts)
        ],
        count=len(waiting),
    )


def claim(parts: DeskParts):
    """Take the next waiting contact and open it."""
    # Agents' skills arrive with the full desk; until then every agent takes every skill.
    try:
        claimed = parts.desk.claim_next(ClaimNext(agent_id=agent_id(), skills=()))
    except Busy:  # work may be waiting: never say "nobody is waiting" then
        flash(_("Others are taking work at this very moment: try Take next again."), "error")
        return redirect(url_for("desk.queue"))
    if claimed is None:
        flash(_("Nobody is waiting right now."), "info")
        return redirect(url_for("desk.queue"))
    flash(
        _("You took contact {id} (waited {wait}).", id=claimed.contact_id,
          wait=waited(claimed.wait_seconds))
    )  # fmt: skip
    return redirect(url_for("desk.conversation", contact_id=claimed.contact_id))
