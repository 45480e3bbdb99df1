"""Real parts for the Dagster-layer tests: a fresh migrated PostgreSQL database, an in-process
devnode on a loopback port, an inbox holding copies of the samples, a temporary Dagster instance.

Secrets (DATABASE_URL, AGENT_DID_SEED_BASE64) are set in os.environ as well, because the
resources read them through dg.EnvVar when a run launches.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from ceramic_pipeline.devnode.runner import DevNode
from ceramic_pipeline.resources import resources_from_env
from ceramic_pipeline.samples import sample_documents_dir
from ceramic_pipeline_tests.defs.pipeline import fresh_seed_base64


@pytest.fixture
def devnode(node: DevNode) -> DevNode:
    return node


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    shutil.copytree(sample_documents_dir(), folder)
    return folder


@pytest.fixture
def pipeline_env(monkeypatch, tmp_path: Path, migrated_pg_url: str, devnode: DevNode, inbox: Path) -> dict[str, str]:
    env = {
        "CERAMIC_PIPELINE_DATA": str(tmp_path / "data"),
        "DATABASE_URL": migrated_pg_url,
        "CERAMIC_URL": devnode.url,
        "DOCLING_INBOX": str(inbox),
        "AGENT_DID_SEED_BASE64": fresh_seed_base64(),
    }
    for name in ("DATABASE_URL", "AGENT_DID_SEED_BASE64"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.delenv("IPFS_PINNING_SERVICE", raising=False)  # the embedded blockstore under the data dir
    return env


@pytest.fixture
def resources(pipeline_env: dict[str, str]) -> dict:
    return resources_from_env(pipeline_env)


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.DagsterInstance.local_temp(str(home)) as inst:
        yield inst
