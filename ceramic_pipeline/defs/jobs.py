import dagster as dg

from ceramic_pipeline.defs.partitions import documents

# The per-document chain; doclingchunk_model is unpartitioned and ceramic_streams ensures it anyway.
ingest_documents = dg.define_asset_job(
    "ingest_documents",
    selection=dg.AssetSelection.groups("documents", "pinning", "ceramic") - dg.AssetSelection.assets("doclingchunk_model"),
    partitions_def=documents,
    tags={"ceramic/kind": "ingest"},
)
