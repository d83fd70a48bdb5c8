"""The Inbox port: an acknowledged message is one INSERT, idempotent on the provider's id.

Acknowledgements made at the same time by one process' threads are committed together: one
transaction for the batch (router/adapters/group_commit.py), each webhook answered once the
transaction holding its row has committed, a duplicate still recognised by the unique key.

On SQLite the inbox is a file of its own beside kanal's database, so acknowledging never
waits for the write lock a turn holds on the main file; on PostgreSQL it is a table in the
same database (row locks do not block inserts).

One citizen's messages are taken one after another across every process: on PostgreSQL a
turn holds its lane (`channel:address`) with a session advisory lock on a connection of its
own, released when the turn ends or, if the process dies, when PostgreSQL sees the connection
close. SQLite serves one machine: the turn worker's own lanes keep the order there.
"""

from __future__ import annotations

import logging
import os
import threading
import time as _time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime

from sqlalchemy import Engine, bindparam, create_engine, delete, select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError

from router.adapters.group_commit import GroupCommit
from router.adapters.orm import UTC as UTC_TIMESTAMP
from router.adapters.orm import inbox
from router.adapters.sqlite_checkpoints import on_commit
from router.adapters.sqlite_writers import QueuedWrites
from router.domain.commands import ReceiveMessage
from router.domain.model import InboxEntry

# One statement is both the idempotency check and the insert, compiled once per dialect and
# run on the pool's DBAPI connection: this is the acknowledgement's whole cost, and
# SQLAlchemy's Connection (events, BEGIN, result metadata) cost three times the statement.
# SQLite ≥ 3.35 and PostgreSQL both take it.
_INSERTED = ("channel", "provider_id", "address", "text", "kind", "contact_id", "received_at")


def _insert_statement(dialect) -> tuple[str, bool]:  # noqa: ANN001 - a SQLAlchemy Dialect
    stmt = dialect_insert(dialect.name)(inbox).on_conflict_do_nothing(
        index_elements=[inbox.c.channel, inbox.c.provider_id]
    )
    if dialect.name != "sqlite":  # SQLite's rowcount and lastrowid say it without a result
        stmt = stmt.returning(inbox.c.id)
    compiled = stmt.values({c: bindparam(c) for c in _INSERTED}).compile(dialect=dialect)
    positional = compiled.positiontup is not None
    if positional and list(compiled.positiontup) != list(_INSERTED):
        raise RuntimeError(f"unexpected inbox INSERT parameters: {compiled.positiontup}")
    return compiled.string, positional


def dialect_insert(name: str):  # noqa: ANN201 - the dialect's insert() with ON CONFLICT
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert


# PostgreSQL: a batch of rows in one statement, one array per column (the rows in order, so
# their ids follow the order they came in), each inserted row's id and key returned.
_INSERT_MANY = (
    "INSERT INTO inbox (channel, provider_id, address, text, kind, contact_id, received_at) "
    "SELECT channel, provider_id, address, text, kind, contact_id, received_at FROM unnest("
    "%s::varchar[], %s::varchar[], %s::varchar[], %s::text[], %s::varchar[], %s::bigint[], "
    "%s::timestamptz[]) WITH ORDINALITY "
    "AS r(channel, provider_id, address, text, kind, contact_id, received_at, n) ORDER BY n "
    "ON CONFLICT (channel, provider_id) DO NOTHING RETURNING id, channel, provider_id"
)

# Built once: a statement built per call costs more than running it.
_GET = select(inbox).where(inbox.c.id == bindparam("entry_id"), inbox.c.message_id.is_(None))
# Every turn asks it (router/service/lanes.py).
_WAITING_IN = (
    select(inbox.c.id)
    .where(
        inbox.c.message_id.is_(None),
        inbox.c.channel == bindparam("channel"),
        inbox.c.address == bindparam("address"),
        inbox.c.id <= bindparam("up_to"),
    )
    .order_by(inbox.c.id)
)
_TAKEN = (
    update(inbox)
    .where(inbox.c.id == bindparam("entry_id"))
    .values(message_id=bindparam("message_id"))
)

log = logging.getLogger(__name__)

# A lane's advisory lock: its own key space (hashtextextended's seed), apart from the
# contact-opening locks of router.adapters.repositories.
_LANE_SEED = 20170
_LANE_LOCK = text("SELECT pg_advisory_lock(hashtextextended(:lane, :seed))")
_LANE_UNLOCK = text("SELECT pg_advisory_unlock(hashtextextended(:lane, :seed))")

_COLUMNS = ("channel", "address", "text", "received_at", "provider_id", "kind", "contact_id")


def inbox_url(database_url: str) -> str:
    """Return where the inbox lives: beside an SQLite file, or in the same PostgreSQL."""
    if database_url.startswith("sqlite:///") and database_url.endswith(".db"):
        return database_url[: -len(".db")] + "-inbox.db"
    return database_url


_lane_engines: dict[tuple[int, str], Engine] = {}
_lane_engines_lock = threading.Lock()


def _lane_engine(engine: Engine) -> Engine:
    """The connections lanes are held on, apart from the engine's own pool: a lane's holder
    takes its turn's connections from that pool while holding the lane, so lanes held on it
    too (a burst of STOP webhooks, one per web thread) could take every connection and wait
    for one another until the pool's timeout. This one never makes a holder wait (what it
    opens beyond the few it keeps idle is closed when given back); one per process and
    database."""
    url = engine.url.render_as_string(hide_password=False)
    key = (os.getpid(), url)
    with _lane_engines_lock:
        found = _lane_engines.get(key)
        if found is None:
            found = _lane_engines[key] = create_engine(
                engine.url, pool_size=4, max_overflow=-1, pool_pre_ping=True
            )
        return found


class SqlInbox:
    """Inbound messages committed before they are acknowledged, each provider's message once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        # SQLite has one writer: threads of one process, then processes, queue here
        # (sqlite_writers), woken at once, rather than in SQLite's busy handler, which sleeps
        # and retries.
        self._writing = QueuedWrites(engine.url.database or "") if self._sqlite else nullcontext()
        # SQLite: the batches commit outside the engine's events; its checkpoints run apart.
        self._wrote = on_commit(engine.url.database or "") if self._sqlite else None
        self._dbapi_error = engine.dialect.loaded_dbapi.Error
        self._insert, self._positional = _insert_statement(engine.dialect)
        self._timestamp = UTC_TIMESTAMP.bind_processor(engine.dialect)
        # SQLite has one writer; PostgreSQL flushes the log of commits made at once together.
        self._group = GroupCommit(self._insert_batch, writers=1 if self._sqlite else 2)
        # SQLite: the connection batches are written on, kept between them (one writer at a
        # time, under `_writing`): the pool's checkout and reset cost a sixth of an
        # acknowledgement. (pid, connection); given back to the pool after an error.
        self._kept: tuple[int, object] | None = None
        if engine.dialect.name == "sqlite":
            for attempt in range(5):  # several web workers may start at once
                try:
                    inbox.create(engine, checkfirst=True)
                    for index in inbox.indexes:  # a file made before an index was added
                        index.create(engine, checkfirst=True)
                    break
                except OperationalError:
                    _time.sleep(0.1 * (attempt + 1))

    def add(self, cmd: ReceiveMessage) -> int | None:
        """Commit the message; return its entry id, or None if the provider sent it before.

        Messages added at the same time by this process' threads are committed together
        (router/adapters/group_commit.py); each call returns once its own row is committed.
        """
        return self._group.submit(self._row(cmd))

    def _row(self, cmd: ReceiveMessage) -> tuple | dict:
        """The INSERT's parameters for the message, in the driver's style."""
        values = (cmd.channel, cmd.provider_id, cmd.address, cmd.text, cmd.kind, cmd.contact_id,
                  self._timestamp(cmd.received_at or datetime.now(UTC)))  # fmt: skip
        return values if self._positional else dict(zip(_INSERTED, values, strict=True))

    def _insert_batch(self, rows: Sequence) -> list[int | None]:
        """Insert the rows in one transaction; each one's entry id, None for a duplicate."""
        with self._writing:
            connection = self._connection(rows)
            cursor = None
            try:
                cursor = connection.cursor()
                if self._sqlite:
                    ids = self._autocommit_batch(cursor, rows)
                else:
                    ids = self._returning_batch(cursor, rows)
                    connection.commit()
                cursor.close()
            except self._dbapi_error as exc:
                connection.close()  # to the pool, which rolls back what was left open
                raise self._wrapped(exc, connection, cursor, rows) from exc
            except BaseException:
                connection.close()
                raise
            if self._sqlite:
                self._kept = (os.getpid(), connection)
                self._wrote()
            else:
                connection.close()
        return ids

    def _connection(self, rows: Sequence):  # noqa: ANN202 - the pool's DBAPI connection
        """The connection to write the batch on: SQLite's kept one (not one a forked process
        inherited), else one from the pool."""
        kept, self._kept = self._kept, None
        if kept is not None and kept[0] == os.getpid():
            return kept[1]
        try:
            return self.engine.raw_connection()
        except self._dbapi_error as exc:  # no connection to be had: the server is down
            raise self._wrapped(exc, None, None, rows) from exc

    def _autocommit_batch(self, cursor, rows: Sequence) -> list[int | None]:  # noqa: ANN001
        """SQLite, in autocommit (db.py): one row is its own transaction; more share one.
        SQLite's rowcount and lastrowid say whether a row was new without a result."""
        if len(rows) == 1:
            cursor.execute(self._insert, rows[0])
            return [cursor.lastrowid if cursor.rowcount == 1 else None]
        cursor.execute("BEGIN IMMEDIATE")
        try:
            ids = []
            for row in rows:  # a row whose provider's id came before (even in this batch): 0
                cursor.execute(self._insert, row)
                ids.append(cursor.lastrowid if cursor.rowcount == 1 else None)
            cursor.execute("COMMIT")
        except BaseException:
            if cursor.connection.in_transaction:
                cursor.execute("ROLLBACK")
            raise
        return ids

    def _returning_batch(self, cursor, rows: Sequence) -> list[int | None]:  # noqa: ANN001
        """PostgreSQL: the rows carrying a provider's id in one INSERT (a provider's id twice
        in the batch: the first row is inserted, the later ones are duplicates), any others
        one by one, in the same transaction."""
        if len(rows) == 1:
            return [self._insert_one(cursor, rows[0])]
        firsts: dict[tuple[str, str], int] = {}
        for i, row in enumerate(rows):
            if row["provider_id"] is not None:
                firsts.setdefault((row["channel"], row["provider_id"]), i)
        sent = [rows[i] for i in sorted(firsts.values())]
        inserted: dict[tuple[str, str], int] = {}
        if sent:
            cursor.execute(_INSERT_MANY, [[row[c] for row in sent] for c in _INSERTED])
            inserted = {(channel, provider): id_ for id_, channel, provider in cursor.fetchall()}
        ids: list[int | None] = []
        for i, row in enumerate(rows):
            key = (row["channel"], row["provider_id"])
            if row["provider_id"] is None:
                ids.append(self._insert_one(cursor, row))
            else:
                ids.append(inserted.get(key) if firsts[key] == i else None)
        return ids

    def _insert_one(self, cursor, row) -> int | None:  # noqa: ANN001
        cursor.execute(self._insert, row)
        found = cursor.fetchone()
        return found[0] if found else None

    def _wrapped(self, exc: Exception, connection, cursor, row) -> DBAPIError:  # noqa: ANN001
        """The driver's error as SQLAlchemy would raise it on its own path (so a database that
        is down is answered 503 like anywhere else), the connection dropped from the pool if
        the error says it is dead (a restarted server) rather than handed to the next caller."""
        dialect = self.engine.dialect
        if connection is None:
            gone = True
        else:
            gone = dialect.is_disconnect(exc, connection.dbapi_connection, cursor)
        if gone and connection is not None:
            connection.invalidate(exc)
        return DBAPIError.instance(
            self._insert, row, exc, self._dbapi_error, connection_invalidated=gone, dialect=dialect
        )

    def close(self) -> None:
        """Give the connection kept between SQLite batches back to the pool, so that disposing
        the engine closes it (engine.dispose() leaves checked-out connections open)."""
        with self._writing:  # not while a batch writes on it
            kept, self._kept = self._kept, None
        if kept is not None and kept[0] == os.getpid():  # never a parent's, after a fork
            kept[1].close()

    def get(self, entry_id: int) -> InboxEntry | None:
        """Return the entry while its turn has not been taken, else None."""
        with self.engine.connect() as conn:
            row = conn.execute(_GET, {"entry_id": entry_id}).first()
        if row is None:
            return None
        return InboxEntry(id=row.id, **{c: getattr(row, c) for c in _COLUMNS})

    def taken(self, entry_id: int, message_id: int) -> None:
        """Mark the entry's turn taken: it became `message_id` (0: it never will)."""
        with self._writing, self.engine.begin() as conn:
            conn.execute(_TAKEN, {"entry_id": entry_id, "message_id": message_id})

    def waiting(self, before: datetime, limit: int = 100) -> list[tuple[int, str]]:
        """Return (id, lane) of entries received before then whose turn was not taken."""
        stmt = (
            select(inbox.c.id, inbox.c.channel, inbox.c.address)
            .where(inbox.c.message_id.is_(None), inbox.c.received_at <= before)
            .order_by(inbox.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(i, f"{channel}:{address}") for i, channel, address in conn.execute(stmt)]

    def waiting_in(self, lane: str, up_to: int) -> list[int]:
        """Return the ids of the lane's entries not taken, up to `up_to`, oldest first."""
        channel, _, address = lane.partition(":")
        params = {"channel": channel, "address": address, "up_to": up_to}
        with self.engine.connect() as conn:
            return list(conn.execute(_WAITING_IN, params).scalars())

    @contextmanager
    def lane(self, lane: str) -> Iterator[None]:
        """Hold `lane` against every other process until the block ends (PostgreSQL)."""
        if self.engine.dialect.name != "postgresql":
            yield
            return
        key = {"lane": lane, "seed": _LANE_SEED}
        # Autocommit: a session lock outlives transactions, so none is opened (never idle in
        # one), and taking and releasing the lock are one round trip each.
        conn = _lane_engine(self.engine).connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            conn.execute(_LANE_LOCK, key)
            yield
        finally:
            try:
                conn.execute(_LANE_UNLOCK, key)
            except Exception:  # the connection broke: PostgreSQL released the lock with it
                log.warning("a lane's lock connection broke; PostgreSQL released the lock")
                conn.invalidate()
            conn.close()

    def purge_taken(self, before: datetime) -> int:
        """Delete taken entries received before then; return how many."""
        stmt = delete(inbox).where(inbox.c.message_id.is_not(None), inbox.c.received_at < before)
        with self._writing, self.engine.begin() as conn:
            return conn.execute(stmt).rowcount or 0
