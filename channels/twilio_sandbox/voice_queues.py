"""The sandbox's voice queues, standing in for Twilio's `<Enqueue>`: the phone simulator puts
its caller in a queue (`POST /sandbox/voice/queues/<name>/members`), takes them out when they
hang up, and reads whether an agent's leg bridged them (`GET /sandbox/voice/calls/<CallSid>`);
a placed call's `<Dial><Queue>` bridges the first caller waiting."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify, request
from sqlalchemy import delete, select, update

from channels.twilio_sandbox.peer import SandboxPeer


def bridge(peer: SandboxPeer, sid: str, name: str, announce_url: str | None) -> str:
    """Bridge the first caller waiting in queue `name` to this call; say how the Dial ended."""
    members = peer.queue_members
    with peer.engine.connect() as conn:
        call = conn.execute(select(peer.calls).where(peer.calls.c.sid == sid)).first()
    with peer.engine.begin() as conn:
        first = conn.execute(
            select(members)
            .where(members.c.queue == name, members.c.state == "queued")
            .order_by(members.c.id)
            .limit(1)
        ).first()
        if first is None:
            conn.execute(
                update(peer.calls).where(peer.calls.c.sid == sid).values(connected_to=None)
            )
            return "no-answer"
        conn.execute(
            update(members)
            .where(members.c.id == first.id, members.c.state == "queued")
            .values(state="bridged", bridged_to=call.to, announce_url=announce_url)
        )
        conn.execute(
            update(peer.calls).where(peer.calls.c.sid == sid).values(connected_to=f"queue:{name}")
        )
    return "completed"


def join_queue(peer: SandboxPeer, name: str):
    """Put a caller in a voice queue (the simulator's `<Enqueue>`)."""
    sid = request.form.get("CallSid", "").strip()
    if not sid:
        return jsonify(error="`CallSid` is required."), 400
    if len(name) > 64:
        return jsonify(error="A queue name has at most 64 characters."), 400
    members = peer.queue_members
    with peer.engine.begin() as conn:
        conn.execute(delete(members).where(members.c.call_sid == sid))
        conn.execute(
            members.insert().values(
                call_sid=sid,
                queue=name,
                state="queued",
                at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            )
        )
    return jsonify(call_sid=sid, queue=name, state="queued"), 201


def leave_queue(peer: SandboxPeer, name: str, call_sid: str):
    """Take a caller out of a queue (they hung up, or left it)."""
    members = peer.queue_members
    with peer.engine.begin() as conn:
        done = conn.execute(
            update(members)
            .where(members.c.call_sid == call_sid, members.c.queue == name)
            .values(state="left")
        )
    if done.rowcount == 0:
        return jsonify(error=f"{call_sid} is not in queue {name}."), 404
    return "", 204


def member_state(peer: SandboxPeer, call_sid: str):
    """Answer whether a queued caller still waits, was bridged to an agent, or left."""
    members = peer.queue_members
    with peer.engine.connect() as conn:
        row = conn.execute(select(members).where(members.c.call_sid == call_sid)).first()
    if row is None:
        return jsonify(error=f"No call {call_sid} has waited in a sandbox queue."), 404
    return jsonify(
        state=row.state, queue=row.queue, bridged_to=row.bridged_to, announce_url=row.announce_url
    )
