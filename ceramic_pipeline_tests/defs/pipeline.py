"""Helpers shared by the Dagster-layer tests: the project's definitions bound to test resources,
partition keys of inbox files, and reading what a run recorded."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import dagster as dg
import psycopg

from ceramic_pipeline.definitions import defs
from ceramic_pipeline.documents.identity import document_id, partition_key

PARTITIONED_ASSETS = ("docling_documents", "docling_chunks", "pinned_chunks", "ceramic_streams", "ceramic_streams_table")


def fresh_seed_base64() -> str:
    """A random agent seed generated for one test (never a fixed value)."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def definitions_with(resources: dict) -> dg.Definitions:
    """The project's definitions, unchanged, bound to the given resources instead of the import-time ones."""
    return dg.Definitions(assets=defs.assets, jobs=defs.jobs, sensors=defs.sensors, schedules=defs.schedules, resources=resources)


def key_of(path: Path, inbox: Path) -> str:
    return partition_key(document_id(path, inbox))


def inbox_keys(inbox: Path) -> list[str]:
    return [key_of(p, inbox) for p in sorted(inbox.rglob("*.json"))]


def partitioned_assets() -> list[dg.AssetsDefinition]:
    return [defs.get_assets_def(name) for name in PARTITIONED_ASSETS]


def materialize_partition(key: str, instance: dg.DagsterInstance, resources: dict) -> dg.ExecuteInProcessResult:
    return dg.materialize(partitioned_assets(), partition_key=key, instance=instance, resources=resources)


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    [event] = result.asset_materializations_for_node(asset)
    return {name: value.value for name, value in event.metadata.items()}


def check_outcomes(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def table_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("documents", "chunks", "ceramic_streams", "ceramic_events")
        }
