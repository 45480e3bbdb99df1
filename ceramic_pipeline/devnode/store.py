"""SQLite persistence for the devnode: the posted event CARs, in arrival order, plus interests.

``seq`` plays ceramic-one's ``delivered`` counter: an event is stored only once its ``prev``
is stored, so ascending ``seq`` is a valid delivery order for the feed and the aggregator.

Durability (a development node's trade-off): WAL journal with ``synchronous=NORMAL``, and
grouped commits. :meth:`EventStore.insert` writes into an open transaction; the caller
commits (:meth:`EventStore.commit`) before it acknowledges the events, and the server
commits once per event-loop turn for all the POSTs handled in it (``server.GroupCommit``).
A committed event survives the devnode process being killed; a power loss or OS crash can
lose the last commits (WAL is fsynced at checkpoints, not per commit). Measured here: one
commit per event costs ~110 us even without fsync, an insert in a shared commit ~17 us; the
old default (``synchronous=FULL``, an fsync per event) capped the node at a few hundred events/s.
"""

from __future__ import annotations

import sqlite3
import threading
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
        # One connection behind one lock: the server works on its event-loop thread, tests and
        # benchmarks may read from theirs. Readers on this connection also see uncommitted inserts.
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self.lock = threading.RLock()
        self._open = False  # a write transaction is open (inserts not yet committed)

    def close(self) -> None:
        with self.lock:
            if self._open:
                self.commit()
            self._db.close()

    def commit(self) -> None:
        """Make every insert since the last commit durable (see the module docstring for how durable)."""
        with self.lock:
            if self._open:
                self._open = False
                self._db.execute("COMMIT")

    def rollback(self) -> None:
        with self.lock:
            if self._open:
                self._open = False
                self._db.execute("ROLLBACK")

    @property
    def pending_commit(self) -> bool:
        return self._open

    def get(self, cid: CID) -> StoredEvent | None:
        with self.lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM events WHERE cid = ?", (cid.bytes,)).fetchone()
        return _row(row) if row else None

    def contains(self, cid: CID) -> bool:
        with self.lock:
            return self._db.execute("SELECT 1 FROM events WHERE cid = ?", (cid.bytes,)).fetchone() is not None

    def insert(self, cid: CID, stream_cid: CID, kind: str, prev: CID | None, car: bytes) -> bool:
        """Store an event in the open write transaction (opened if needed; :meth:`commit` ends it).

        Returns False if it was already stored (re-posts are idempotent).
        """
        with self.lock:
            if not self._open:
                self._db.execute("BEGIN IMMEDIATE")
                self._open = True
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
            self.commit()  # rare; also commits any events already accepted in this loop turn

    def interests(self) -> list[dict[str, str]]:
        with self.lock:
            rows = self._db.execute("SELECT sep, sep_value, controller, stream_id FROM interests ORDER BY rowid").fetchall()
        return [
            {"sep": s, "sepValue": v, **({"controller": c} if c else {}), **({"streamId": i} if i else {})}
            for s, v, c, i in rows
        ]
