"""The fast loader: a history's event rows written straight into `contact_events`.

It bypasses kanal's channels and service on purpose (a million contacts through the webhooks
would take hours): the schema is made by kanal's own migrations, the table's indexes are
dropped during the load and made again from their own definitions afterwards, and SQLite is
written with one `executemany` per chunk, PostgreSQL with `COPY`.

    python -m benchmarks.million_contacts.load DATABASE_URL [CONTACTS]
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterable
from itertools import islice

from sqlalchemy.engine import make_url

from benchmarks.million_contacts.history import History
from router.adapters.migrate import upgrade

COLUMNS = "type, at, channel, contact_id, citizen, need, data"
CHUNK = 50_000


def load(url: str, rows: Iterable[tuple]) -> dict:
    """Migrate the database at `url`, write the rows; return how many and how fast."""
    upgrade(url)
    started = time.perf_counter()
    if make_url(url).get_backend_name() == "sqlite":
        count = _sqlite(make_url(url).database, rows)
    else:
        count = _postgres(url, rows)
    seconds = time.perf_counter() - started
    return {"events": count, "seconds": round(seconds, 1), "events_per_s": round(count / seconds)}


def _chunks(rows: Iterable[tuple]) -> Iterable[list[tuple]]:
    it = iter(rows)
    while chunk := list(islice(it, CHUNK)):
        yield chunk


def _sqlite(path: str, rows: Iterable[tuple]) -> int:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")
        indexes = [
            (name, sql)
            for name, sql in db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'contact_events' AND sql IS NOT NULL"
            )
        ]
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
        count = 0
        insert = f"INSERT INTO contact_events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        for chunk in _chunks(rows):
            db.execute("BEGIN")
            db.executemany(
                insert,
                [
                    (t, at.strftime("%Y-%m-%d %H:%M:%S.%f"), ch, c, who, need, data)
                    for t, at, ch, c, who, need, data in chunk
                ],
            )
            db.execute("COMMIT")
            count += len(chunk)
        for _, sql in indexes:
            db.execute(sql)
        db.execute("ANALYZE")
        db.execute("PRAGMA synchronous=FULL")
        return count
    finally:
        db.close()


def _postgres(url: str, rows: Iterable[tuple]) -> int:
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as db:
        indexes = db.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'contact_events' "
            "AND indexdef NOT LIKE '%UNIQUE%'"
        ).fetchall()
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
        count = 0
        with db.cursor() as cur, cur.copy(f"COPY contact_events ({COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        for _, sql in indexes:
            db.execute(sql)
        db.execute("ANALYZE contact_events")
        return count


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    contacts = int(argv[1]) if len(argv) > 1 else 1_000_000
    print(load(argv[0], History(contacts).rows()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
