"""Key rotation end to end (issue 12, deploy/ROTATION.md), through the CLI as an operator runs it:
ingest under seed A, change the seed to B, ingest again. B gets its own model and chunk streams,
A's rows stay as written except ``superseded_by``, every document is ingested, and
``stream verify`` still verifies A's streams; rolling back to A makes A current again without writing.
Real PostgreSQL, the local node over real HTTP."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from ceramic_pipeline.samples import sample_documents_dir

EXE = shutil.which("ceramic-pipeline", path=str(Path(sys.executable).parent))
STREAMS = 13  # chunk streams of the three sample documents


def new_seed() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def env(tmp_path: Path, migrated_pg_url: str, node) -> dict[str, str]:
    inbox = tmp_path / "inbox"
    shutil.copytree(sample_documents_dir(), inbox)
    (tmp_path / "dagster_home").mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PINATA_", "IPFS_", "DOCLING_", "AGENT_", "VAULT_", "KMS_"))}
    return {
        **base,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "CERAMIC_PIPELINE_DATA": str(tmp_path / "data"),
        "DATABASE_URL": migrated_pg_url,
        "CERAMIC_URL": node.url,
        "DOCLING_INBOX": str(inbox),
    }


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=300)


def ingest(env: dict[str, str]) -> dict:
    result = run(["ingest", env["DOCLING_INBOX"], "--json"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def stream_rows(url: str) -> dict[str, tuple]:
    """Every ceramic_streams row by StreamID (all columns, ``superseded_by`` last)."""
    with psycopg.connect(url) as conn:
        columns = [c for (c,) in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'ceramic_streams' "
            "AND column_name <> 'superseded_by' ORDER BY ordinal_position")]
        rows = conn.execute(f"SELECT {', '.join(columns)}, superseded_by FROM ceramic_streams").fetchall()
    return {r[0]: dict(zip([*columns, "superseded_by"], r)) for r in rows}


def test_rotation_writes_under_the_new_did_and_keeps_the_old_streams_verifiable(env):
    a = {**env, "AGENT_DID_SEED_BASE64": new_seed()}
    b = {**env, "AGENT_DID_SEED_BASE64": new_seed()}
    did_a, did_b = run(["did"], a).stdout.strip(), run(["did"], b).stdout.strip()
    assert did_a.startswith("did:key:z6Mk") and did_b.startswith("did:key:z6Mk") and did_a != did_b

    first = ingest(a)
    assert first["documents_ingested"] == 3 and first["streams_created"] == STREAMS
    before = stream_rows(env["DATABASE_URL"])
    assert len(before) == STREAMS and {r["signer_did"] for r in before.values()} == {did_a}

    # rotate: the same, unchanged documents are written again under B (its own model and streams)
    second = ingest(b)
    assert second["documents_ingested"] == 3 and second["documents_failed"] == 0, second
    assert second["streams_created"] == STREAMS and second["streams_unchanged"] == 0
    after = stream_rows(env["DATABASE_URL"])
    new = {sid: r for sid, r in after.items() if r["signer_did"] == did_b}
    assert len(new) == STREAMS and set(after) == set(before) | set(new)
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        models = dict(conn.execute("SELECT signer_did, model_id FROM ceramic_models").fetchall())
        states = set(conn.execute("SELECT state FROM documents").fetchall())
        view = conn.execute("SELECT stream_id FROM chunks_with_ceramic").fetchall()
    assert models.keys() == {did_a, did_b} and models[did_a] != models[did_b]
    assert {r["model_id"] for r in new.values()} == {models[did_b]}
    assert {r["model_id"] for r in before.values()} == {models[did_a]}
    assert states == {("ingested",)}
    assert sorted(sid for (sid,) in view) == sorted(new)  # one current stream per chunk: B's

    by_chunk = {(r["document_id"], r["chunk_index"]): sid for sid, r in new.items()}
    for sid, old in before.items():
        assert old["superseded_by"] is None
        assert after[sid] == {**old, "superseded_by": by_chunk[(old["document_id"], old["chunk_index"])]}
    assert all(r["superseded_by"] is None for r in new.values())

    # an old stream still verifies against what was written, and says what superseded it
    old_id = min(before)
    verified = run(["stream", "verify", old_id], b)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"signed by {did_a}" in verified.stdout and "match the database" in verified.stdout
    assert f"superseded by {after[old_id]['superseded_by']}" in verified.stdout

    # rotation done: another run under B has nothing to write
    third = ingest(b)
    assert third["events"] == 0 and third["streams_created"] == 0 and third["streams_unchanged"] == STREAMS
    assert stream_rows(env["DATABASE_URL"]) == after

    # rolling back to A (deploy/ROTATION.md): A's streams continue, nothing is written, A is current again
    back = ingest(a)
    assert back["documents_ingested"] == 3 and back["events"] == 0 and back["streams_created"] == 0, back
    rolled = stream_rows(env["DATABASE_URL"])
    by_chunk_a = {(r["document_id"], r["chunk_index"]): sid for sid, r in before.items()}
    assert {sid: r for sid, r in rolled.items() if r["signer_did"] == did_a} == before  # superseded_by cleared
    assert all(r["superseded_by"] == by_chunk_a[(r["document_id"], r["chunk_index"])]
               for r in rolled.values() if r["signer_did"] == did_b)
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        assert sorted(sid for (sid,) in conn.execute("SELECT stream_id FROM chunks_with_ceramic")) == sorted(before)
