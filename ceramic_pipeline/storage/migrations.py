"""Versioned SQL migrations for the pipeline's own tables.

Hand-written rather than Alembic: the schema is a handful of tables with no ORM models to
autogenerate from, and the pipeline must be able to migrate from any process (asset, CLI,
test) with nothing but a psycopg connection. The rules that make that safe:

* every migration runs in its own transaction, together with its row in ``schema_migrations``,
  so a failure leaves the database at the previous version;
* each transaction first takes a transaction-scoped advisory lock, so two processes migrating
  at once run one after the other and the second sees the first one's work and skips it;
* an applied migration whose SQL has since changed is refused (checksum mismatch): add a new
  migration instead of editing an old one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import psycopg

# Arbitrary but fixed: every process that migrates this schema must use the same key.
ADVISORY_LOCK_KEY = 0x6365_7261_6D69_63  # "ceramic"


class MigrationError(RuntimeError):
    """The database's migration history does not match the code's."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


_SHA256 = r"CHECK ({col} ~ '^[0-9a-f]{{64}}$')"

_INITIAL_SCHEMA = f"""
CREATE TABLE documents (
    document_id     text PRIMARY KEY,
    partition_key   text NOT NULL UNIQUE,
    source_path     text NOT NULL,
    content_sha256  text NOT NULL {_SHA256.format(col="content_sha256")},
    ingested_at     timestamptz NOT NULL DEFAULT now()
);

-- No foreign key to documents: each asset writes its own table and may be re-run alone.
CREATE TABLE chunks (
    document_id     text NOT NULL,
    chunk_index     integer NOT NULL CHECK (chunk_index >= 0),
    text            text,               -- NULL when the text lives on IPFS (text_cid)
    text_cid        text,
    text_sha256     text NOT NULL {_SHA256.format(col="text_sha256")},
    text_bytes      integer NOT NULL CHECK (text_bytes >= 0),
    headings        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(headings) = 'array'),
    pages           jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(pages) = 'array'),
    source          text,
    partition_key   text,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, chunk_index),
    CONSTRAINT chunks_text_or_cid CHECK (text IS NOT NULL OR text_cid IS NOT NULL)
);
CREATE INDEX chunks_partition_key_idx ON chunks (partition_key);

CREATE TABLE ceramic_models (
    model_id           text PRIMARY KEY,
    signer_did         text NOT NULL,
    definition_sha256  text NOT NULL {_SHA256.format(col="definition_sha256")},
    definition         jsonb NOT NULL,
    init_event_cid     text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    -- "once per DID": the registry is looked up by (signer, definition).
    UNIQUE (signer_did, definition_sha256)
);

-- The outbox: events are written in the same transaction as the stream rows that describe
-- them, and a publisher posts them to the node afterwards, strictly in stream order.
CREATE TABLE ceramic_events (
    event_cid     text PRIMARY KEY,
    stream_id     text NOT NULL,
    position      integer NOT NULL CHECK (position >= 0),
    kind          text NOT NULL CHECK (kind IN ('init', 'data')),
    car           bytea NOT NULL,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'published', 'rejected')),
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_id, position),
    CONSTRAINT ceramic_events_init_at_zero CHECK ((kind = 'init') = (position = 0)),
    CONSTRAINT ceramic_events_published_at CHECK ((status = 'published') = (published_at IS NOT NULL))
);
CREATE INDEX ceramic_events_status_stream_position_idx
    ON ceramic_events (status, stream_id, position);

CREATE TABLE ceramic_streams (
    stream_id        text PRIMARY KEY,
    latest_cid       text NOT NULL,
    version          integer NOT NULL CHECK (version >= 1),   -- number of events in the stream
    signer_did       text NOT NULL,
    model_id         text NOT NULL,
    document_id      text NOT NULL,
    chunk_index      integer NOT NULL CHECK (chunk_index >= 0),
    content_sha256   text NOT NULL {_SHA256.format(col="content_sha256")},
    ipfs_pins        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(ipfs_pins) = 'array'),
    stream_metadata  jsonb NOT NULL DEFAULT '{{}}' CHECK (jsonb_typeof(stream_metadata) = 'object'),
    status           text NOT NULL DEFAULT 'active'
                     CHECK (status IN ('active', 'removed', 'archived')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_updated     timestamptz NOT NULL DEFAULT now(),
    archived_at      timestamptz,
    CONSTRAINT ceramic_streams_archived_at CHECK ((status = 'archived') = (archived_at IS NOT NULL)),
    -- One stream per chunk and signer; its leading column also serves lookups by document_id.
    CONSTRAINT ceramic_streams_chunk_signer_key UNIQUE (document_id, chunk_index, signer_did)
);
CREATE INDEX ceramic_streams_latest_cid_idx ON ceramic_streams (latest_cid);
CREATE INDEX ceramic_streams_status_last_updated_idx ON ceramic_streams (status, last_updated);
CREATE INDEX ceramic_streams_signer_did_idx ON ceramic_streams (signer_did);
-- jsonb_path_ops: smaller and faster for the only operator used on pins, containment (@>).
CREATE INDEX ceramic_streams_ipfs_pins_idx ON ceramic_streams USING gin (ipfs_pins jsonb_path_ops);

CREATE VIEW chunks_with_ceramic AS
SELECT c.document_id,
       c.chunk_index,
       c.text,
       c.text_cid,
       c.text_sha256,
       c.text_bytes,
       c.headings,
       c.pages,
       c.source,
       c.partition_key,
       c.updated_at,
       s.stream_id,
       s.latest_cid,
       s.version        AS stream_version,
       s.status         AS stream_status,
       s.signer_did,
       s.model_id,
       s.ipfs_pins,
       s.last_updated   AS stream_last_updated
FROM chunks c
LEFT JOIN ceramic_streams s
       ON s.document_id = c.document_id AND s.chunk_index = c.chunk_index;
"""

# Where a pinned chunk's text is held ({cid, service, pinned_at, status, size}), recorded by
# pinned_chunks and copied into ceramic_streams.ipfs_pins when the stream is written.
_CHUNK_PINS = """
ALTER TABLE chunks ADD COLUMN ipfs_pins jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(ipfs_pins) = 'array');
"""

# The content hash whose streams were written and verified: set by the last asset of a run,
# so a run that fails half-way leaves the document "not ingested" and the sensor retries it.
_INGESTED_HASH = """
ALTER TABLE documents ADD COLUMN ingested_sha256 text;
UPDATE documents SET ingested_sha256 = content_sha256;
"""

# Which tip the read-back last verified, and when, in columns of their own: read-back then
# skips streams whose tip it already verified (issue 10), and last_updated keeps meaning the
# last real change (issue 11's archival). Earlier read-backs kept them in stream_metadata.
_VERIFIED_TIP = """
ALTER TABLE ceramic_streams ADD COLUMN verified_cid text, ADD COLUMN verified_at timestamptz;
UPDATE ceramic_streams
SET verified_cid = stream_metadata->>'node_tip',
    verified_at = (stream_metadata->>'verified_at')::timestamptz,
    stream_metadata = stream_metadata - 'node_tip' - 'verified_at'
WHERE stream_metadata ? 'node_tip';
"""

# Never fork (issue 8). ``unchecked``: an init event queued without asking the node whether
# the stream already exists (the node was unreachable); the publisher looks the stream up
# before posting it. ``adopted``: an event this database did not write but found on the node
# (a lost or restored database) and recorded as published; run figures do not count it.
_UNCHECKED_INIT = """
ALTER TABLE ceramic_events ADD COLUMN unchecked boolean NOT NULL DEFAULT false,
                           ADD COLUMN adopted boolean NOT NULL DEFAULT false;
"""

# Each document's outcome in the pipeline, so one bad document is recorded (state 'failed',
# a one-line reason, the content hash that failed) instead of failing its whole run; the
# sensor retries a failed document only when its content hash changes.
_DOCUMENT_OUTCOMES = """
ALTER TABLE documents ADD COLUMN state text NOT NULL DEFAULT 'registered'
    CHECK (state IN ('registered', 'ingested', 'failed'));
ALTER TABLE documents ADD COLUMN error text;
ALTER TABLE documents ADD COLUMN failed_sha256 text;
ALTER TABLE documents ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE documents ADD CONSTRAINT documents_failed_has_error
    CHECK ((state = 'failed') = (error IS NOT NULL AND failed_sha256 IS NOT NULL));
UPDATE documents SET state = 'ingested' WHERE ingested_sha256 = content_sha256;
CREATE INDEX documents_state_idx ON documents (state);
"""

# Exact values of columns that PostgreSQL cannot hold as they are (U+0000 in text and jsonb),
# for the few rows that need them; storage/exact.py explains the two forms. json, not jsonb:
# json keeps "\u0000" as written. The view gains the column at its end, so SQL readers can
# tell that a row's text shows U+FFFD where the real text has U+0000.
_EXACT_VALUES = """
ALTER TABLE chunks ADD COLUMN exact_values json
    CHECK (exact_values IS NULL OR json_typeof(exact_values) = 'object');
ALTER TABLE ceramic_streams ADD COLUMN exact_values json
    CHECK (exact_values IS NULL OR json_typeof(exact_values) = 'object');
CREATE OR REPLACE VIEW chunks_with_ceramic AS
SELECT c.document_id,
       c.chunk_index,
       c.text,
       c.text_cid,
       c.text_sha256,
       c.text_bytes,
       c.headings,
       c.pages,
       c.source,
       c.partition_key,
       c.updated_at,
       s.stream_id,
       s.latest_cid,
       s.version        AS stream_version,
       s.status         AS stream_status,
       s.signer_did,
       s.model_id,
       s.ipfs_pins,
       s.last_updated   AS stream_last_updated,
       c.exact_values   AS chunk_exact_values
FROM chunks c
LEFT JOIN ceramic_streams s
       ON s.document_id = c.document_id AND s.chunk_index = c.chunk_index;
"""

# Archival: streams not really changed for ARCHIVE_AFTER_DAYS move here (storage.streams.
# archive_older_than) and come back when their document is ingested again (restore_archived).
# Same columns as ceramic_streams (exact_values included); ``status`` keeps what the stream
# was ('active'/'removed', or 'archived' for rows the old in-place archival flagged) and
# ``archived_at`` says when it moved.
# The JSONB columns use lz4 when the server was built with it (PostgreSQL >= 14); otherwise they
# keep the default, pglz. Detected at run time, so the migration's SQL (and checksum) is fixed.
_STREAMS_ARCHIVE = f"""
CREATE TABLE ceramic_streams_archive (
    stream_id        text PRIMARY KEY,
    latest_cid       text NOT NULL,
    version          integer NOT NULL CHECK (version >= 1),
    signer_did       text NOT NULL,
    model_id         text NOT NULL,
    document_id      text NOT NULL,
    chunk_index      integer NOT NULL CHECK (chunk_index >= 0),
    content_sha256   text NOT NULL {_SHA256.format(col="content_sha256")},
    ipfs_pins        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(ipfs_pins) = 'array'),
    stream_metadata  jsonb NOT NULL DEFAULT '{{}}' CHECK (jsonb_typeof(stream_metadata) = 'object'),
    status           text NOT NULL CHECK (status IN ('active', 'removed', 'archived')),
    exact_values     json CHECK (exact_values IS NULL OR json_typeof(exact_values) = 'object'),
    created_at       timestamptz NOT NULL,
    last_updated     timestamptz NOT NULL,
    archived_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ceramic_streams_archive_document_id_idx ON ceramic_streams_archive (document_id);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        EXECUTE 'ALTER TABLE ceramic_streams_archive '
                'ALTER COLUMN ipfs_pins SET COMPRESSION lz4, '
                'ALTER COLUMN stream_metadata SET COMPRESSION lz4';
    END IF;
END $$;

-- Rows the earlier in-place archival flagged move to the archive too.
WITH moved AS (DELETE FROM ceramic_streams WHERE status = 'archived' RETURNING *)
INSERT INTO ceramic_streams_archive
SELECT stream_id, latest_cid, version, signer_did, model_id, document_id, chunk_index,
       content_sha256, ipfs_pins, stream_metadata, status, exact_values, created_at, last_updated,
       archived_at
FROM moved;

-- Every stream, hot or archived: ``archived_at`` is NULL for the hot ones.
CREATE VIEW ceramic_streams_all AS
SELECT stream_id, latest_cid, version, signer_did, model_id, document_id, chunk_index,
       content_sha256, ipfs_pins, stream_metadata, status, exact_values, created_at, last_updated,
       NULL::timestamptz AS archived_at
FROM ceramic_streams
UNION ALL
SELECT stream_id, latest_cid, version, signer_did, model_id, document_id, chunk_index,
       content_sha256, ipfs_pins, stream_metadata, status, exact_values, created_at, last_updated,
       archived_at
FROM ceramic_streams_archive;
"""

# Where resync_from_ceramic stopped reading a node's event feed, per (node, model, controller):
# the next incremental re-sync resumes there (ceramic-one's ``resumeAt``).
_FEED_CURSORS = """
CREATE TABLE ceramic_feed_cursors (
    node_url       text NOT NULL,
    model_id       text NOT NULL,
    controller     text NOT NULL,
    resume_token   text NOT NULL,
    events_read    bigint NOT NULL DEFAULT 0 CHECK (events_read >= 0),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node_url, model_id, controller)
);
"""

# Key rotation (deploy/ROTATION.md): after the DID seed changes, the new DID writes its own
# stream for each chunk, and the old DID's row records the StreamID that took its place. Rows
# are otherwise kept as written (``stream verify`` still checks them). NULL: the chunk's
# current stream. The column moves with a row to the archive and back; chunks_with_ceramic
# joins only current streams, so a rotated chunk still has one row there.
_SUPERSEDED_BY = """
ALTER TABLE ceramic_streams ADD COLUMN superseded_by text;
ALTER TABLE ceramic_streams_archive ADD COLUMN superseded_by text;

-- archived_at stays the view's last column (dropped and created: a replace can only append).
DROP VIEW ceramic_streams_all;
CREATE VIEW ceramic_streams_all AS
SELECT stream_id, latest_cid, version, signer_did, model_id, document_id, chunk_index,
       content_sha256, ipfs_pins, stream_metadata, status, exact_values, created_at, last_updated,
       superseded_by, NULL::timestamptz AS archived_at
FROM ceramic_streams
UNION ALL
SELECT stream_id, latest_cid, version, signer_did, model_id, document_id, chunk_index,
       content_sha256, ipfs_pins, stream_metadata, status, exact_values, created_at, last_updated,
       superseded_by, archived_at
FROM ceramic_streams_archive;

CREATE OR REPLACE VIEW chunks_with_ceramic AS
SELECT c.document_id,
       c.chunk_index,
       c.text,
       c.text_cid,
       c.text_sha256,
       c.text_bytes,
       c.headings,
       c.pages,
       c.source,
       c.partition_key,
       c.updated_at,
       s.stream_id,
       s.latest_cid,
       s.version        AS stream_version,
       s.status         AS stream_status,
       s.signer_did,
       s.model_id,
       s.ipfs_pins,
       s.last_updated   AS stream_last_updated,
       c.exact_values   AS chunk_exact_values
FROM chunks c
LEFT JOIN ceramic_streams s
       ON s.document_id = c.document_id AND s.chunk_index = c.chunk_index AND s.superseded_by IS NULL;
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _INITIAL_SCHEMA),
    Migration(2, "chunk pin records", _CHUNK_PINS),
    Migration(3, "ingested content hash", _INGESTED_HASH),
    Migration(4, "document outcomes", _DOCUMENT_OUTCOMES),
    Migration(5, "exact values of text with U+0000", _EXACT_VALUES),
    Migration(6, "verified tip columns", _VERIFIED_TIP),
    Migration(7, "unchecked init and adopted events", _UNCHECKED_INIT),
    Migration(8, "streams archive", _STREAMS_ARCHIVE),
    Migration(9, "feed cursors", _FEED_CURSORS),
    Migration(10, "superseded streams (key rotation)", _SUPERSEDED_BY),
)

_CREATE_HISTORY = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


def migrate(conn_or_url: psycopg.Connection | str) -> list[int]:
    """Bring the database up to the latest schema; returns the versions applied by this call.

    A connection must have no open transaction: each migration commits on its own.
    """
    if isinstance(conn_or_url, str):
        with psycopg.connect(conn_or_url) as conn:
            return _migrate(conn, MIGRATIONS)
    return _migrate(conn_or_url, MIGRATIONS)


def applied_versions(conn: psycopg.Connection) -> list[int]:
    """Versions recorded in schema_migrations (empty before the first migration)."""
    if conn.execute("SELECT to_regclass('schema_migrations')").fetchone()[0] is None:
        return []
    return [v for (v,) in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def _migrate(conn: psycopg.Connection, migrations: tuple[Migration, ...]) -> list[int]:
    _check_sequence(migrations)
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise MigrationError(
            "migrate() needs a connection with no open transaction, "
            "because each migration commits in its own transaction"
        )
    applied: list[int] = []
    for migration in migrations:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
            conn.execute(_CREATE_HISTORY)
            row = conn.execute(
                "SELECT checksum FROM schema_migrations WHERE version = %s", (migration.version,)
            ).fetchone()
            if row is not None:
                if row[0] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version} ({migration.name}) was applied with "
                        "different SQL; add a new migration instead of editing an applied one"
                    )
                continue
            conn.execute(migration.sql)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
            applied.append(migration.version)
    return applied


def _check_sequence(migrations: tuple[Migration, ...]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError(f"migration versions must be 1..n without gaps, got {versions}")
