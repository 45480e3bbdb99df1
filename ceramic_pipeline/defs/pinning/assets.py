import dagster as dg

from ceramic_pipeline.defs.documents.assets import docling_chunks
from ceramic_pipeline.defs.partitions import documents
from ceramic_pipeline.defs.policies import NETWORK_RETRY, SINGLE_RUN
from ceramic_pipeline.resources import InboxResource, PinningResource, PostgresResource
from ceramic_pipeline.steps.documents import find_document
from ceramic_pipeline.steps.pins import pin_large_chunks, unverifiable_pins

CIDS_RECOMPUTE = dg.AssetCheckSpec(
    "pinned_cids_recompute", asset="pinned_chunks",
    description="Every recorded CID equals the CID recomputed locally from the chunk text.",
)


@dg.asset(
    deps=[docling_chunks], partitions_def=documents, backfill_policy=SINGLE_RUN, retry_policy=NETWORK_RETRY,
    group_name="pinning", kinds={"ipfs"}, pool="ipfs", check_specs=[CIDS_RECOMPUTE],
)
def pinned_chunks(
    context: dg.AssetExecutionContext, inbox: InboxResource, postgres: PostgresResource, pinning: PinningResource
) -> dg.MaterializeResult:
    """Chunks of PIN_THRESHOLD_BYTES or more, pinned to IPFS; the CID is computed locally and checked."""
    service = pinning.service()
    totals = {"pinned": 0, "already_pinned": 0, "inline": 0}
    mismatches: list[str] = []
    with postgres.connect() as conn:
        for key in context.partition_keys:
            document_id = find_document(inbox.folder(), key).document_id
            report = pin_large_chunks(conn, service, document_id, pinning.threshold_bytes)
            for name in totals:
                totals[name] += getattr(report, name)
            mismatches += unverifiable_pins(conn, document_id)
    return dg.MaterializeResult(
        metadata={**totals, "service": service.name, "threshold_bytes": pinning.threshold_bytes},
        check_results=[
            dg.AssetCheckResult(check_name=CIDS_RECOMPUTE.name, passed=not mismatches,
                                metadata={"mismatches": dg.MetadataValue.json(mismatches[:50])})
        ],
    )
