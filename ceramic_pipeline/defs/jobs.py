import dagster as dg

# The per-document chain (partitioned by `documents`, inferred from the assets); doclingchunk_model is
# unpartitioned and ceramic_streams ensures it anyway.
ingest_documents = dg.define_asset_job(
    "ingest_documents",
    selection=dg.AssetSelection.groups("documents", "pinning", "ceramic") - dg.AssetSelection.assets("doclingchunk_model"),
    tags={"ceramic/kind": "ingest"},
)
