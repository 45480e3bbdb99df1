"""SQLite persistence for the devnode: the posted event CARs, in arrival order, plus interests.

``seq`` plays ceramic-one's ``delivered`` counter: an event is stored only once its ``prev``
is stored, so ascending ``seq`` is a valid delivery order for the feed and the aggregator.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ceramic_pipeline.ceramic.cid import CID

DB_FILE = "devnode.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    cid        BLOB NOT NULL UNIQUE,
    stream_cid BLOB NOT NULL,  -- the init event's CID (the StreamID's CID)
    kind       TEXT NOT NULL CHECK (kind IN ('init', 'data')),
    prev       BLOB,
    car        BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_stream ON events (stream_cid, seq);
CREATE TABLE IF NOT EXISTS interests (
    sep        TEXT NOT NULL,
    sep_value  TEXT NOT NULL,
    controller TEXT NOT NULL DEFAULT '',
    stream_id  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (sep, sep_value, controller, stream_id)
);
"""


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    cid: CID
    stream_cid: CID
    kind: str
    prev: CID | None
    car: bytes


def _row(row: tuple) -> StoredEvent:
    seq, cid, stream_cid, kind, prev, car = row
    return StoredEvent(seq, CID(bytes(cid)), CID(bytes(stream_cid)), kind, CID(bytes(prev)) if prev else None, bytes(car))


_COLUMNS = "seq, cid, stream_cid, kind, prev, car"


class EventStore:
    """Thread-safe (one lock) event store; ``data_dir=None`` keeps everything in memory."""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        if data_dir is None:
            target = ":memory:"
        else:
            Path(data_dir).mkdir(parents=True, exist_ok=True)
            target = str(Path(data_dir) / DB_FILE)
        # Request handlers run in a thread pool; one connection behind one lock keeps it simple.
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self.lock = threading.RLock()

    def close(self) -> None:
        with self.lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock across check-then-insert so concurrent posts cannot interleave."""
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def get(self, cid: CID) -> StoredEvent | None:
        with self.lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM events WHERE cid = ?", (cid.bytes,)).fetchone()
        return _row(row) if row else None

    def insert(self, cid: CID, stream_cid: CID, kind: str, prev: CID | None, car: bytes) -> bool:
        """Store an event; return False if it was already stored (re-posts are idempotent)."""
        with self.lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO events (cid, stream_cid, kind, prev, car) VALUES (?, ?, ?, ?, ?)",
                (cid.bytes, stream_cid.bytes, kind, prev.bytes if prev else None, car),
            )
        return cursor.rowcount == 1

    def stream_events(self, stream_cid: CID) -> list[StoredEvent]:
        """All events of one stream in delivery order (init first)."""
        with self.lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM events WHERE stream_cid = ? ORDER BY seq", (stream_cid.bytes,)
            ).fetchall()
        return [_row(r) for r in rows]

    def since(self, seq: int, limit: int) -> list[StoredEvent]:
        """Events with ``seq >= seq`` in order: the feed's page after a resume token."""
        with self.lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM events WHERE seq >= ? ORDER BY seq LIMIT ?", (seq, limit)
            ).fetchall()
        return [_row(r) for r in rows]

    def highwater(self) -> int:
        """The next ``seq`` to be delivered (ceramic-one's resume token for "from now on")."""
        with self.lock:
            (top,) = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
        return top + 1

    def count(self) -> int:
        with self.lock:
            return self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def add_interest(self, sep: str, sep_value: str, controller: str | None, stream_id: str | None) -> None:
        with self.lock:
            self._db.execute(
                "INSERT OR IGNORE INTO interests VALUES (?, ?, ?, ?)", (sep, sep_value, controller or "", stream_id or "")
            )

    def interests(self) -> list[dict[str, str]]:
        with self.lock:
            rows = self._db.execute("SELECT sep, sep_value, controller, stream_id FROM interests ORDER BY rowid").fetchall()
        return [
            {"sep": s, "sepValue": v, **({"controller": c} if c else {}), **({"streamId": i} if i else {})}
            for s, v, c, i in rows
        ]
