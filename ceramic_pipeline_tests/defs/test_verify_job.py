"""The verify_streams job walks every live stream's whole chain (full read-back); ingest runs check tips only."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import psycopg

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.steps.readback import read_back_documents
from ceramic_pipeline.steps.streams import record_document_streams
from ceramic_pipeline.storage.chunks import upsert_chunks
from ceramic_pipeline.storage.documents import DocumentRow, register_documents
from ceramic_pipeline.writer.models import ensure_model
from ceramic_pipeline_tests.defs.pipeline import definitions_with
from ceramic_pipeline_tests.writer.support import document_chunks


def _metadata(result) -> dict:
    [output] = [e for e in result.all_events if e.event_type_value in ("STEP_OUTPUT", "STEP_FAILURE")]
    data = output.event_specific_data
    metadata = data.metadata if hasattr(data, "metadata") else data.user_failure_data.metadata
    return {k: v.value for k, v in metadata.items()}


def test_verify_streams_walks_every_chain_and_catches_what_a_tip_check_cannot(instance, resources, pipeline_env):
    signer = DIDKey.from_seed(base64.b64decode(pipeline_env["AGENT_DID_SEED_BASE64"]))
    with psycopg.connect(pipeline_env["DATABASE_URL"]) as conn:
        for name in ("a.json", "b.json"):
            register_documents(conn, [DocumentRow(name, name.replace(".", "-"), f"/inbox/{name}", "0" * 64)], signer.did)
            upsert_chunks(conn, document_chunks(name, 6))
            record_document_streams(conn, signer, ensure_model(conn, signer), name)
    jobs = definitions_with(resources)
    assert jobs.resolve_job_def("publish_outbox").execute_in_process(instance=instance).success  # tip read-back: ingested

    result = jobs.resolve_job_def("verify_streams").execute_in_process(instance=instance)
    assert result.success
    assert {k: _metadata(result)[k] for k in ("documents", "verified_streams", "failed_streams")} == \
        {"documents": 2, "verified_streams": 12, "failed_streams": 0}

    # The database now claims a third event on one stream whose tip is unchanged: only a walk of
    # the chain (2 events on the node) can tell.
    with psycopg.connect(pipeline_env["DATABASE_URL"]) as conn:
        stream_id = conn.execute("UPDATE ceramic_streams SET version = 3 WHERE document_id = 'a.json' AND chunk_index = 4 "
                                 "RETURNING stream_id").fetchone()[0]
    result = jobs.resolve_job_def("verify_streams").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    metadata = _metadata(result)
    assert metadata["failed_streams"] == 1 and metadata["verified_streams"] == 11
    assert metadata["failed"] == [f"{stream_id}: node has 2 events but the database says 3"]
    with psycopg.connect(pipeline_env["DATABASE_URL"]) as conn:
        state, error = conn.execute("SELECT state, error FROM documents WHERE document_id = 'a.json'").fetchone()
    assert state == "failed" and "node has 2 events but the database says 3" in error


def test_a_failure_found_by_verify_streams_survives_a_re_ingest(instance, resources, pipeline_env):
    """A re-run of the failed document checks the stream's whole chain (its tip was posted in an
    earlier run), so the mismatch the job found keeps the document failed."""
    signer = DIDKey.from_seed(base64.b64decode(pipeline_env["AGENT_DID_SEED_BASE64"]))
    with psycopg.connect(pipeline_env["DATABASE_URL"]) as conn:
        register_documents(conn, [DocumentRow("a.json", "a-json", "/inbox/a.json", "0" * 64)], signer.did)
        upsert_chunks(conn, document_chunks("a.json", 3))
        record_document_streams(conn, signer, ensure_model(conn, signer), "a.json")
    jobs = definitions_with(resources)
    assert jobs.resolve_job_def("publish_outbox").execute_in_process(instance=instance).success
    with psycopg.connect(pipeline_env["DATABASE_URL"]) as conn:
        stream_id = conn.execute("UPDATE ceramic_streams SET version = 3 WHERE chunk_index = 1 RETURNING stream_id").fetchone()[0]
    failed = jobs.resolve_job_def("verify_streams").execute_in_process(instance=instance, raise_on_error=False)
    assert not failed.success
    [failure] = [e for e in failed.all_events if e.event_type_value == "STEP_FAILURE"]
    assert stream_id in failure.event_specific_data.user_failure_data.description  # the one line names the stream

    # What a re-ingest of the failed document does: register it again, then read it back as its run would.
    with psycopg.connect(pipeline_env["DATABASE_URL"]) as conn, CeramicClient(pipeline_env["CERAMIC_URL"]) as client:
        conn.execute("UPDATE documents SET state = 'registered', error = NULL WHERE document_id = 'a.json'")
        outcome = read_back_documents(conn, client, ["a.json"], signer.did, tips_since=datetime.now(timezone.utc))
        assert outcome.ingested == [] and outcome.failures == [f"{stream_id}: node has 2 events but the database says 3"]
        assert conn.execute("SELECT state FROM documents WHERE document_id = 'a.json'").fetchone()[0] == "failed"
