"""Headless ingestion: materialise the pipeline's assets in-process for given files or folders.

Uses the Dagster instance of DAGSTER_HOME when set (runs then show in the UI), otherwise a
temporary one; resources come from the same environment as the UI's.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import dagster as dg

from ceramic_pipeline.documents import partition_key, resolve_inputs
from ceramic_pipeline.resources import InboxResource, resources_from_env
from ceramic_pipeline.steps.documents import record_sources

PARTITIONED = ("docling_documents", "docling_chunks", "pinned_chunks", "ceramic_streams", "ceramic_streams_table")


def ingest(paths: list[Path], environ: dict[str, str] | None = None) -> dict[str, Any]:
    from ceramic_pipeline.definitions import defs

    resources = resources_from_env(environ)
    assets = [defs.get_assets_def(name) for name in ("doclingchunk_model", *PARTITIONED)]
    totals: Counter = Counter()
    # Ids by documents.identity for the configured inbox; a bad input is one failure line.
    documents, failures = resolve_inputs(paths, resources["inbox"].path)
    with ExitStack() as stack:
        instance = _instance(stack)
        dg.materialize([assets[0]], instance=instance, resources=resources)
        run_resources = {**resources, "inbox": InboxResource(**{**resources["inbox"].model_dump(), "seed_samples": False})}
        with resources["postgres"].process_config_and_initialize().connect() as conn:
            record_sources(conn, documents)  # so the run finds files outside the inbox by partition key
        for doc_id, path in documents:
            key = partition_key(doc_id)
            instance.add_dynamic_partitions("documents", [key])
            result = dg.materialize(assets[1:], partition_key=key, instance=instance, resources=run_resources, raise_on_error=False)
            if not result.success:
                failures.append(f"{doc_id}: {_failure(result)}")
                continue
            totals["documents"] += 1
            for name, fields in (("docling_chunks", ("chunks",)), ("pinned_chunks", ("pinned", "already_pinned")),
                                 ("ceramic_streams", ("created", "updated", "removed", "unchanged", "events", "outbox_pending"))):
                totals.update(_metadata(result, name, fields))
    summary: dict[str, Any] = {
        "documents": totals["documents"], "chunks": totals["chunks"],
        "streams_created": totals["created"], "streams_updated": totals["updated"],
        "streams_removed": totals["removed"], "streams_unchanged": totals["unchanged"],
        "events": totals["events"], "pins": totals["pinned"] + totals["already_pinned"],
        "outbox_pending": totals["outbox_pending"], "failed": len(failures),
    }
    if failures:
        summary["failures"] = failures
    return summary


def _instance(stack: ExitStack) -> dg.DagsterInstance:
    if os.environ.get("DAGSTER_HOME"):
        return stack.enter_context(dg.DagsterInstance.get())
    return stack.enter_context(dg.DagsterInstance.local_temp(tempfile.mkdtemp(prefix="ceramic-ingest-")))


def _metadata(result: dg.ExecuteInProcessResult, asset: str, fields: tuple[str, ...]) -> Counter:
    counts: Counter = Counter()
    for event in result.asset_materializations_for_node(asset):
        for field in fields:
            value = event.metadata.get(field)
            if value is not None and isinstance(value.value, int):
                counts[field] += value.value
    return counts


def _failure(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            return event.step_failure_data.error.message.strip().splitlines()[-1]
    return "run failed"
