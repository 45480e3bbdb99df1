"""The publish_outbox job drains pending events and reports what the run published, read from the outbox."""

from __future__ import annotations

import base64

import psycopg

from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.steps.streams import record_document_streams
from ceramic_pipeline.storage.chunks import upsert_chunks
from ceramic_pipeline.storage.documents import DocumentRow, register_documents
from ceramic_pipeline.writer.models import ensure_model
from ceramic_pipeline_tests.defs.pipeline import definitions_with
from ceramic_pipeline_tests.writer.support import document_chunks


def test_publish_outbox_drains_pending_events_and_reports_them(instance, resources, pipeline_env):
    signer = DIDKey.from_seed(base64.b64decode(pipeline_env["AGENT_DID_SEED_BASE64"]))
    with psycopg.connect(pipeline_env["DATABASE_URL"]) as conn:
        register_documents(conn, [DocumentRow("queued.json", "queued-json", "/inbox/queued.json", "0" * 64)], signer.did)
        upsert_chunks(conn, document_chunks("queued.json", 30))
        model = ensure_model(conn, signer)
        record_document_streams(conn, signer, model, "queued.json")  # queued, not posted (as with the node down)

    result = definitions_with(resources).resolve_job_def("publish_outbox").execute_in_process(instance=instance)

    assert result.success
    [output] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    metadata = {k: v.value for k, v in output.event_specific_data.metadata.items()}
    assert metadata == {"published": 61, "pending": 0, "rejected": 0,  # the model's init + 30 × (init + data)
                        "documents_ingested": 1, "documents_still_pending": 0}
    with psycopg.connect(pipeline_env["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT count(*) FROM ceramic_events WHERE status <> 'published'").fetchone()[0] == 0
        # its run ended with the node down; now read back and verified, it is ingested (the sensor lets go of it)
        assert conn.execute("SELECT state FROM documents WHERE document_id = 'queued.json'").fetchone()[0] == "ingested"
