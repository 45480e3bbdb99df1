import dagster as dg

from ceramic_pipeline.defs.documents.assets import docling_chunks
from ceramic_pipeline.defs.observability import push_metrics
from ceramic_pipeline.defs.partitions import documents
from ceramic_pipeline.defs.policies import NETWORK_RETRY, SINGLE_RUN
from ceramic_pipeline.resources import PinningResource, PostgresResource
from ceramic_pipeline.steps.pins import pin_large_chunks, unverifiable_pins
from ceramic_pipeline.storage.documents import documents_for_keys

CIDS_RECOMPUTE = dg.AssetCheckSpec(
    "pinned_cids_recompute", asset="pinned_chunks",
    description="Every recorded CID equals the CID recomputed locally from the chunk text.",
)


@dg.asset(
    deps=[docling_chunks], partitions_def=documents, backfill_policy=SINGLE_RUN, retry_policy=NETWORK_RETRY,
    group_name="pinning", kinds={"ipfs"}, pool="ipfs", check_specs=[CIDS_RECOMPUTE],
)
def pinned_chunks(context: dg.AssetExecutionContext, postgres: PostgresResource, pinning: PinningResource) -> dg.MaterializeResult:
    """Chunks of PIN_THRESHOLD_BYTES or more, pinned to IPFS; the CID is computed locally and checked."""
    service = pinning.service()
    totals = {"pinned": 0, "already_pinned": 0, "inline": 0}
    mismatches: list[str] = []
    try:
        with postgres.connect() as conn:
            for doc in documents_for_keys(conn, list(context.partition_keys)):
                report = pin_large_chunks(conn, service, doc.document_id, pinning.threshold_bytes)
                for name in totals:
                    totals[name] += getattr(report, name)
                mismatches += unverifiable_pins(conn, doc.document_id)
    finally:
        push_metrics(context)  # pin failures count even when the step fails
    return dg.MaterializeResult(
        metadata={**totals, "service": service.name, "threshold_bytes": pinning.threshold_bytes},
        check_results=[
            dg.AssetCheckResult(check_name=CIDS_RECOMPUTE.name, passed=not mismatches,
                                metadata={"mismatches": dg.MetadataValue.json(mismatches[:50])})
        ],
    )
