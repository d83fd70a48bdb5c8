"""What the benchmark reads from kanal's database: stored inbound SMS, routed turns, replies.

Every table and column the harness relies on is named here, and only here.
  messages(channel, direction, provider_id, processed)  channel 'sms'; direction 'in' / 'out';
      provider_id = Twilio's MessageSid for inbound SMS; processed = the turn has run.
  an inbox table (optional): INBOX_TABLES / INBOX_SID_COLUMNS below, found by reflection;
      where it exists, a MessageSid stored there counts as stored (acknowledged durably).
"""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import create_engine, inspect, text

INBOUND_SMS = "SELECT provider_id FROM messages WHERE channel = 'sms' AND direction = 'in'"
PROCESSED_SMS = (
    "SELECT count(*) FROM messages WHERE channel = 'sms' AND direction = 'in' AND processed"
)
REPLIES_SMS = "SELECT count(*) FROM messages WHERE channel = 'sms' AND direction = 'out'"
# A reply whose last status callback (delivered) the web server has recorded.
DELIVERED_SMS = (
    "SELECT count(*) FROM messages WHERE channel = 'sms' AND direction = 'out' "
    "AND delivery_status = 'delivered'"
)
INBOUND_CHAT = "SELECT provider_id FROM messages WHERE channel = 'webchat' AND direction = 'in'"
INBOX_TABLES = ("inbox", "inbox_items", "inbound_inbox")
INBOX_SID_COLUMNS = ("message_sid", "provider_id", "sid", "external_id")


class Database:
    def __init__(self, url: str) -> None:
        from router.adapters.inbox import inbox_url

        self.engine = create_engine(url)
        # kanal keeps acknowledged SMS in an inbox beside an SQLite database (its own file).
        self.inbox_engine = create_engine(inbox_url(url))

    def close(self) -> None:
        self.engine.dispose()
        self.inbox_engine.dispose()

    def _column(self, query: str) -> list:
        with self.engine.connect() as conn:
            return [row[0] for row in conn.execute(text(query))]

    def _scalar(self, query: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text(query)).scalar() or 0)

    def stores(self) -> dict[str, Counter]:
        """MessageSid -> rows, per durable store of inbound SMS (messages, and an inbox)."""
        found = {"messages": Counter(self._column(INBOUND_SMS))}
        tables = inspect(self.inbox_engine).get_table_names()
        for table in (t for t in INBOX_TABLES if t in tables):
            columns = {c["name"] for c in inspect(self.inbox_engine).get_columns(table)}
            for column in (c for c in INBOX_SID_COLUMNS if c in columns):
                with self.inbox_engine.connect() as conn:
                    sids = [row[0] for row in conn.execute(text(f"SELECT {column} FROM {table}"))]
                found[f"{table}.{column}"] = Counter(sids)
                break
        return found

    def inbound_chat(self) -> Counter:
        return Counter(self._column(INBOUND_CHAT))

    def turns(self) -> tuple[int, int]:
        """(inbound SMS routed, SMS replies written)."""
        return self._scalar(PROCESSED_SMS), self._scalar(REPLIES_SMS)

    def wait_for_turns(self, count: int, timeout: float, poll: float = 0.05) -> float | None:
        """Wait until `count` inbound SMS are routed and as many replies written.

        Returns time.monotonic() when first seen, or None after `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            processed, replies = self.turns()
            if processed >= count and replies >= count:
                return time.monotonic()
            time.sleep(poll)
        return None

    def wait_for_delivered(self, count: int, timeout: float, poll: float = 0.1) -> int:
        """Wait until `count` SMS replies are reported delivered (every status callback of
        the run recorded) or `timeout` seconds pass; return how many are."""
        deadline = time.monotonic() + timeout
        while True:
            delivered = self._scalar(DELIVERED_SMS)
            if delivered >= count or time.monotonic() >= deadline:
                return delivered
            time.sleep(poll)


def check_stored(db: Database, acknowledged: set[str]) -> dict:
    """Exactly once: the acknowledged MessageSids are the stored ones, none stored twice."""
    return compare(db.stores(), acknowledged)


def check_chat(db: Database, acknowledged: set[str]) -> dict:
    """Exactly once: the acknowledged chat messages (session:client_id) are the stored ones."""
    return compare({"messages": db.inbound_chat()}, acknowledged)


def compare(stores: dict[str, Counter], acknowledged: set[str]) -> dict:
    """Returns the accounting, with "ok" False and "problems" listing what differs."""
    stored = set().union(*stores.values())
    problems = []
    for name, counts in stores.items():
        twice = [sid for sid, n in counts.items() if n > 1]
        if twice:
            problems.append(f"{len(twice)} ids stored more than once in {name}")
    lost = acknowledged - stored
    if lost:
        problems.append(f"{len(lost)} acknowledged ids not stored")
    strangers = stored - acknowledged
    if strangers:
        problems.append(f"{len(strangers)} stored ids never acknowledged")
    return {
        "ok": not problems,
        "acknowledged_distinct_ids": len(acknowledged),
        "stored_distinct_ids": len(stored),
        "stored_rows": {name: sum(c.values()) for name, c in stores.items()},
        "problems": problems,
    }
