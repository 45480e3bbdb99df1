"""Dagster definitions, one folder per domain; nothing here touches bytes."""
import dagster as dg

from ceramic_pipeline.defs.executors import executor_from_env

# The whole chain, many documents (a partition range) per run. The unpartitioned
# doclingchunk_model rides along so the model is materialised by the normal flow; it is a no-op
# once the model exists. Steps run in one process by default: a fresh interpreter per step
# cost ~8 s of imports each (5 steps) for seconds of work (see defs/executors.py).
ingest_documents = dg.define_asset_job(
    "ingest_documents",
    selection=dg.AssetSelection.groups("documents", "pinning", "ceramic"),
    tags={"ceramic/kind": "ingest"},
    executor_def=executor_from_env(),
)
