import dagster as dg

from ceramic_pipeline.defs.partitions import documents
from ceramic_pipeline.defs.pinning.assets import pinned_chunks
from ceramic_pipeline.defs.policies import NETWORK_RETRY, SINGLE_RUN
from ceramic_pipeline.defs.failures import fail_fast_unless_transient
from ceramic_pipeline.defs.observability import markdown_table, outcomes_markdown, push_metrics, run_started_at
from ceramic_pipeline.resources import CeramicNodeResource, PostgresResource, SignerResource
from ceramic_pipeline.steps.documents import UnknownPartitionError
from ceramic_pipeline.steps.readback import read_back_documents
from ceramic_pipeline.steps.streams import write_document_streams
from ceramic_pipeline.storage import checks
from ceramic_pipeline.storage.streams import streams_preview
from ceramic_pipeline.storage.documents import documents_to_process, known_documents, outcomes_for_keys
from ceramic_pipeline.writer.models import ensure_model, publish_model

ALL_PUBLISHED = dg.AssetCheckSpec("every_chunk_has_a_published_stream", asset="ceramic_streams",
                                  description="Every chunk's stream tip is accepted by the node; fails while events are pending.")
NOTHING_REJECTED = dg.AssetCheckSpec("no_rejected_events", asset="ceramic_streams",
                                     description="The node refused no event; refused events are kept with its message.")
ROWS_MATCH = dg.AssetCheckSpec("table_rows_equal_chunks", asset="ceramic_streams_table",
                               description="Each document has exactly one active stream row per chunk.")
DOCUMENTS_INGESTED = dg.AssetCheckSpec(
    "every_document_ingested", asset="ceramic_streams_table",
    description="Every document of the run is ingested (or unchanged); failed ones are listed with their one-line reason.",
)
READ_BACK = dg.AssetCheckSpec("read_back_signatures_verify", asset="ceramic_streams_table",
                              description="Every stream read back from the node: signatures, CIDs, prev chain, content hash.")


@dg.asset(group_name="ceramic", kinds={"ceramic"}, retry_policy=NETWORK_RETRY)
def doclingchunk_model(postgres: PostgresResource, signer: SignerResource, ceramic: CeramicNodeResource) -> dg.MaterializeResult:
    """The DoclingChunk model stream, created once per controller DID and reused."""
    with fail_fast_unless_transient():
        did = signer.signer()
        with ceramic.client() as client:
            model, publish = publish_model(postgres.connect, client, did)
    return dg.MaterializeResult(metadata={"model_id": str(model), "did": did.did, "outbox_pending": publish.pending})


def _work(context: dg.AssetExecutionContext, conn) -> list[str]:
    """The run's documents still in progress (unchanged and failed ones are skipped)."""
    return [d.document_id for d in documents_to_process(conn, list(context.partition_keys))]


@dg.asset(
    deps=[pinned_chunks, doclingchunk_model], partitions_def=documents, backfill_policy=SINGLE_RUN,
    retry_policy=NETWORK_RETRY, group_name="ceramic", kinds={"ceramic", "postgres"}, pool="ceramic",
    check_specs=[ALL_PUBLISHED, NOTHING_REJECTED],
)
def ceramic_streams(
    context: dg.AssetExecutionContext, postgres: PostgresResource, signer: SignerResource, ceramic: CeramicNodeResource,
) -> dg.MaterializeResult:
    """Signed events per chunk (init + content, JSON-patch updates, removals) written to the outbox and published."""
    with fail_fast_unless_transient(context):
        did = signer.signer()
        with postgres.connect() as conn:
            document_ids = _work(context, conn)
            model = ensure_model(conn, did)
        try:
            with ceramic.client() as client:
                report = write_document_streams(postgres.connect, client, did, model, document_ids)
        finally:
            push_metrics(context)
        with postgres.connect() as conn:
            run_documents = [d.document_id for d in known_documents(conn, list(context.partition_keys))]
            counts = checks.run_stream_counts(conn, run_documents, run_started_at(context))
            preview = streams_preview(conn, run_documents)
            missing = checks.unpublished_chunks(conn, [d for d in document_ids if d not in report.failures], did.did)
            rejected = checks.rejected_events(conn)
    return dg.MaterializeResult(
        metadata={
            **counts, "restored_from_archive": report.restored, "outbox_pending": report.publish.pending, "did": did.did, "model_id": str(model),
            "documents_in_run": len(context.partition_keys), "documents_written": len(document_ids) - len(report.failures),
            "failed": len(report.failures), "failures": dg.MetadataValue.json(report.failures),
            "sign_seconds": round(report.sign_seconds, 3), "publish_seconds": round(report.publish_seconds, 3),
            "preview": dg.MetadataValue.md(markdown_table(("document", "chunk", "stream", "version", "tip", "status"), preview)),
        },
        check_results=[
            dg.AssetCheckResult(check_name=ALL_PUBLISHED.name, passed=not missing,
                                metadata={"unpublished": dg.MetadataValue.json(missing), "outbox_pending": report.publish.pending}),
            dg.AssetCheckResult(check_name=NOTHING_REJECTED.name, passed=not rejected,
                                metadata={"rejected": dg.MetadataValue.json([list(r) for r in rejected])}),
        ],
    )


@dg.asset(
    deps=[ceramic_streams], partitions_def=documents, backfill_policy=SINGLE_RUN, retry_policy=NETWORK_RETRY,
    group_name="ceramic", kinds={"postgres"}, check_specs=[ROWS_MATCH, READ_BACK, DOCUMENTS_INGESTED],
)
def ceramic_streams_table(
    context: dg.AssetExecutionContext, postgres: PostgresResource, signer: SignerResource, ceramic: CeramicNodeResource,
) -> dg.MaterializeResult:
    """`ceramic_streams` rows confirmed against the node (read back and verified); joined in `chunks_with_ceramic`.

    A document is marked ingested only when every one of its streams reads back from the node with
    the content we wrote; that is what the inbox sensor skips. A document whose events are still
    pending (node unreachable) stays registered; one whose read-back fails is marked failed.
    """
    with fail_fast_unless_transient(context):
        did = signer.signer().did
        with postgres.connect() as conn, ceramic.client() as client:
            # Tips posted in this run get the tip check; older unverified ones a full walk.
            report = read_back_documents(conn, client, _work(context, conn), did, tips_since=run_started_at(context))
            outcomes = outcomes_for_keys(conn, list(context.partition_keys))
    failed = {o.document_id: o.error for o in outcomes if o.state == "failed"}
    registered = {o.partition_key for o in outcomes}
    failed.update({k: f"{UnknownPartitionError.__name__}: no document file found for this partition"
                   for k in context.partition_keys if k not in registered})
    pending = [o.document_id for o in outcomes if o.state == "registered"]
    return dg.MaterializeResult(
        metadata={
            "verified_streams": report.verified, "documents_ingested": len(report.ingested),
            "documents_pending": len(pending), "documents_failed": len(failed),
        },
        check_results=[
            dg.AssetCheckResult(check_name=ROWS_MATCH.name, passed=not report.mismatched,
                                metadata={"mismatched": dg.MetadataValue.json(report.mismatched)}),
            dg.AssetCheckResult(check_name=READ_BACK.name, passed=not report.failures,
                                metadata={"failures": dg.MetadataValue.json(report.failures[:50]), "verified": report.verified}),
            # The run's documents table sits on this check, not on the materialisation: Dagster
            # copies a range run's materialisation metadata onto every partition's event, so a
            # table of the run's documents there cost the square of the documents per run.
            dg.AssetCheckResult(check_name=DOCUMENTS_INGESTED.name, passed=not failed and not pending,
                                metadata={"failed": dg.MetadataValue.json(failed), "pending": dg.MetadataValue.json(pending),
                                          "documents": dg.MetadataValue.md(outcomes_markdown(outcomes))}),
        ],
    )
