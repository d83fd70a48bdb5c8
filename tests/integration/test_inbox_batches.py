"""The inbox commits acknowledgements made at the same time together, on both databases:
each webhook still learns whether it was new, a provider's id is stored once however many
copies arrive in one batch, and the entries keep the order they were handed in."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from router.adapters.orm import inbox as inbox_table
from router.domain.commands import ReceiveMessage

pytestmark = pytest.mark.integration


def sms(sid: str, number: str = "+4520333444", text: str = "hello") -> ReceiveMessage:
    return ReceiveMessage("sms", number, text, provider_id=sid)


def stored(inbox) -> list[tuple[int, str, str]]:
    with inbox.engine.connect() as conn:
        rows = conn.execute(
            select(inbox_table.c.id, inbox_table.c.provider_id, inbox_table.c.text).order_by(
                inbox_table.c.id
            )
        )
        return [tuple(row) for row in rows]


def test_webhooks_arriving_during_a_commit_are_committed_together_each_once(kanal):
    inbox = kanal.turns.inbox
    assert inbox.add(sms("SMbefore")) is not None
    group = inbox._group
    write, transactions = group._write, []
    gate, held = threading.Event(), threading.Event()

    def slow_write(rows):  # the first transaction takes its time; the others queue
        transactions.append(len(rows))
        if len(transactions) == 1:
            held.set()
            assert gate.wait(10)
        return write(rows)

    group._write = slow_write
    group._writers = 1  # PostgreSQL writes two at once; one makes the batches foreseeable
    results: dict[str, list] = {}
    lock = threading.Lock()

    def deliver(sid: str, text: str) -> None:
        entry = inbox.add(sms(sid, text=text))
        with lock:
            results.setdefault(sid, []).append(entry)

    first = threading.Thread(target=deliver, args=("SMfirst", "first"))
    first.start()
    assert held.wait(10)
    # While it commits: new webhooks, one of them twice, and a retry of one stored before.
    sids = ["SMa", "SMb", "SMtwice", "SMtwice", "SMbefore", "SMc"]
    threads = [threading.Thread(target=deliver, args=(sid, sid)) for sid in sids]
    for thread in threads:
        thread.start()
    for _ in range(500):
        if len(group._waiting) == len(sids):
            break
        threading.Event().wait(0.01)
    gate.set()
    for thread in [first, *threads]:
        thread.join(30)

    assert transactions == [1, len(sids)], "the six waiting webhooks shared one transaction"
    assert results["SMbefore"] == [None], "a retried webhook is recognised"
    assert sorted(results["SMtwice"], key=lambda e: e is None)[1] is None, "one copy is new"
    new = {sid: [e for e in entries if e is not None] for sid, entries in results.items()}
    assert all(len(new[sid]) == 1 for sid in ("SMfirst", "SMa", "SMb", "SMtwice", "SMc"))
    rows = stored(inbox)
    sids_stored = [sid for _, sid, _ in rows]
    assert sorted(sids_stored) == sorted(["SMbefore", "SMfirst", "SMa", "SMb", "SMtwice", "SMc"])
    ids = {sid: entry_id for entry_id, sid, _ in rows}
    assert all(new[sid] == [ids[sid]] for sid in new if new[sid]), "each learns its own id"
    assert inbox.get(ids["SMa"]).text == "SMa"


def test_a_batch_keeps_the_order_the_webhooks_were_handed_in(kanal):
    inbox = kanal.turns.inbox
    entries = inbox._insert_batch(
        [inbox._row(sms(f"SMorder{n}", text=f"question {n}")) for n in range(5)]
    )
    assert entries == sorted(entries) and None not in entries
    lane = "sms:+4520333444"
    assert inbox.waiting_in(lane, up_to=max(entries)) == entries
