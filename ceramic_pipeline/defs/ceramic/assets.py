import dagster as dg

from ceramic_pipeline.defs.partitions import documents
from ceramic_pipeline.defs.pinning.assets import pinned_chunks
from ceramic_pipeline.defs.policies import NETWORK_RETRY, SINGLE_RUN
from ceramic_pipeline.defs.observability import push_metrics
from ceramic_pipeline.resources import CeramicNodeResource, PostgresResource, SignerResource
from ceramic_pipeline.steps.readback import verify_document_streams
from ceramic_pipeline.steps.streams import write_document_streams
from ceramic_pipeline.storage import checks
from ceramic_pipeline.storage.documents import documents_for_keys, mark_ingested
from ceramic_pipeline.writer.models import ensure_model, publish_model

ALL_PUBLISHED = dg.AssetCheckSpec("every_chunk_has_a_published_stream", asset="ceramic_streams")
NOTHING_REJECTED = dg.AssetCheckSpec("no_rejected_events", asset="ceramic_streams",
                                     description="The node refused no event; refused events are kept with its message.")
ROWS_MATCH = dg.AssetCheckSpec("table_rows_equal_chunks", asset="ceramic_streams_table")
READ_BACK = dg.AssetCheckSpec("read_back_signatures_verify", asset="ceramic_streams_table",
                              description="Every stream read back from the node: signatures, CIDs, prev chain, content hash.")


@dg.asset(group_name="ceramic", kinds={"ceramic"}, retry_policy=NETWORK_RETRY)
def doclingchunk_model(postgres: PostgresResource, signer: SignerResource, ceramic: CeramicNodeResource) -> dg.MaterializeResult:
    """The DoclingChunk model stream, created once per controller DID and reused."""
    did = signer.signer()
    with ceramic.client() as client:
        model, publish = publish_model(postgres.connect, client, did)
    return dg.MaterializeResult(metadata={"model_id": str(model), "did": did.did, "outbox_pending": publish.pending})


def _document_ids(context: dg.AssetExecutionContext, postgres: PostgresResource) -> list[str]:
    with postgres.connect() as conn:
        return [d.document_id for d in documents_for_keys(conn, list(context.partition_keys))]


@dg.asset(
    deps=[pinned_chunks, doclingchunk_model], partitions_def=documents, backfill_policy=SINGLE_RUN,
    retry_policy=NETWORK_RETRY, group_name="ceramic", kinds={"ceramic", "postgres"}, pool="ceramic",
    check_specs=[ALL_PUBLISHED, NOTHING_REJECTED],
)
def ceramic_streams(
    context: dg.AssetExecutionContext, postgres: PostgresResource, signer: SignerResource, ceramic: CeramicNodeResource,
) -> dg.MaterializeResult:
    """Signed events per chunk (init + content, JSON-patch updates, removals) written to the outbox and published."""
    did = signer.signer()
    document_ids = _document_ids(context, postgres)
    with postgres.connect() as conn:
        model = ensure_model(conn, did)
    try:
        with ceramic.client() as client:
            report = write_document_streams(postgres.connect, client, did, model, document_ids)
    finally:
        push_metrics(context)
    with postgres.connect() as conn:
        unpublished = {d: checks.chunks_without_published_stream(conn, d, did.did) for d in document_ids}
        rejected = checks.rejected_events(conn)
    missing = {d: idx for d, idx in unpublished.items() if idx}
    return dg.MaterializeResult(
        metadata={
            "created": report.changes["created"], "updated": report.changes["updated"],
            "removed": report.changes["removed"], "unchanged": report.changes["unchanged"],
            "restored_from_archive": report.restored,
            "events": report.events, "published": report.publish.published,
            "outbox_pending": report.publish.pending, "did": did.did, "model_id": str(model),
            "documents_in_run": len(document_ids),
            "sign_seconds": round(report.sign_seconds, 3), "publish_seconds": round(report.publish_seconds, 3),
        },
        check_results=[
            dg.AssetCheckResult(check_name=ALL_PUBLISHED.name, passed=not missing,
                                metadata={"unpublished": dg.MetadataValue.json(missing)}),
            dg.AssetCheckResult(check_name=NOTHING_REJECTED.name, passed=not rejected,
                                metadata={"rejected": dg.MetadataValue.json([list(r) for r in rejected])}),
        ],
    )


@dg.asset(
    deps=[ceramic_streams], partitions_def=documents, backfill_policy=SINGLE_RUN, retry_policy=NETWORK_RETRY,
    group_name="ceramic", kinds={"postgres"}, check_specs=[ROWS_MATCH, READ_BACK],
)
def ceramic_streams_table(
    context: dg.AssetExecutionContext, postgres: PostgresResource, signer: SignerResource, ceramic: CeramicNodeResource,
) -> dg.MaterializeResult:
    """`ceramic_streams` rows confirmed against the node (read back and verified); joined in `chunks_with_ceramic`.

    Documents whose streams all verify are marked ingested, which is what the inbox sensor skips.
    """
    did = signer.signer().did
    verified, failures, mismatched, ingested = 0, [], {}, []
    with postgres.connect() as conn, ceramic.client() as client:
        for document_id in _document_ids(context, postgres):
            report = verify_document_streams(conn, client, document_id, did)
            verified += report.verified
            failures += report.failures
            rows, chunks = checks.active_stream_count(conn, document_id, did), checks.chunk_count(conn, document_id)
            if rows != chunks:
                mismatched[document_id] = {"rows": rows, "chunks": chunks}
            elif not report.failures:
                ingested.append(document_id)
        mark_ingested(conn, ingested)
    return dg.MaterializeResult(
        metadata={"verified_streams": verified, "failures": len(failures), "documents_ingested": len(ingested)},
        check_results=[
            dg.AssetCheckResult(check_name=ROWS_MATCH.name, passed=not mismatched,
                                metadata={"mismatched": dg.MetadataValue.json(mismatched)}),
            dg.AssetCheckResult(check_name=READ_BACK.name, passed=not failures,
                                metadata={"failures": dg.MetadataValue.json(failures[:50]), "verified": verified}),
        ],
    )
