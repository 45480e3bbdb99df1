import dagster as dg

from ceramic_pipeline.defs.partitions import documents
from ceramic_pipeline.defs.policies import SINGLE_RUN
from ceramic_pipeline.resources import InboxResource, PostgresResource
from ceramic_pipeline.steps.documents import chunk_into_table, register_documents
from ceramic_pipeline.storage.documents import documents_for_keys


@dg.asset(partitions_def=documents, backfill_policy=SINGLE_RUN, group_name="documents", kinds={"docling", "postgres"})
def docling_documents(context: dg.AssetExecutionContext, inbox: InboxResource, postgres: PostgresResource) -> dg.MaterializeResult:
    """Inbox files loaded and validated as DoclingDocuments, registered in `documents`."""
    with postgres.connect() as conn:
        registered = register_documents(conn, inbox.folder(), list(context.partition_keys))
    return dg.MaterializeResult(
        metadata={
            "documents_in_run": len(registered),
            "document_ids": dg.MetadataValue.json([d.document_id for d in registered][:100]),
        }
    )


@dg.asset(deps=[docling_documents], partitions_def=documents, backfill_policy=SINGLE_RUN, group_name="documents", kinds={"pandas", "postgres"})
def docling_chunks(context: dg.AssetExecutionContext, inbox: InboxResource, postgres: PostgresResource) -> dg.MaterializeResult:
    """Deterministic docling-core chunks (a pandas DataFrame per document), stored in `chunks`."""
    with postgres.connect() as conn:
        frames = [chunk_into_table(conn, doc, inbox.chunker_config()) for doc in documents_for_keys(conn, list(context.partition_keys))]
    preview = frames[0].drop(columns=["text"]).head(20) if frames else None
    return dg.MaterializeResult(
        metadata={
            "documents_in_run": len(frames),
            "chunks": sum(len(f) for f in frames),
            "bytes": int(sum(f["byte_length"].sum() for f in frames)),
            "preview": dg.MetadataValue.md(preview.to_markdown(index=False) if preview is not None else ""),
        }
    )
