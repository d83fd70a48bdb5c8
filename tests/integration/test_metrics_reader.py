"""Reading for a report never holds off citizens' messages, and never writes."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from analytics.log import contact_events
from router.domain.commands import ReceiveMessage, StartChat

pytestmark = pytest.mark.integration


def test_a_citizen_is_answered_while_a_report_is_reading(kanal):
    reader = kanal.analytics_engine
    with reader.connect() as conn:
        conn.execute(select(contact_events.c.id)).all()  # a report's transaction is open
        done = threading.Event()

        def citizen_writes():
            contact_id = kanal.turns.start_chat(StartChat(secret_hash="x" * 64), address="s_r")
            kanal.turns.receive(
                ReceiveMessage(
                    channel="webchat", address="s_r", text="pension?", contact_id=contact_id
                )
            )
            done.set()

        started = time.monotonic()
        worker = threading.Thread(target=citizen_writes)
        worker.start()
        worker.join(timeout=10)
        assert done.is_set(), "the citizen's message waited for the report"
        assert time.monotonic() - started < 5
    with reader.connect() as conn:
        types = {row.type for row in conn.execute(select(contact_events.c.type))}
    assert "message_received" in types  # and the next report sees it


def test_the_report_reader_cannot_write(kanal, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("on PostgreSQL each report's transaction is opened read-only instead")
    with kanal.analytics_engine.connect() as conn, pytest.raises(DBAPIError):
        conn.execute(
            insert(contact_events).values(
                type="x", at=text("CURRENT_TIMESTAMP"), channel="sms", data={}
            )
        )
