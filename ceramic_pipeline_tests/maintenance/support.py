"""Test data for the maintenance tests: real rows in every kind of column the schema uses."""

from __future__ import annotations

import hashlib
import json

import psycopg
from psycopg import sql

from ceramic_pipeline.maintenance.tables import project_tables


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def populate(url: str, documents: int = 3, chunks_per_document: int = 40) -> None:
    """Documents, chunks (inline and pinned, unicode, jsonb), streams and outbox events."""
    with psycopg.connect(url) as conn:
        for d in range(documents):
            doc = f"doc-{d}"
            conn.execute(
                "INSERT INTO documents (document_id, partition_key, source_path, content_sha256) VALUES (%s, %s, %s, %s)",
                (doc, f"key-{d}", f"/inbox/glaze-{d}.json", _sha(doc)),
            )
            for i in range(chunks_per_document):
                text = f"Cône {i} — glaze “celadon” at {1200 + i} °C\n" * (1 + i % 3)
                pinned = i % 7 == 0
                conn.execute(
                    "INSERT INTO chunks (document_id, chunk_index, text, text_cid, text_sha256, text_bytes, headings, pages)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (doc, i, None if pinned else text, f"bafkrei{d:04d}{i:06d}" if pinned else None, _sha(text),
                     len(text.encode()), json.dumps(["Firing", f"Section {i}"]), json.dumps([1 + i // 10])),
                )
                conn.execute(
                    "INSERT INTO ceramic_streams (stream_id, latest_cid, version, signer_did, model_id, document_id,"
                    " chunk_index, content_sha256, stream_metadata) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (f"kjz{d:03d}{i:05d}", f"bagcq{d}{i}", 1 + i % 4, "did:key:z6Mk-test", "kh4model", doc, i,
                     _sha(text + "content"), json.dumps({"shouldIndex": True})),
                )


def all_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every project table, in a stable order."""
    with psycopg.connect(url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        return {
            f"{schema}.{name}": conn.execute(
                sql.SQL("SELECT * FROM {}.{} AS t ORDER BY t::text").format(sql.Identifier(schema), sql.Identifier(name))
            ).fetchall()
            for schema, name in project_tables(conn)
        }
