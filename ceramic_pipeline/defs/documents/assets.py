import dagster as dg

from ceramic_pipeline.defs.partitions import documents
from ceramic_pipeline.defs.policies import SINGLE_RUN
from ceramic_pipeline.resources import InboxResource, PostgresResource
from ceramic_pipeline.steps.documents import chunk_into_table, register_document


@dg.asset(partitions_def=documents, backfill_policy=SINGLE_RUN, group_name="documents", kinds={"docling", "postgres"})
def docling_documents(context: dg.AssetExecutionContext, inbox: InboxResource, postgres: PostgresResource) -> dg.MaterializeResult:
    """Inbox files loaded and validated as DoclingDocuments, registered in `documents`."""
    with postgres.connect() as conn:
        registered = [register_document(conn, inbox.folder(), key) for key in context.partition_keys]
    return dg.MaterializeResult(
        metadata={
            "documents": len(registered),
            "document_ids": dg.MetadataValue.json([d.document_id for d in registered][:100]),
        }
    )


@dg.asset(deps=[docling_documents], partitions_def=documents, backfill_policy=SINGLE_RUN, group_name="documents", kinds={"pandas", "postgres"})
def docling_chunks(context: dg.AssetExecutionContext, inbox: InboxResource, postgres: PostgresResource) -> dg.MaterializeResult:
    """Deterministic docling-core chunks (a pandas DataFrame per document), stored in `chunks`."""
    frames = []
    with postgres.connect() as conn:
        for key in context.partition_keys:
            _document_id, frame = chunk_into_table(conn, inbox.folder(), key, inbox.chunker_config())
            frames.append(frame)
    preview = frames[0].drop(columns=["text"], errors="ignore").head(20) if frames else None
    return dg.MaterializeResult(
        metadata={
            "chunks": sum(len(f) for f in frames),
            "bytes": int(sum(f["byte_length"].sum() for f in frames)) if frames else 0,
            "preview": dg.MetadataValue.md(preview.to_markdown(index=False) if preview is not None else ""),
        }
    )
