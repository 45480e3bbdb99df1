"""The definitions load (in-process and through the dagster CLI) and have the shape the pipeline relies on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from ceramic_pipeline.defs.executors import executor_from_env
import pytest

from ceramic_pipeline.definitions import defs
from ceramic_pipeline.resources import resources_from_env
from ceramic_pipeline.settings import ConfigError
from ceramic_pipeline_tests.defs.pipeline import PARTITIONED_ASSETS

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_definitions_validate_loadable():
    dg.Definitions.validate_loadable(defs)


def test_dagster_cli_validates_the_code_location(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ceramic_pipeline" in result.stdout + result.stderr


def test_every_partitioned_asset_backfills_in_a_single_run():
    for name in PARTITIONED_ASSETS:
        asset = defs.get_assets_def(name)
        assert asset.partitions_def.name == "documents", name
        assert asset.backfill_policy == dg.BackfillPolicy.single_run(), name


def test_ingest_job_covers_the_chain_and_the_model_in_one_process():
    job = defs.resolve_job_def("ingest_documents")
    keys = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    assert keys == {*PARTITIONED_ASSETS, "doclingchunk_model"}  # the model materialises in the normal flow
    assert job.partitions_def.name == "documents"
    assert job.executor_def.name == "in_process"


def test_the_executor_is_chosen_by_configuration():
    assert executor_from_env({}).name == "in_process"
    assert executor_from_env({"DAGSTER_EXECUTOR": "multiprocess"}).name == "multiprocess"
    assert executor_from_env({"DAGSTER_EXECUTOR": "k8s"}).name == "k8s"
    with pytest.raises(ValueError, match="DAGSTER_EXECUTOR"):
        executor_from_env({"DAGSTER_EXECUTOR": "threads"})


def test_checks_are_declared_on_their_assets():
    checks = {(key.asset_key.to_user_string(), key.name) for key in defs.resolve_asset_graph().asset_check_keys}
    assert checks == {
        ("pinned_chunks", "pinned_cids_recompute"),
        ("ceramic_streams", "every_chunk_has_a_published_stream"),
        ("ceramic_streams", "no_rejected_events"),
        ("ceramic_streams_table", "table_rows_equal_chunks"),
        ("ceramic_streams_table", "read_back_signatures_verify"),
        ("ceramic_streams_table", "every_document_ingested"),
        ("postgres_backup", "restore_drill"),
        *(("pipeline_dependencies", name) for name in ("ceramic_node", "postgresql", "pinning", "outbox")),
    }


def test_every_check_has_a_description():
    graph = defs.resolve_asset_graph()
    missing = [key.to_user_string() for key in graph.asset_check_keys if not (graph.get_check_spec(key).description or "").strip()]
    assert graph.asset_check_keys and missing == []  # the UI shows it on each check's page (issue 12)


def test_an_explicit_secret_the_runs_cannot_see_is_refused(monkeypatch, tmp_path):
    # dg.EnvVar reads os.environ at launch: a different value in the mapping would be ignored silently.
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        resources_from_env({"CERAMIC_PIPELINE_DATA": str(tmp_path), "DATABASE_URL": "postgresql://nowhere/db"})
    monkeypatch.setenv("DATABASE_URL", "postgresql://nowhere/db")
    built = resources_from_env({"CERAMIC_PIPELINE_DATA": str(tmp_path), "DATABASE_URL": "postgresql://nowhere/db"})
    assert built["postgres"].model_dump()["database_url"] == "DATABASE_URL"  # an EnvVar, not the value
