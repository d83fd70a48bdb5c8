"""How the sandbox's numbers answer placed calls: answered by default; a number told otherwise
(`POST /sandbox/voice/answers`), or one of Twilio's magic numbers, ends busy, no-answer or
failed."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import delete, select, update

from channels.twilio_sandbox.peer import SandboxPeer

ANSWERS = ("answer", "busy", "no-answer", "failed")
# Numbers that always answer one way, as Twilio's test numbers do (README, "Voice sandbox").
MAGIC_ANSWERS = {
    "+15005550010": "busy",
    "+15005550011": "no-answer",
    "+15005550012": "failed",
}


def answer_for(peer: SandboxPeer, number: str) -> str:
    """Return how `number` answers this call (and use up a counted answer)."""
    if number in MAGIC_ANSWERS:
        return MAGIC_ANSWERS[number]
    answers = peer.voice_answers
    with peer.engine.begin() as conn:
        row = conn.execute(select(answers).where(answers.c.number == number)).first()
        if row is None:
            return "answer"
        if row.remaining is not None:
            if row.remaining <= 1:
                conn.execute(delete(answers).where(answers.c.number == number))
            else:
                conn.execute(
                    update(answers)
                    .where(answers.c.number == number)
                    .values(remaining=row.remaining - 1)
                )
        return row.answer


def set_answer(peer: SandboxPeer):
    """Tell the sandbox how a number answers calls: answer, busy, no-answer or failed.

    Form: `To`, `Answer`, and optionally `Times` (that many calls, then it answers again).
    """
    number = request.form.get("To", "").strip()
    answer = request.form.get("Answer", "").strip()
    times = request.form.get("Times", "").strip()
    if not number or answer not in ANSWERS:
        return jsonify(error=f"Give `To` and `Answer`, one of {', '.join(ANSWERS)}."), 400
    if times and (not times.isdigit() or int(times) < 1):
        return jsonify(error="`Times` must be a positive whole number."), 400
    answers = peer.voice_answers
    with peer.engine.begin() as conn:
        conn.execute(delete(answers).where(answers.c.number == number))
        if answer != "answer":
            conn.execute(
                answers.insert().values(
                    number=number, answer=answer, remaining=int(times) if times else None
                )
            )
    return jsonify(to=number, answer=answer, times=int(times) if times else None), 200
