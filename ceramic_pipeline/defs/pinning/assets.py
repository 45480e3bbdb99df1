import dagster as dg

from ceramic_pipeline.defs.documents.assets import docling_chunks
from ceramic_pipeline.defs.failures import fail_fast_unless_transient
from ceramic_pipeline.defs.observability import push_metrics
from ceramic_pipeline.defs.partitions import documents
from ceramic_pipeline.defs.policies import NETWORK_RETRY, SINGLE_RUN
from ceramic_pipeline.resources import PinningResource, PostgresResource
from ceramic_pipeline.steps.pins import pin_documents
from ceramic_pipeline.storage.documents import documents_to_process

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
    try:
        with fail_fast_unless_transient(context), postgres.connect() as conn:
            service = pinning.service()
            report = pin_documents(conn, service, documents_to_process(conn, list(context.partition_keys)), pinning.threshold_bytes)
    finally:
        push_metrics(context)  # pin failures count even when the step fails
    totals = report.totals
    return dg.MaterializeResult(
        metadata={
            "pinned": totals.pinned, "already_pinned": totals.already_pinned, "inline": totals.inline,
            "service": service.name, "threshold_bytes": pinning.threshold_bytes,
            "failed": len(report.failures), "failures": dg.MetadataValue.json(report.failures),
        },
        check_results=[
            dg.AssetCheckResult(check_name=CIDS_RECOMPUTE.name, passed=not report.mismatches,
                                metadata={"mismatches": dg.MetadataValue.json(report.mismatches[:50])})
        ],
    )
