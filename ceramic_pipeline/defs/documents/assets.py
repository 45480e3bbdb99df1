import dagster as dg

from ceramic_pipeline.defs.failures import fail_fast_unless_transient
from ceramic_pipeline.defs.partitions import documents
from ceramic_pipeline.defs.policies import SINGLE_RUN
from ceramic_pipeline.resources import InboxResource, PostgresResource, SignerResource
from ceramic_pipeline.steps.documents import chunk_documents, register_documents
from ceramic_pipeline.storage.documents import documents_to_process


@dg.asset(partitions_def=documents, backfill_policy=SINGLE_RUN, group_name="documents", kinds={"docling", "postgres"})
def docling_documents(
    context: dg.AssetExecutionContext, inbox: InboxResource, postgres: PostgresResource, signer: SignerResource,
) -> dg.MaterializeResult:
    """Inbox files loaded and validated as DoclingDocuments, registered in `documents`.

    A document whose content is already ingested under the active DID is skipped (not even
    loaded); after a key rotation it is written again under the new DID. One that cannot be
    loaded is recorded as failed with its reason, and the run goes on with the others.
    """
    with fail_fast_unless_transient(context):
        did = signer.signer().did
        with postgres.connect() as conn:
            report = register_documents(conn, inbox.folder(), list(context.partition_keys), did)
    return dg.MaterializeResult(
        metadata={
            "documents_in_run": len(context.partition_keys),
            "registered": len(report.registered),
            "unchanged": len(report.unchanged),
            "failed": len(report.failures),
            "failures": dg.MetadataValue.json(report.failures),
        }
    )


@dg.asset(deps=[docling_documents], partitions_def=documents, backfill_policy=SINGLE_RUN, group_name="documents", kinds={"pandas", "postgres"})
def docling_chunks(context: dg.AssetExecutionContext, inbox: InboxResource, postgres: PostgresResource) -> dg.MaterializeResult:
    """Deterministic docling-core chunks (a pandas DataFrame per document), stored in `chunks`."""
    with fail_fast_unless_transient(context), postgres.connect() as conn:
        report = chunk_documents(conn, documents_to_process(conn, list(context.partition_keys)), inbox.chunker_config())
    preview = report.preview.drop(columns=["text"]).head(20) if report.preview is not None else None
    return dg.MaterializeResult(
        metadata={
            "documents_chunked": report.documents,
            "chunks": report.chunks,
            "bytes": report.bytes,
            "failed": len(report.failures),
            "failures": dg.MetadataValue.json(report.failures),
            "preview": dg.MetadataValue.md(preview.to_markdown(index=False) if preview is not None else ""),
        }
    )
